#!/usr/bin/env bash
# bench_onnx.sh BUILD — the ONNX fixture models (tests/fixtures/onnx: a DFM at
# 224x224 and inswapper_128 at small widths): per-call median on 1 and 2
# threads and the GFLOP/s reached, XNNPACK and reference backends.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
fx="$root/tests/fixtures/onnx"
for t in 1 2; do
  "$build/ptim" bench nn --threads "$t" --runs 30 --model "$fx/dfm_224.onnx" --model "$fx/dfm_224_morph.onnx" \
    --model "$fx/inswapper_128.onnx" --model "$fx/arcface_112.onnx"
done
