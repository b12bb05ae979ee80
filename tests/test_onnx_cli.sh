#!/usr/bin/env bash
# `ptim nn info` and `ptim nn run` on ONNX files: the DFM and inswapper
# fixtures (tests/fixtures/onnx) show their tensor names and shapes, run on
# both backends from .npy inputs and match torch's outputs within 1e-4 of
# the output range; a truncated .onnx or .dfm is one sentence and status 2.
set -euo pipefail
bin=${PTIM_BIN:?}
samples=${PTIM_SAMPLES_DIR:?}
fx=${samples%/*}/tests/fixtures/onnx
tmp=$(mktemp -d "${PTIM_TEST_TMP:-/tmp}/onnx_cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

info=$("$bin" nn info "$fx/dfm_224_morph.onnx")
echo "$info"
grep -q 'input 0: in_face:0 \[1, 224, 224, 3\] float32' <<<"$info" || fail "info lacks in_face:0"
grep -q 'input 1: morph_value:0 \[1\] float32' <<<"$info" || fail "info lacks morph_value:0"
grep -q 'output 0: out_face_mask:0 \[1, 224, 224, 1\] float32' <<<"$info" || fail "info lacks out_face_mask:0"
grep -q 'output 1: out_celeb_face:0 \[1, 224, 224, 3\] float32' <<<"$info" || fail "info lacks out_celeb_face:0"
grep -q 'output 2: out_celeb_face_mask:0 \[1, 224, 224, 1\] float32' <<<"$info" || fail "info lacks out_celeb_face_mask:0"

# Max |a - b| over the range of b, two float32 .npy files (plain python3, no numpy).
npy_err() {
  python3 - "$1" "$2" <<'PY'
import sys, array
def load(p):
    b = open(p, 'rb').read()
    hl = b[8] | (b[9] << 8)
    a = array.array('f'); a.frombytes(b[10 + hl:]); return a
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == len(b), (len(a), len(b))
rng = max(b) - min(b)
print(max(abs(x - y) for x, y in zip(a, b)) / rng if rng > 0 else 1.0)
PY
}

# A .dfm is an ONNX file under another name.
cp "$fx/dfm_224.onnx" "$tmp/celeb.dfm"
for backend in xnnpack reference; do
  "$bin" nn run "$fx/inswapper_128.onnx" --input target="$fx/inswapper_128.in0.npy" \
    --input source="$fx/inswapper_128.in1.npy" --out "$tmp/ins_$backend" --backend $backend
  e=$(npy_err "$tmp/ins_$backend/output.npy" "$fx/inswapper_128.out0.npy")
  echo "inswapper_128 $backend: max error / range $e"
  python3 -c "import sys; sys.exit(0 if $e <= 1e-4 else 1)" || fail "inswapper $backend error $e"
  "$bin" nn run "$tmp/celeb.dfm" --input in_face:0="$fx/dfm_224.in0.npy" --out "$tmp/dfm_$backend" --backend $backend
  for k in 0 1 2; do
    name=$(sed -n "s/^output $k: \([^ ]*\) .*/\1/p" <<<"$info")
    f=${name//:/_}.npy # nn run writes a tensor's name with ':' as '_'
    [ -f "$tmp/dfm_$backend/$f" ] || fail "dfm output $name not written as $f"
    e=$(npy_err "$tmp/dfm_$backend/$f" "$fx/dfm_224.out$k.npy")
    echo "celeb.dfm $backend $name: max error / range $e"
    python3 -c "import sys; sys.exit(0 if $e <= 1e-4 else 1)" || fail "dfm $backend $name error $e"
  done
done

# The bench's DFM-shaped network (scripts/make_bench_dfm.py, written without
# torch or onnx, DepthToSpace in TensorFlow's DCR order as DeepFaceLive's
# exports have it), at 8 channels: ptim reads it as a .dfm, and the two
# backends agree on every output within 1e-4 of its range.
python3 "${samples%/*}/scripts/make_bench_dfm.py" "$tmp/bench.dfm" 8
binfo=$("$bin" nn info "$tmp/bench.dfm")
grep -q 'input 0: in_face:0 \[1, 224, 224, 3\] float32' <<<"$binfo" || fail "bench dfm: $binfo"
grep -q 'output 1: out_celeb_face:0 \[1, 224, 224, 3\] float32' <<<"$binfo" || fail "bench dfm: $binfo"
for backend in xnnpack reference; do
  "$bin" nn run "$tmp/bench.dfm" --input in_face:0="$fx/dfm_224.in0.npy" --out "$tmp/bench_$backend" --backend $backend
done
for f in out_face_mask_0 out_celeb_face_0 out_celeb_face_mask_0; do
  e=$(npy_err "$tmp/bench_xnnpack/$f.npy" "$tmp/bench_reference/$f.npy")
  echo "bench.dfm $f: xnnpack vs reference, max error / range $e"
  python3 -c "import sys; sys.exit(0 if $e <= 1e-4 else 1)" || fail "bench dfm $f: backends differ by $e"
done

expect_error() { # status pattern args...
  local want=$1 pat=$2; shift 2
  set +e; local out; out=$("$bin" "$@" 2>&1); local rc=$?; set -e
  [ $rc -eq "$want" ] || fail "ptim $* exited $rc, expected $want: $out"
  grep -q -- "$pat" <<<"$out" || fail "ptim $*: message '$out' lacks '$pat'"
  [ "$(wc -l <<<"$out")" -eq 1 ] || fail "ptim $*: more than one line: $out"
}
head -c 100000 "$fx/dfm_224.onnx" > "$tmp/trunc.dfm"
expect_error 2 'model trunc.dfm: ' nn info "$tmp/trunc.dfm"
head -c 3000 "$fx/inswapper_128.onnx" > "$tmp/trunc.onnx"
expect_error 2 'model trunc.onnx: ' nn info "$tmp/trunc.onnx"
echo "ok"
