#!/usr/bin/env bash
# fuzz.sh BUILD [SECONDS] — run every libFuzzer target in BUILD for a bounded
# time, each on a scratch copy of its seed corpus (fuzz/corpus_<name>/ when present).
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
status=0
for t in "${targets[@]}"; do
  [ -x "$t" ] && [ -f "$t" ] || continue
  name=$(basename "$t")
  work=$(mktemp -d)
  if [ -d "$root/fuzz/corpus_${name#fuzz_}" ]; then cp -r "$root/fuzz/corpus_${name#fuzz_}/." "$work/"; fi
  echo "fuzz: $name for ${seconds}s ($(ls "$work" | wc -l) seeds)"
  if ! "$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 \
        -artifact_prefix="$build/crash-$name-" "$work" >"$build/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see $build/$name.log" >&2
    tail -40 "$build/$name.log" >&2
    status=1
  fi
  rm -rf "$work"
done
exit $status
