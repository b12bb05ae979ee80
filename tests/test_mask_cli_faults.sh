#!/usr/bin/env bash
# ptim mask on bad input and failing output: a clear sentence, the right exit
# status, no file under the final name after a failure, and never a frame
# written unmasked.
source "$(dirname "$0")/pipeline_helpers.sh"

CLIP=$(clip720)
FAST=$CLIPS/clip720_faststart.mp4 # index first: damage in the payload leaves the frame table intact
[ -s "$FAST" ] || ffmpeg -v error -y -i "$CLIP" -c copy -movflags +faststart "$FAST"

no_output() { # NAME: neither NAME nor NAME.partial exists
  [ ! -e "$1" ] || fail "$1 exists after a failure"
  [ ! -e "$1.partial" ] || fail "$1.partial left behind"
}
says() { grep -q -- "$1" "$T/err" || fail "message lacks '$1': $(cat "$T/err")"; }

# Truncated AVI: the header promises 270 frames, about 100 are there.
head -c 500000 "$S/Megamind.avi" > "$T/trunc.avi"
expect_status 1 ptim mask -q "$T/trunc.avi" -o "$T/trunc_out.mp4" && says "ended early" &&
  pass "truncated AVI: exit 1, 'ended early'"
no_output "$T/trunc_out.mp4"

# Truncated MP4 whose index (moov) was at the end: nothing can be read.
head -c 200000 "$CLIP" > "$T/trunc.mp4"
expect_status 2 ptim mask -q "$T/trunc.mp4" -o "$T/trunc2_out.mp4" && says "trunc.mp4" &&
  pass "truncated MP4 without index: exit 2"
no_output "$T/trunc2_out.mp4"

# Truncated MP4 with the index first: frames are missing at the end.
head -c 200000 "$FAST" > "$T/trunc_fast.mp4"
expect_status 1 ptim mask -q "$T/trunc_fast.mp4" -o "$T/trunc3_out.mp4" && says "ended early" &&
  pass "truncated MP4 with index: exit 1"
no_output "$T/trunc3_out.mp4"

# Bit flips in the payload: damaged frames are decoded with concealment and
# still masked or covered; every frame is written; the damage is reported.
python3 - "$FAST" "$T/flip.mp4" <<'PY'
import random, sys
d = bytearray(open(sys.argv[1], 'rb').read())
r = random.Random(7)
for _ in range(40):
    p = r.randrange(len(d) // 5, len(d))
    d[p] ^= 1 << r.randrange(8)
open(sys.argv[2], 'wb').write(d)
PY
if expect_status 0 ptim mask "$T/flip.mp4" -o "$T/flip_out.mp4" --stats-json "$T/flip.json"; then
  says "damaged\|decoded with errors"
  [ "$(frame_count "$T/flip_out.mp4")" = "$(frame_count "$FAST")" ] || fail "bit flips: frame count $(frame_count "$T/flip_out.mp4")"
  if ! masker_available; then
    why=$(all_frames_covered "$CLIP" "$T/flip_out.mp4") || fail "bit flips: frame left uncovered: $why"
  fi
  pass "bit-flipped MP4: exit 0, all frames, damage reported"
fi

# Missing input, unwritable output, no video stream: exit 2 with the name.
expect_status 2 ptim mask -q "$T/nope.mp4" -o "$T/nope_out.mp4" && says "nope.mp4" && pass "missing input: exit 2"
no_output "$T/nope_out.mp4"
echo x > "$T/afile"
expect_status 2 ptim mask -q "$CLIP" -o "$T/afile/out.mp4" && says "cannot write" && pass "output under a file: exit 2"
expect_status 2 ptim mask -q "$CLIP" -o "$T/no/such/dir/out.mp4" && says "does not exist" && pass "output dir missing: exit 2"
if [ "$(id -u)" != 0 ]; then
  mkdir "$T/ro" && chmod 555 "$T/ro"
  expect_status 2 ptim mask -q "$CLIP" -o "$T/ro/out.mp4" && says "cannot write" && pass "read-only directory: exit 2"
else
  echo "note: running as root, a read-only directory is writable; tested with a path under a file instead"
fi
ffmpeg -v error -y -i "$CLIP" -vn -c:a copy "$T/audio_only.m4a"
expect_status 2 ptim mask -q "$T/audio_only.m4a" -o "$T/ao_out.mp4" && says "no video stream" && pass "no video stream: exit 2"
no_output "$T/ao_out.mp4"
expect_status 2 ptim mask -q "$CLIP" -o "$T/out.unknownext" && says "container" && pass "unknown container: exit 2"
expect_status 2 ptim mask -q "$CLIP" -o "$CLIP" && pass "refuses to overwrite its input"

# A stream on stdin that stops mid-run: what arrived is masked and written
# (a stream has no promised length), and the output is a complete file.
head -c $(( $(stat -c %s "$(clip720_ts)") / 2 )) "$(clip720_ts)" > "$T/cut.ts"
if expect_status 0 bash -c "\"$PTIM_BIN\" mask -q - $FAST_ARGS -o \"$T/cut_out.mp4\" < \"$T/cut.ts\""; then
  n=$(decoded_frames "$T/cut_out.mp4")
  [ "$n" -gt 5 ] && [ "$n" -lt "$(decoded_frames "$(clip720_ts)")" ] || fail "cut stream: $n frames"
  [ -z "$(play_errors "$T/cut_out.mp4")" ] || fail "cut stream: output does not play"
  pass "stream stopping mid-run on stdin: complete output of what arrived"
fi

# Injected faults (core/fault, debug.faults), each on the real failure path.
if ptim mask -q "$S/messi5.jpg" -o "$T/probe_fault.png" --set debug.faults=encode@1000 2>/dev/null; then
  SHORT=$T/short.mp4
  ffmpeg -v error -y -i "$CLIP" -t 1 -c copy "$SHORT"
  N=$(frame_count "$SHORT")
  run_fault() { # SPEC STATUS OUT
    expect_status "$2" ptim mask -q "$SHORT" -o "$3" --stats-json "$T/f.json" --set "debug.faults=$1"
  }
  run_fault "decode@3-6" 0 "$T/f_decode.mp4" && grep -q '"decode":[1-9]' "$T/f.json" && pass "fault decode: skipped and counted, exit 0" || fail "decode fault not counted: $(cat "$T/f.json")"
  run_fault "packet_corrupt@2" 0 "$T/f_corrupt.mp4" && pass "fault packet_corrupt: exit 0"
  why=$(all_frames_covered "$SHORT" "$T/f_corrupt.mp4" 2>&1) || masker_available || fail "packet_corrupt: uncovered frame: $why"
  run_fault "analyze_timeout@1-5" 0 "$T/f_stale.mp4" && grep -q '"stale_result":5' "$T/f.json" && pass "fault analyze_timeout: 5 frames covered as stale" || fail "analyze_timeout: $(grep -o '"covered_by_reason":{[^}]*}' "$T/f.json")"
  run_fault "encode@3" 0 "$T/f_enc1.mp4" && [ "$(frame_count "$T/f_enc1.mp4")" = "$N" ] && pass "fault encode once: retried, every frame written" || fail "encode@3: $(cat "$T/err")"
  run_fault "encode=1.0" 1 "$T/f_enc.mp4" && grep -q "writing" "$T/err" && pass "fault encode always: exit 1"
  no_output "$T/f_enc.mp4"
  # The policy table (core/error.c) for io/high is retry 2x, then abort: a
  # one-off open or read failure is retried (a read resumes after a reopen)
  # and the file is complete; a permanent one ends the run.
  run_fault "source_open@1" 0 "$T/f_open1.mp4" && [ "$(frame_count "$T/f_open1.mp4")" = "$N" ] && pass "fault source_open once: retried, every frame written" || fail "source_open@1: $(cat "$T/err")"
  run_fault "source_open@1+" 2 "$T/f_open.mp4" && pass "fault source_open always: exit 2"
  no_output "$T/f_open.mp4"
  run_fault "source_gone@20" 0 "$T/f_gone1.mp4" && [ "$(frame_count "$T/f_gone1.mp4")" = "$N" ] && grep -q '"reopens":1' "$T/f.json" && pass "fault source_gone once offline: reopened, resumed, every frame written" || fail "source_gone@20: $(cat "$T/err") $(grep -o '"source":{[^}]*}' "$T/f.json")"
  run_fault "source_gone@20+" 1 "$T/f_gone.mp4" && pass "fault source_gone for good offline: exit 1"
  no_output "$T/f_gone.mp4"
  # memory/high: retry, then degrade; an offline run never loses a frame
  run_fault "alloc@4" 0 "$T/f_alloc.mp4" && grep -q '"no_memory":0' "$T/f.json" && grep -q '"memory":1' "$T/f.json" && [ "$(frame_count "$T/f_alloc.mp4")" = "$N" ] && pass "fault alloc once: retried, counted, every frame written" || fail "alloc: $(grep -o '"dropped":{[^}]*}' "$T/f.json") $(grep -o '"memory":[0-9]*' "$T/f.json")"
  run_fault "render@2-3" 0 "$T/f_render.mp4" && pass "fault render: exit 0"
  why=$(all_frames_covered "$SHORT" "$T/f_render.mp4" 2>&1) || masker_available || fail "render fault: uncovered frame: $why"
else
  echo "note: this build has no fault injection (debug.faults rejected): injected-fault cases not run"
fi

finish
