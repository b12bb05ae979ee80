#!/usr/bin/env bash
# startup_time.sh [BUILD] [RUNS] — median and p95 wall time of the light
# commands (`ptim --version`, `ptim config show`), measured by spawning the
# binary RUNS times each (spawn cost included, so the figures are an upper bound).
set -euo pipefail
build=${1:-build}
runs=${2:-200}
python3 - "$build/ptim" "$runs" <<'PY'
import statistics, subprocess, sys, time
ptim, runs = sys.argv[1], int(sys.argv[2])
for args in (["--version"], ["config", "show"], ["config", "show", "--sources"]):
    t = []
    for _ in range(runs):
        s = time.perf_counter()
        subprocess.run([ptim] + args, stdout=subprocess.DEVNULL, check=True)
        t.append((time.perf_counter() - s) * 1000)
    t.sort()
    print(f"ptim {' '.join(args):24s} median {statistics.median(t):6.2f} ms  p95 {t[int(0.95*len(t))]:6.2f} ms  ({runs} runs)")
PY
