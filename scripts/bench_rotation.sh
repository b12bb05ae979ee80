#!/usr/bin/env bash
# bench_rotation.sh BUILD — recall by angle (issue 15): the astronaut, camera
# and Megamind heads turned every 15 degrees on a 1280x720 picture, found
# (F) and masked (M) by `ptim mask` with the default settings; the same
# table tests/test_face_rotation.sh asserts. Then what the turned views cost:
# `ptim detect` on a 10 s 720p clip with detector.turned_views on and off.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
export PTIM_BIN=$build/ptim PTIM_SAMPLES_DIR=$root/samples PTIM_SYSTEM_MODEL_DIR=$root/models
export PTIM_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ptim-bench-rot.XXXX")
trap 'rm -rf "$PTIM_TEST_TMP"' EXIT
bash "$root/tests/test_face_rotation.sh" | grep -v '^ok:\|^all checks'

clip=$PTIM_TEST_TMP/clip720.mp4
ffmpeg -v fatal -y -stream_loop 2 -i "$root/samples/Megamind.avi" -t 10 -vf scale=1280:720 -an \
  -c:v libx264 -preset veryfast -crf 23 "$clip"
echo "ptim detect, 10 s 720p Megamind clip, CPU s (user+sys), median of 3:"
for views in false true; do
  for i in 1 2 3; do
    /usr/bin/time -f "%U %S" -o "$PTIM_TEST_TMP/t" "$PTIM_BIN" detect "$clip" \
      --set detector.turned_views=$views >/dev/null 2>&1
    awk '{ print $1 + $2 }' "$PTIM_TEST_TMP/t"
  done | sort -g | sed -n 2p | xargs printf "  detector.turned_views=%-5s %s s\n" "$views"
done
