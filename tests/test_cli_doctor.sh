#!/usr/bin/env bash
# `ptim doctor` reports versions, CPU, models (checksums) and cameras, and
# fails (1) when models are missing. It runs from the command module.
set -uo pipefail
: "${PTIM_BIN:?}" "${PTIM_TEST_TMP:?}" "${PTIM_SYSTEM_MODEL_DIR:?}"
T=$(mktemp -d "$PTIM_TEST_TMP/cli_doctor.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
check() { grep -qE -- "$1" "$T/out" || { echo "FAIL: doctor output lacks /$1/"; fails=$((fails+1)); }; }
"$PTIM_BIN" doctor >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] || { echo "FAIL: doctor exited $rc"; cat "$T/out"; fails=$((fails+1)); }
check '^FFmpeg [^ ]+: libavcodec [0-9]+\.'
check '^XNNPACK .*initializes'
check '^CPU: .*[0-9]+ logical cores'
check 'face_detection_short_range\.tflite +ok +sha256 3bc182eb'
check 'face_landmark\.tflite +ok'
check '^cameras:'
# the libraries a run loads only when it needs them (io/ffmpeg_libs.h)
check '^  libavdevice \(cameras, virtual cameras\): loads'
check '^  libavfilter \(re-encoded audio, audio.voice\): loads'
# a model directory with a damaged and a missing model
mkdir "$T/models"
cp "$PTIM_SYSTEM_MODEL_DIR/face_landmark.tflite" "$T/models/"
printf 'x' >>"$T/models/face_landmark.tflite"
cp "$PTIM_SYSTEM_MODEL_DIR/face_detection_full_range.tflite" "$T/models/"
PTIM_SYSTEM_MODEL_DIR="$T/models" "$PTIM_BIN" doctor >"$T/out" 2>&1; rc=$?
[ $rc -eq 1 ] || { echo "FAIL: doctor with broken models exited $rc, want 1"; fails=$((fails+1)); }
check 'face_detection_short_range\.tflite +MISSING'
check 'face_landmark\.tflite +SHA-256 MISMATCH'
check 'face_detection_full_range\.tflite +ok'
"$PTIM_BIN" doctor extra >/dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: doctor extra should exit 2"; fails=$((fails+1)); }
help=$("$PTIM_BIN" doctor --help)
grep -q 'usage: ptim doctor' <<<"$help" || { echo "FAIL: doctor --help"; fails=$((fails+1)); }
[ $fails -eq 0 ] && echo "all doctor checks passed"
exit $((fails > 0))
