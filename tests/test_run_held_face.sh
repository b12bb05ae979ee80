#!/usr/bin/env bash
# Live mode, a face that disappears (issue 12): the tracker holds it at its
# last place for track.hold_ms. A hold older than privacy.max_result_age_ms
# is not a late analysis: the held face is masked at its last place, grown by
# how far it could have moved, and the whole frame is covered only when the
# frame's own analysis is late. Checks, from the audit log:
#   - frames whose held face was last seen more than the limit ago are
#     written "masked" with that face held (before: every one was covered
#     whole as a stale result);
#   - every frame covered as a stale result was itself analysed late (its
#     own result older than the limit in wall time);
#   - every input frame is written, and `ptim verify` finds no face.
set -u
: "${PTIM_BIN:?}" "${PTIM_SAMPLES_DIR:?}" "${PTIM_TEST_TMP:?}"
for tool in ffmpeg jq; do command -v $tool >/dev/null || { echo "$tool is needed"; exit 1; }; done
T=$(mktemp -d "$PTIM_TEST_TMP/held_face.XXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# 1.5 s of the astronaut drifting slowly, 1 s of an empty grey picture (the
# face is lost and held), 1 s of the face again; 30 fps, 448x448.
# Under a sanitizer a frame's analysis takes ~230 ms (ASan's -O0 build), and
# beside another test on the second core a live run evicted 80 of 105
# frames: there the clip runs at 4 fps with a 4 s gap, a 4 s hold and a
# 1.5 s limit, the same situation slowed down to what that build keeps up
# with.
FPS=30 A=45 GAP=1 B=30 HOLD=1000 LIMIT=400 MIN_HELD=8
slow_pace() { FPS=4 A=8 GAP=4 B=4 HOLD=4000 LIMIT=1500 MIN_HELD=3; }
if grep -qE 'lib[at]san' <<<"$(ldd "$PTIM_BIN" 2>/dev/null)"; then
  slow_pace
fi
run_clip() {
  ffmpeg -nostdin -v error -y -loop 1 -i "$PTIM_SAMPLES_DIR/astronaut.png" \
      -f lavfi -i "color=c=gray:s=448x448:r=$FPS:d=$GAP" -loop 1 -i "$PTIM_SAMPLES_DIR/astronaut.png" \
      -filter_complex "[0]crop=448:448:'32+8*sin(n/9)':'32+6*cos(n/7)',fps=$FPS,trim=end_frame=$A,setsar=1,format=yuv420p[a];\
[1]format=yuv420p,setsar=1[g];\
[2]crop=448:448:'32+8*cos(n/9)':'32+6*sin(n/7)',fps=$FPS,trim=end_frame=$B,setsar=1,format=yuv420p[b];\
[a][g][b]concat=n=3:v=1:a=0[v]" \
      -map "[v]" -c:v libx264 -preset veryfast -crf 18 "$T/in.mkv" || { echo "cannot make the clip"; exit 1; }
  NIN=$((A + GAP * FPS + B))
  rm -f "$T/audit.jsonl" "$T/stats.json"
  timeout 120 "$PTIM_BIN" run -q -i "$T/in.mkv" -o "$T/out.mkv" -y --userdata-dir "$T/user" \
      --audit "$T/audit.jsonl" --stats-json "$T/stats.json" \
      --set source.realtime=true --set track.hold_ms=$HOLD \
      --set privacy.max_result_age_ms=$LIMIT --set privacy.on_failure=blur_frame \
      >"$T/stdout" 2>"$T/stderr"
  rc=$?
}
run_clip
# The situation under test needs a machine that keeps up with 30 fps. Beside
# another heavy test on a loaded 2-core machine a run lost 28 of 105 frames
# over the rate cap and the analysis gap restarted the tracker, so no face was
# ever held: then the same situation runs again, slowed down as under a
# sanitizer, and that run is judged.
lost=$(( $(jq '.frames.dropped.rate_cap + .frames.dropped.stale_live' "$T/stats.json" 2>/dev/null || echo 0) ))
if [ "$FPS" = 30 ] && [ "$lost" -gt $((NIN / 10)) ]; then
  echo "the machine did not keep up ($lost of $NIN frames dropped): running it again at 4 fps"
  slow_pace
  run_clip
fi
[ $rc -eq 0 ] || fail "ptim run exited $rc: $(grep -v '^\[' "$T/stderr" | tail -2 | tr '\n' ' ')"
[ -s "$T/audit.jsonl" ] && [ -s "$T/stats.json" ] || { fail "no audit log or stats"; exit 1; }
jq -e '.mode == "live"' "$T/stats.json" >/dev/null || fail "not a live run"

lines=$(wc -l <"$T/audit.jsonl")
dropped=$(jq -c 'select(.guard == "dropped")' "$T/audit.jsonl" | wc -l)
# a live pipeline may drop frames on a loaded machine (under ASan about half):
# one over the rate cap before it counts as in, one a live queue evicts after;
# both are counted and never written, so they have no audit line
evicted=$(jq '.frames.dropped.stale_live' "$T/stats.json")
capped=$(jq '.frames.dropped.rate_cap' "$T/stats.json")
fin=$(jq '.frames.in' "$T/stats.json")
[ $((fin + capped)) -eq $NIN ] && [ $((lines + evicted)) -eq "$fin" ] ||
  fail "the audit has $lines lines, $evicted frames were evicted and $capped capped, for $fin frames in of $NIN ($(jq -c .frames "$T/stats.json"))"

# Per frame: how long ago its held faces were last seen (ms of media time),
# from the audit's own history of each id.
jq -s -c --argjson l $LIMIT '
  reduce .[] as $f ({seen: {}, out: []};
    .seen as $s
    | ([$f.faces[]? | select(.state == "held") | ($f.time - ($s[(.id | tostring)] // $f.time)) * 1000]
       | max // -1) as $held_for
    | .out += [{frame: $f.frame, guard: $f.guard, reason: $f.reason, held_for: $held_for,
                wall: $f.result_wall_age_ms}]
    | .seen = ($s + ([$f.faces[]? | select(.state != "held" and .id > 0)
                      | {key: (.id | tostring), value: $f.time}] | from_entries)))
  | .out[]' "$T/audit.jsonl" >"$T/frames.jsonl"
held_long=$(jq -c --argjson l $LIMIT 'select(.guard == "masked" and .held_for > $l)' "$T/frames.jsonl" | wc -l)
[ "$held_long" -ge $MIN_HELD ] ||
  fail "only $held_long frames masked with a face held past ${LIMIT} ms (wanted $MIN_HELD; the gap gives ~$(( (GAP * 1000 - LIMIT) * FPS / 1000 )))"
stale=$(jq -c 'select(.reason == "stale_result")' "$T/frames.jsonl" | wc -l)
not_late=$(jq -c --argjson l $LIMIT 'select(.reason == "stale_result" and (.wall // 0) <= $l)' "$T/frames.jsonl" | head -3)
[ -z "$not_late" ] || fail "covered as stale while the frame's own analysis was on time: $not_late"

"$PTIM_BIN" verify --report "$T/verify.json" "$T/in.mkv" "$T/out.mkv" >"$T/verify.txt" 2>&1 ||
  fail "verify: $(grep LEAK "$T/verify.txt" | head -3 | tr '\n' ' ')$(tail -1 "$T/verify.txt")"

echo "live, held face: $lines frames, $held_long masked with a face held past ${LIMIT} ms," \
  "$stale covered as stale (analysis late), $dropped dropped, $evicted evicted, $capped over the rate cap"
[ $fails -eq 0 ] && echo "held face: all passed" || echo "held face: $fails failed"
exit $((fails > 0))
