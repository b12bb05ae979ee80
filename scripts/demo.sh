#!/usr/bin/env bash
# demo.sh BUILD — the main job on the bundled default input.
set -euo pipefail
build=${1:-build}
"$build/ptim" --version
