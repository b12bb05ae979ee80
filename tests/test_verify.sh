#!/usr/bin/env bash
# ptim verify end to end with the real detector: an unmasked copy leaks (exit
# 1, every frame listed with its time and box), a copy blurred over the box
# the detector reported is clean (exit 0), a masking gap is found at exactly
# its frames, and bad input is exit 2 with one clear sentence.
set -u
: "${PTIM_BIN:?}" "${PTIM_SAMPLES_DIR:?}" "${PTIM_TEST_TMP:?}"
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed"; exit 1; }
command -v jq >/dev/null || { echo "jq is needed"; exit 1; }
T="$PTIM_TEST_TMP/verify_sh.$$"
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
FF="ffmpeg -nostdin -v error -y"
fails=0
check() { # check NAME EXPECTED_STATUS ACTUAL_STATUS
    if [ "$2" != "$3" ]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails + 1)); else echo "ok: $1"; fi
}
expect() { # expect NAME CONDITION-COMMAND...
    local name=$1; shift
    if "$@"; then echo "ok: $name"; else echo "FAIL: $name"; fails=$((fails + 1)); fi
}

# 4 frames at 10 fps of the astronaut with temporal noise (frames differ).
$FF -loop 1 -i "$PTIM_SAMPLES_DIR/astronaut.png" -vf "noise=alls=4:allf=t,format=yuv420p" \
    -frames:v 4 -r 10 -c:v mpeg4 -q:v 2 "$T/orig.avi" || exit 1
$FF -i "$T/orig.avi" -c:v mpeg4 -q:v 3 "$T/copy.avi" || exit 1

# 1. Unmasked copy: exit 1, all 4 frames, with times and the face's box;
# --json prints the same document --report writes.
"$PTIM_BIN" verify --json --report "$T/copy.json" "$T/orig.avi" "$T/copy.avi" >"$T/copy2.json" 2>"$T/copy.err"
check "unmasked copy leaks" 1 $?
expect "--json equals --report" cmp -s "$T/copy.json" "$T/copy2.json"
expect "report lists frames 0..3" test "$(jq -c '[.leaks[].frame]' "$T/copy.json")" = "[0,1,2,3]"
expect "report times are 0.1 s apart" test "$(jq -c '[.leaks[].time]' "$T/copy.json")" = "[0,0.1,0.2,0.3]"
expect "report says not clean" test "$(jq '.clean' "$T/copy.json")" = false
expect "every check fires on the unmasked face" \
    test "$(jq -c '.leaks[0].faces[0].reasons' "$T/copy.json")" = '["detected","landmarks","unchanged"]'
# The face box, grown like mask.scale 1.3 (each side by 0.3 x size).
read -r X Y W H < <(jq -r '.leaks[0].faces[0].box | map(floor) | @tsv' "$T/copy.json")
expect "box is on the astronaut's face" test "$X" -gt 120 -a "$X" -lt 240 -a "$Y" -gt 30 -a "$Y" -lt 140 -a "$W" -gt 60
GX=$((X - W * 3 / 10)); GY=$((Y - H * 3 / 10)); GW=$((W * 16 / 10)); GH=$((H * 16 / 10))
[ $GX -lt 0 ] && GX=0; [ $GY -lt 0 ] && GY=0
echo "face box $X,$Y ${W}x$H; blurring $GX,$GY ${GW}x$GH"


# 2. Blurred over the reported box: exit 0.
BLUR="[0]split[a][b];[b]crop=$GW:$GH:$GX:$GY,boxblur=20:2[f];[a][f]overlay=$GX:$GY"
$FF -i "$T/orig.avi" -filter_complex "$BLUR" -c:v mpeg4 -q:v 2 "$T/blurred.avi" || exit 1
"$PTIM_BIN" verify --report "$T/blurred.json" "$T/orig.avi" "$T/blurred.avi"
check "blurred copy is clean" 0 $?
expect "clean report" test "$(jq -c '[.clean, .frames_checked, .original_face_frames, .frames_leaked]' "$T/blurred.json")" = "[true,4,4,0]"
"$PTIM_BIN" verify -q --max-frames 2 "$T/blurred.avi"
check "blurred copy alone is clean" 0 $?
"$PTIM_BIN" verify --max-frames 2 "$T/copy.avi" >"$T/copy.txt"
check "unmasked copy alone leaks" 1 $?
cat "$T/copy.txt"
expect "text groups frames 0-1 with their times and box" \
    grep -q "^LEAK 0:00.00-0:00.10, frames 0-1 (2 frames), face at 1[0-9][0-9],[0-9]* [0-9]*x[0-9]*: detected" "$T/copy.txt"
expect "text ends with what to do" grep -q "^what to do: " "$T/copy.txt"

# ptim's own masking verifies clean too (the other modes: tests/test_faults_e2e.sh).
for mode in blur; do
    "$PTIM_BIN" mask -q "$T/orig.avi" -o "$T/ptim_$mode.mp4" --mode $mode >/dev/null 2>&1
    check "ptim mask --mode $mode" 0 $?
    "$PTIM_BIN" verify -q "$T/orig.avi" "$T/ptim_$mode.mp4"
    check "ptim mask --mode $mode verifies clean" 0 $?
done

# 3. A masking gap on frames 2 and 3 only.
$FF -i "$T/orig.avi" -filter_complex "$BLUR:enable='not(between(n,2,3))'" -c:v mpeg4 -q:v 2 "$T/gap.avi" || exit 1
"$PTIM_BIN" verify --json "$T/orig.avi" "$T/gap.avi" >"$T/gap.json"
check "masking gap leaks" 1 $?
expect "gap found at frames 2 and 3 only" test "$(jq -c '[.leaks[].frame]' "$T/gap.json")" = "[2,3]"
# Same, with frame 1 dropped from the masked file: matched by time.
$FF -i "$T/gap.avi" -vf "select='not(eq(n,1))'" -fps_mode passthrough -c:v mpeg4 -q:v 2 "$T/gap_drop.mkv" || exit 1
"$PTIM_BIN" verify --json "$T/orig.avi" "$T/gap_drop.mkv" >"$T/gap_drop.json"
check "gap with a dropped frame leaks" 1 $?
expect "dropped frame: matched by time" \
    test "$(jq -c '[.frames_decoded, [.leaks[] | [.frame, .original_frame, .time]]]' "$T/gap_drop.json")" = "[3,[[1,2,0.2],[2,3,0.3]]]"

# 3b. An AVI whose last frame carries no timestamp (mpeg4 with B-frames, as
# Megamind.avi): the frames before it still match the original in time (the
# second-to-last went unmatched and was judged alone, where a swapped face is
# a face like any other).
ffmpeg -nostdin -v error -y -i "$PTIM_SAMPLES_DIR/Megamind.avi" -frames:v 12 -c:v mpeg4 -bf 2 -an "$T/bframes.avi"
expect "the AVI's last frame has no timestamp" \
    test "$(ffprobe -v error -select_streams v -show_entries frame=best_effort_timestamp_time -of csv=p=0 "$T/bframes.avi" | tail -1)" = N/A
"$PTIM_BIN" verify --report "$T/bframes.json" "$T/bframes.avi" "$T/bframes.avi" >/dev/null 2>&1
expect "every frame of it matched" test "$(jq -c '[.frames_checked, .frames_matched]' "$T/bframes.json")" = "[12,12]"

# 4. Bad input: exit 2, one sentence naming the file.
bad() { # bad NAME NEEDLE ARGS...
    local name=$1 needle=$2; shift 2
    "$PTIM_BIN" verify "$@" >"$T/bad.out" 2>"$T/bad.err"
    local rc=$?
    check "$name" 2 $rc
    expect "$name: says '$needle'" grep -qF -- "$needle" "$T/bad.err"
    expect "$name: one line" test "$(wc -l <"$T/bad.err")" -eq 1
}
echo "not a video" >"$T/text.avi"
head -c 2000 "$T/orig.avi" >"$T/cut.avi"
bad "missing masked file" "cannot open $T/nope.mp4" "$T/orig.avi" "$T/nope.mp4"
bad "missing original" "cannot open $T/nope.mp4" "$T/nope.mp4" "$T/copy.avi"
bad "not a video" "text.avi: not a video" "$T/orig.avi" "$T/text.avi"
bad "truncated file" "cut.avi" "$T/cut.avi" "$T/copy.avi"
bad "three files" "too many files" "$T/orig.avi" "$T/copy.avi" "$T/copy.avi"
bad "unknown option" "unknown option '--frobnicate'" --frobnicate "$T/copy.avi"
bad "bad threshold" "--threshold needs a number" --threshold 7 "$T/copy.avi"
bad "unknown key" "system.nope" --set system.nope=1 "$T/copy.avi"
bad "report in a missing directory" "cannot write the report to $T/no/dir.json" --report "$T/no/dir.json" "$T/orig.avi" "$T/blurred.avi"
"$PTIM_BIN" verify >/dev/null 2>&1
check "no arguments" 2 $?
"$PTIM_BIN" verify --help | grep -q "exit status"
check "--help" 0 $?

[ $fails -eq 0 ] && echo "test_verify: all passed" || echo "test_verify: $fails failed"
exit $((fails > 0))
