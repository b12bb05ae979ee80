#!/usr/bin/env bash
# demo.sh BUILD — the main job on the bundled default input, then a side-by-side
# sheet of the masking modes. Everything it writes goes to out/ in the checkout:
#   out/Megamind_masked.mp4    samples/Megamind.avi anonymized (blur, tracking, audio kept)
#   out/Megamind_stats.json    frames, faces, per-stage latency, errors
#   out/Megamind_audit.jsonl   one line per frame: faces masked and the guard's action
#   out/Megamind_verify.txt    the report of ptim verify (and .json)
#   out/sheet_astronaut.png    original | blur | pixelate | swap
#   out/sheet_megamind.mp4     the same on the clip
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
ptim="$build/ptim"
out="$root/out"
mkdir -p "$out"

echo "== ptim mask samples/Megamind.avi -> out/Megamind_masked.mp4"
"$ptim" mask -y "$root/samples/Megamind.avi" -o "$out/Megamind_masked.mp4" \
  --stats-json "$out/Megamind_stats.json" --audit "$out/Megamind_audit.jsonl"
echo "== ptim verify (a second detector pass, tuned for recall, over the masked clip)"
status=0
"$ptim" verify "$root/samples/Megamind.avi" "$out/Megamind_masked.mp4" --report "$out/Megamind_verify.json" \
  > "$out/Megamind_verify.txt" || status=$?
cat "$out/Megamind_verify.txt"
[ "$status" = 0 ] || echo "demo: ptim verify flagged frames (listed above; out/Megamind_verify.txt)"
echo "== side-by-side sheet of the modes"
bash "$root/scripts/demo_sheet.sh" "$build" "$out"
echo "demo: outputs are in $out/"
