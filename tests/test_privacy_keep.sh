#!/usr/bin/env bash
# Choosing whom to mask (issue 11): two different people side by side
# (astronaut.png left, a Megamind character right, 2 s).
#   privacy.keep=astronaut.png: she is left visible once recognized (within a
#     few frames, masked until then), the other person is masked on every frame;
#   privacy.only=astronaut.png: she is masked on every frame, the other person
#     is left visible once recognized as someone else, and ptim says so at start;
#     she stays masked when her side turns dark (the recognizer then takes her
#     for someone else);
#   the audit records per face whether it was kept and the similarity;
#   both set, a photo without a face, or a missing photo: exit 2, one sentence.
set -u
: "${PTIM_BIN:?}" "${PTIM_SAMPLES_DIR:?}" "${PTIM_TEST_TMP:?}"
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed"; exit 1; }
command -v jq >/dev/null || { echo "jq is needed"; exit 1; }
T="$PTIM_TEST_TMP/privacy_keep.$$"
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
FF="ffmpeg -nostdin -v error -y"
S=$PTIM_SAMPLES_DIR
fails=0
check() { # check NAME EXPECTED_STATUS ACTUAL_STATUS
    if [ "$2" != "$3" ]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails + 1)); else echo "ok: $1"; fi
}
expect() { # expect NAME CONDITION-COMMAND...
    local name=$1; shift
    if "$@"; then echo "ok: $name"; else echo "FAIL: $name"; fails=$((fails + 1)); fi
}

$FF -i "$S/Megamind.avi" -vf "select=eq(n\,101),crop=300:300:350:20" -frames:v 1 "$T/man.png" || exit 1
$FF -loop 1 -i "$S/astronaut.png" -loop 1 -i "$T/man.png" \
    -filter_complex "[0]scale=300:300[a];[a][1]hstack,noise=alls=3:allf=t,format=yuv420p" \
    -t 2 -r 25 -c:v libx264 -crf 16 "$T/two.mp4" || exit 1
# Each half on its own, to verify each person separately.
half() { $FF -i "$1" -vf "crop=300:300:$2:0" -c:v libx264 -crf 16 "$3" || exit 1; }
half "$T/two.mp4" 0 "$T/left.mp4"
half "$T/two.mp4" 300 "$T/right.mp4"
# First frame from which a track stays kept (per side), or -1 if never.
kept_from() { # kept_from AUDIT left|right
    local cond='.box[0] < 300'; [ "$2" = right ] && cond='.box[0] >= 300'
    jq -s "[.[] | {f: .frame, k: ([.faces[] | select($cond) | .kept] | any)}] as \$a
           | [\$a[] | select(.k | not) | .f] as \$off | ([\$a[].f] | max) as \$last
           | if (\$off | length) == 0 then 0 elif (\$off | max) == \$last then -1 else (\$off | max) + 1 end" "$1"
}

# --- keep: the astronaut stays visible, the other person is masked.
"$PTIM_BIN" mask -q -y "$T/two.mp4" -o "$T/keep.mp4" --set "privacy.keep=$S/astronaut.png" --audit "$T/keep.jsonl"
check "mask with privacy.keep" 0 $?
k=$(kept_from "$T/keep.jsonl" left); echo "astronaut kept from frame $k"
expect "astronaut left visible within 8 frames, and from then on" test "$k" -ge 0 -a "$k" -le 8
expect "the other person is never kept" test "$(kept_from "$T/keep.jsonl" right)" = -1
expect "audit has the similarity of each recognized face" \
    test "$(jq -s '[.[10].faces[] | has("similarity") and has("kept")] | all' "$T/keep.jsonl")" = true
expect "the kept person matches her photo (>= 0.9), the other does not" \
    test "$(jq -s '.[10].faces | ([.[] | select(.box[0] < 300) | .similarity >= 0.9] | all) and ([.[] | select(.box[0] >= 300) | .similarity < 0.9] | all)' "$T/keep.jsonl")" = true
half "$T/keep.mp4" 300 "$T/keep_right.mp4"
"$PTIM_BIN" verify -q "$T/right.mp4" "$T/keep_right.mp4" >/dev/null
check "the other person is masked on every frame (verify)" 0 $?
half "$T/keep.mp4" 0 "$T/keep_left.mp4"
"$PTIM_BIN" verify -q --report "$T/keep_left.json" "$T/left.mp4" "$T/keep_left.mp4" >/dev/null
check "the kept person is visible (verify finds her)" 1 $?
expect "visible from the kept frame on, masked before" \
    test "$(jq "[.leaks[].frame] | (min >= $k) and (length >= 40)" "$T/keep_left.json")" = true

# --- only: the astronaut is masked, the other person is left visible.
"$PTIM_BIN" mask -y "$T/two.mp4" -o "$T/only.mp4" --set "privacy.only=$S/astronaut.png" \
    --audit "$T/only.jsonl" 2>"$T/only.err" >/dev/null
check "mask with privacy.only" 0 $?
expect "says at start that others stay visible" grep -q "privacy.only is set: only faces recognized as the 1 listed person are masked" "$T/only.err"
expect "astronaut never kept" test "$(kept_from "$T/only.jsonl" left)" = -1
k=$(kept_from "$T/only.jsonl" right); echo "other person visible from frame $k"
expect "other person left visible within 8 frames" test "$k" -ge 0 -a "$k" -le 8
half "$T/only.mp4" 0 "$T/only_left.mp4"
"$PTIM_BIN" verify -q "$T/left.mp4" "$T/only_left.mp4" >/dev/null
check "the listed person is masked on every frame (verify)" 0 $?

# --- only, the person to hide in shadow: 1 s of the pair, then 1.2 s with
# her side darkened (the recognizer scores her 0.08 against her own photo
# there, the detector still finds her at 0.87-0.94). Once recognized she
# stays masked; with a streak of three disagreeing recognitions she was
# shown from the fourth dark one.
$FF -i "$T/two.mp4" -filter_complex "[0]split[a][b];[b]crop=300:300:0:0,eq=brightness=-0.35[d];[a][d]overlay=0:0:enable='gte(n,25)'" \
    -frames:v 55 -c:v libx264 -crf 16 "$T/shadow.mp4" || exit 1
"$PTIM_BIN" mask -q -y "$T/shadow.mp4" -o "$T/shadow_only.mp4" --set "privacy.only=$S/astronaut.png" \
    --audit "$T/shadow.jsonl" 2>/dev/null >/dev/null
check "mask with privacy.only, in shadow" 0 $?
expect "her face is found in the shadow" \
    test "$(jq -s '[.[] | select(.frame >= 25) | [.faces[] | select(.box[0] < 300)] | length > 0] | all' "$T/shadow.jsonl")" = true
expect "astronaut never kept, in shadow too" test "$(kept_from "$T/shadow.jsonl" left)" = -1

# --- settings that cannot work: exit 2, one sentence, nothing written.
"$PTIM_BIN" mask -q -y "$T/two.mp4" -o "$T/bad.mp4" --set "privacy.keep=$S/astronaut.png" \
    --set "privacy.only=$S/astronaut.png" 2>"$T/both.err"
check "keep and only together are refused" 2 $?
expect "one sentence naming both" grep -q "privacy.keep and privacy.only cannot both be set" "$T/both.err"
$FF -f lavfi -i "color=gray:s=320x240" -frames:v 1 "$T/noface.png" || exit 1
"$PTIM_BIN" mask -q -y "$T/two.mp4" -o "$T/bad.mp4" --set "privacy.keep=$T/noface.png" 2>"$T/noface.err"
check "a photo without a face is refused" 2 $?
expect "says it shows 0 faces" grep -q "noface.png shows 0 faces; give a photo of exactly one person" "$T/noface.err"
"$PTIM_BIN" mask -q -y "$T/two.mp4" -o "$T/bad.mp4" --set "privacy.keep=$T/missing.jpg" 2>"$T/missing.err"
check "a missing photo is refused" 2 $?
expect "names the photo" grep -q "missing.jpg cannot be read" "$T/missing.err"
expect "nothing written" test ! -e "$T/bad.mp4"

[ $fails -eq 0 ] && echo "test_privacy_keep: all passed" || echo "test_privacy_keep: $fails failed"
exit $((fails > 0))
