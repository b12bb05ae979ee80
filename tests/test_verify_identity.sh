#!/usr/bin/env bash
# ptim verify with the recognizer (--identity) and as a tool (issue 11,
# issue 16's verify section):
#   - original frames spliced into a masked clip are found by identity, on
#     the spliced frames only, with the similarity in the report;
#   - the masked clip itself is clean by identity and by the default checks;
#   - an ORIGINAL that is not the source of MASKED is refused (exit 2);
#   - leaked frames are grouped into time ranges and the text ends with what to do.
# The default check (identity detail, test_verify_judges_identity.sh) finds
# the spliced frames too; the recognizer adds its similarity to the report.
set -u
: "${PTIM_BIN:?}" "${PTIM_SAMPLES_DIR:?}" "${PTIM_TEST_TMP:?}"
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed"; exit 1; }
command -v jq >/dev/null || { echo "jq is needed"; exit 1; }
T="$PTIM_TEST_TMP/verify_identity.$$"
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
S=$PTIM_SAMPLES_DIR

# 1 s of the demo clip around its big face (frames 60-89), masked with ptim's blur.
$FF -i "$S/Megamind.avi" -vf "select='between(n,60,89)',setpts=N/30/TB" -r 30 -c:v libx264 -crf 16 \
    -pix_fmt yuv420p "$T/mm.mp4" || exit 1
"$PTIM_BIN" mask -q "$T/mm.mp4" -o "$T/mm_blur.mp4" --mode blur >/dev/null 2>&1
check "ptim mask --mode blur" 0 $?
"$PTIM_BIN" verify --identity 0.95 --report "$T/v_blur.json" "$T/mm.mp4" "$T/mm_blur.mp4" >/dev/null
check "blurred clip is clean by identity" 0 $?
jq -c '{identity_compared, identity_max}' "$T/v_blur.json"
expect "identity compared on the frames" \
    test "$(jq '.identity_compared >= 20 and (.checks | index("identity") != null)' "$T/v_blur.json")" = true

# Original frames 10-19 spliced back in.
$FF -i "$T/mm_blur.mp4" -i "$T/mm.mp4" -filter_complex "[0:v][1:v]overlay=enable='between(n,10,19)'" \
    -c:v libx264 -crf 16 "$T/spliced.mp4" || exit 1
"$PTIM_BIN" verify --identity 0.95 --json "$T/mm.mp4" "$T/spliced.mp4" >"$T/v_spliced.json"
check "spliced original frames leak" 1 $?
expect "only spliced frames leak" test "$(jq '[.leaks[].frame] | all(. >= 10 and . <= 19)' "$T/v_spliced.json")" = true
expect "most spliced frames found" test "$(jq '.frames_leaked >= 8' "$T/v_spliced.json")" = true
expect "judged by identity, similarity near 1" \
    test "$(jq '.leaks[0].faces[0] | (.reasons | index("identity") != null) and .similarity > 0.95' "$T/v_spliced.json")" = true
"$PTIM_BIN" verify --identity 0.95 "$T/mm.mp4" "$T/spliced.mp4" >"$T/v_spliced.txt"
cat "$T/v_spliced.txt"
expect "one line per run of frames" \
    grep -q "^LEAK 0:00.3[0-9]-0:00.6[0-9], frames 1[0-9]-1[0-9] ([0-9]* frames), face at .*identity (similarity [01]\.[0-9]* to the original person" "$T/v_spliced.txt"
expect "text ends with what to do" grep -q "^what to do: " "$T/v_spliced.txt"
expect "text names the checks" grep -q "^checks: detected, landmarks, unchanged, identity" "$T/v_spliced.txt"

# Another clip as ORIGINAL: refused, exit 2, one sentence.
$FF -i "$S/vtest.avi" -t 1 -r 30 -c:v libx264 -crf 16 -pix_fmt yuv420p "$T/other.mp4" || exit 1
"$PTIM_BIN" verify "$T/other.mp4" "$T/mm_blur.mp4" >"$T/other.out" 2>"$T/other.err"
check "another clip as original is refused" 2 $?
cat "$T/other.err"
expect "says it is not the source" grep -q "does not look like the source of $T/mm_blur.mp4" "$T/other.err"
expect "one line" test "$(wc -l <"$T/other.err")" -eq 1
# The same clip re-encoded at another size is still its source.
$FF -i "$T/mm.mp4" -vf scale=360:264 -c:v libx264 -crf 20 "$T/mm_small.mp4" || exit 1
"$PTIM_BIN" verify -q --max-frames 5 "$T/mm_small.mp4" "$T/mm_blur.mp4" >/dev/null 2>&1
check "a resized original is accepted" 0 $?

[ $fails -eq 0 ] && echo "test_verify_identity: all passed" || echo "test_verify_identity: $fails failed"
exit $((fails > 0))
