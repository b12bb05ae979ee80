#!/usr/bin/env bash
# fuzz.sh BUILD [SECONDS] — run every libFuzzer target in BUILD for a bounded
# time, each on a scratch copy of its seed corpus (fuzz/corpus_<name>/ when
# present), as many at once as there are cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-fuzz}
seconds=${2:-60}
shopt -s nullglob
targets=("$build"/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets built in $build"
  exit 0
fi
# Targets run side by side, one per core (nproc), each for the full time.
jobs=$(nproc 2>/dev/null || echo 1)
run_target() { # TARGET: 0 when it ran clean
  local t=$1 name work rc=0
  name=$(basename "$t")
  work=$(mktemp -d)
  if [ -d "$root/fuzz/corpus_${name#fuzz_}" ]; then cp -r "$root/fuzz/corpus_${name#fuzz_}/." "$work/"; fi
  echo "fuzz: $name for ${seconds}s ($(ls "$work" | wc -l) seeds)"
  if ! "$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 \
        -artifact_prefix="$build/crash-$name-" "$work" >"$build/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see $build/$name.log" >&2
    tail -40 "$build/$name.log" >&2
    rc=1
  fi
  rm -rf "$work"
  return $rc
}
status=0
running=0
for t in "${targets[@]}"; do
  [ -x "$t" ] && [ -f "$t" ] || continue
  if [ "$running" -ge "$jobs" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
