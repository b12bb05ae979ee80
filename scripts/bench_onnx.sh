#!/usr/bin/env bash
# bench_onnx.sh BUILD — the ONNX fixture models (tests/fixtures/onnx: a DFM at
# 224x224 and inswapper_128 at small widths): per-call median on 1 and 2
# threads and the GFLOP/s reached, XNNPACK and reference backends, and how
# far each is below XNNPACK's best case for the same work (one 3x3 conv;
# goal: within 2x).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
fx="$root/tests/fixtures/onnx"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in 1 2; do
  "$build/ptim" bench nn --threads "$t" --runs 30 --model "$fx/dfm_224.onnx" --model "$fx/dfm_224_morph.onnx" \
    --model "$fx/inswapper_128.onnx" --model "$fx/arcface_112.onnx" --best-case
done

# The same DFM layout at a real model's widths (scripts/make_bench_dfm.py:
# 32 channels, half of DeepFaceLab's usual 64; ~12 GFLOP, 55 MB, made-up
# weights), XNNPACK only: at 8-16 channels the fixtures above are far below
# the best case (so is every convolution library), a user's .dfm is not.
python3 "$root/scripts/make_bench_dfm.py" "$tmp/bench_dfm_224_w32.onnx" 32
for t in 1 2; do
  "$build/ptim" bench nn --threads "$t" --runs 10 --xnnpack-only --best-case --model "$tmp/bench_dfm_224_w32.onnx"
done

# The whole swap path offline at 720p (decode, detect, FaceMesh, align, the
# network, colour, paste, encode): frames per second and the render stage's
# median per frame (the swap itself), for swap.threads 1 and 2, against the
# blur mode on the same clip. The fixture networks are small (0.1 GFLOP per
# call); the bench DFM costs 12 GFLOP, a real .dfm about 4x that.
ffmpeg -v error -y -i "$root/samples/Megamind.avi" -ss 1 -t 2 -vf scale=1280:720,setsar=1 -an \
  -c:v libx264 -preset veryfast -crf 20 "$tmp/clip.mp4"
printf '%-34s %8s %8s %14s\n' "offline 720p swap (2 s clip)" threads fps "render p50 ms"
swap_row() { # LABEL THREADS ARGS...
  local label=$1 t=$2; shift 2
  "$build/ptim" mask -q "$tmp/clip.mp4" -o "$tmp/out.mp4" --set output.overwrite=true \
    --set swap.threads="$t" --stats-json "$tmp/s.json" "$@" >/dev/null
  python3 - "$tmp/s.json" "$label" "$t" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("%-34s %8s %8.1f %14.1f" % (sys.argv[2], sys.argv[3], d["fps"], d["stages_ms"]["render"]["p50"]))
PY
}
swap_row "blur (baseline)" 1 --set mask.mode=blur
for t in 1 2; do
  swap_row "dfm_224 fixture" "$t" --set mask.mode=swap --set swap.model="$fx/dfm_224.onnx"
  swap_row "dfm_224 at 32 channels (bench)" "$t" --set mask.mode=swap --set swap.model="$tmp/bench_dfm_224_w32.onnx"
  swap_row "inswapper_128 + arcface fixtures" "$t" --set mask.mode=swap --set swap.model="$fx/inswapper_128_emap.onnx" \
    --set swap.encoder="$fx/arcface_112.onnx" --set swap.identity="$root/samples/messi5.jpg"
done
