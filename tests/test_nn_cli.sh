#!/usr/bin/env bash
# `ptim nn info` and `ptim nn run` on the real short-range model: outputs as
# .npy files on both backends, and clear errors with exit status 2 on bad input.
set -euo pipefail
bin=${PTIM_BIN:?}
models=${PTIM_SYSTEM_MODEL_DIR:?}
tmp=$(mktemp -d "${PTIM_TEST_TMP:-/tmp}/nn_cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
model=$models/face_detection_short_range.tflite
fail() { echo "FAIL: $*" >&2; exit 1; }

# A .npy of float32 zeros with the given shape text, e.g. "1, 128, 128, 3".
npy_zeros() { # path shape count
  local header="{'descr': '<f4', 'fortran_order': False, 'shape': ($2), }"
  local total=$(( (10 + ${#header} + 1 + 63) / 64 * 64 ))
  local hlen=$(( total - 10 ))
  { printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((hlen & 255)))\\x$(printf %02x $((hlen >> 8)))"
    printf '%s' "$header"
    printf '%*s' $(( hlen - ${#header} - 1 )) ''
    printf '\n'
    head -c $(( $3 * 4 )) /dev/zero; } > "$1"
}

info=$("$bin" nn info "$model")
echo "$info"
grep -q 'input 0: input \[1, 128, 128, 3\] float32' <<<"$info" || fail "info lacks the input"
grep -q 'output 0: regressors \[1, 896, 16\] float32' <<<"$info" || fail "info lacks regressors"
grep -q 'output 1: classificators \[1, 896, 1\] float32' <<<"$info" || fail "info lacks classificators"
grep -q 'CONCATENATION' <<<"$info" || fail "info lacks the operator list"
grep -qE '^parameters: [0-9]+' <<<"$info" || fail "info lacks the parameter count"

npy_zeros "$tmp/in.npy" "1, 128, 128, 3" $((128 * 128 * 3))
for backend in xnnpack reference; do
  "$bin" nn run "$model" --input input="$tmp/in.npy" --out "$tmp/$backend" --backend $backend
  for out in regressors:$((896 * 16)) classificators:896; do
    f=$tmp/$backend/${out%%:*}.npy
    [ -f "$f" ] || fail "$f not written"
    size=$(stat -c %s "$f")
    [ "$size" -eq $((128 + ${out##*:} * 4)) ] || fail "$f has $size bytes"
    head -c 128 "$f" | grep -aq "'descr': '<f4'" || fail "$f header"
  done
done
# Our own output reads back as an input (1 x 896 x 1 is not this model's shape: a clear refusal).
set +e
msg=$("$bin" nn run "$model" --input input="$tmp/xnnpack/classificators.npy" --out "$tmp/o" 2>&1); rc=$?
set -e
[ $rc -eq 2 ] && grep -q 'has 896 values, input input needs 49152' <<<"$msg" || fail "size mismatch: $rc $msg"

expect_error() { # status pattern args...
  local want=$1 pat=$2; shift 2
  set +e; local out; out=$("$bin" "$@" 2>&1); local rc=$?; set -e
  [ $rc -eq "$want" ] || fail "ptim $* exited $rc, expected $want: $out"
  grep -q -- "$pat" <<<"$out" || fail "ptim $*: message '$out' lacks '$pat'"
}
expect_error 2 'cannot open /nonexistent/m.tflite' nn info /nonexistent/m.tflite
head -c 5000 "$model" > "$tmp/trunc.tflite"
expect_error 2 'model trunc.tflite: ' nn info "$tmp/trunc.tflite"
expect_error 2 'has no input named nope' nn run "$model" --input nope="$tmp/in.npy" --out "$tmp/o"
expect_error 2 'missing --input input=FILE.npy' nn run "$model" --out "$tmp/o"
expect_error 2 'is not auto, xnnpack or reference' nn run "$model" --input input="$tmp/in.npy" --out "$tmp/o" --backend gpu
printf 'not numpy' > "$tmp/bad.npy"
expect_error 2 'bad.npy: not a .npy file' nn run "$model" --input input="$tmp/bad.npy" --out "$tmp/o"
expect_error 2 'usage: ptim nn' nn frobnicate
echo "nn cli: ok"
