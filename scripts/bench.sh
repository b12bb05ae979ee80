#!/usr/bin/env bash
# bench.sh BUILD — every benchmark, one after the other.
set -euo pipefail
build=${1:-build}
"$build/ptim" bench
