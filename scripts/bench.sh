#!/usr/bin/env bash
# bench.sh BUILD — every benchmark, one after the other: the in-process parts
# (`ptim bench nn|face|mask`), then each scripts/bench_*.sh (end-to-end runs
# compared with plain ffmpeg), then scripts/bench_recall.py (detector recall
# against OpenCV's Haar cascade; needs python3-opencv, skipped when missing).
# A part that fails is reported; the rest still run.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
status=0
for part in nn face mask; do
  echo "== ptim bench $part"
  "$build/ptim" bench "$part" || { echo "bench: ptim bench $part failed" >&2; status=1; }
done
for s in "$root"/scripts/bench_*.sh; do
  [ -f "$s" ] || continue
  echo "== $(basename "$s")"
  bash "$s" "$build" || { echo "bench: $(basename "$s") failed" >&2; status=1; }
done
echo "== bench_recall.py"
python3 "$root/scripts/bench_recall.py" "$build"; rc=$?
if [ $rc -eq 2 ]; then echo "bench: bench_recall.py skipped (see above)" >&2
elif [ $rc -ne 0 ]; then echo "bench: bench_recall.py failed" >&2; status=1; fi
exit $status
