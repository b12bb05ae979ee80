# tests/test_frame_numbers.sh — one frame numbering everywhere (issue 16):
# `ptim verify`, the audit log of `ptim mask` and `ptim detect` number the
# frames of a video from 0 (the first decoded frame is frame 0) and give the
# same time for the same frame. A face that appears on frame 3 of a clip
# written unmasked (--mode none) must be reported on frames 3-7 by all three.
. "$(dirname "$0")/pipeline_helpers.sh"

# 8 frames at 25 fps: grey on frames 0-2, the astronaut from frame 3 on.
ffmpeg -v error -y -f lavfi -i color=gray:s=320x320:r=25 -loop 1 -i "$S/astronaut.png" \
  -filter_complex "[1:v]scale=320:320[a];[0:v][a]overlay=enable='gte(n,3)',format=yuv420p" \
  -frames:v 8 -c:v mpeg4 -q:v 3 "$T/in.mp4"
expect_status 0 "$PTIM_BIN" mask "$T/in.mp4" -o "$T/out.mp4" --mode none --audit "$T/audit.jsonl" -q ||
  true
status=0
"$PTIM_BIN" verify "$T/in.mp4" "$T/out.mp4" --report "$T/verify.json" > "$T/verify.txt" || status=$?
[ "$status" = 1 ] || fail "verify of an unmasked copy: exit $status, wanted 1"
"$PTIM_BIN" detect "$T/out.mp4" --json > "$T/detect.jsonl"

audit=$(jq -c 'select(.faces | length > 0) | .frame' "$T/audit.jsonl" | tr '\n' ' ')
detect=$(jq -c 'select(.faces | length > 0) | .frame' "$T/detect.jsonl" | tr '\n' ' ')
verify=$(jq -c '.leaks[] | .frame' "$T/verify.json" | tr '\n' ' ')
[ "$audit" = "3 4 5 6 7 " ] || fail "audit: frames with a face '$audit', wanted '3 4 5 6 7 '"
[ "$detect" = "3 4 5 6 7 " ] || fail "detect: frames with a face '$detect', wanted '3 4 5 6 7 '"
[ "$verify" = "3 4 5 6 7 " ] || fail "verify: leaked frames '$verify', wanted '3 4 5 6 7 '"
grep -q "^LEAK 0:00.12-0:00.28, frames 3-7 (5 frames)" "$T/verify.txt" ||
  fail "verify text: $(head -1 "$T/verify.txt")"
# The same frame has the same time in all three (seconds, to the millisecond).
a_t=$(jq -r 'select(.frame == 3) | .time * 1000 | round' "$T/audit.jsonl")
d_t=$(jq -r 'select(.frame == 3) | .pts_ms' "$T/detect.jsonl")
v_t=$(jq -r '.leaks[] | select(.frame == 3) | .time * 1000 | round' "$T/verify.json")
[ "$a_t" = 120 ] && [ "$d_t" = 120 ] && [ "$v_t" = 120 ] ||
  fail "frame 3's time: audit $a_t ms, detect $d_t ms, verify $v_t ms, wanted 120"
pass "verify, audit and detect number frames from 0 and agree (face on frames 3-7)"
finish
