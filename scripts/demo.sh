#!/usr/bin/env bash
# demo.sh BUILD — the main job on the bundled default input. Until the
# pipeline lands this checks the installation with `ptim doctor`.
set -euo pipefail
build=${1:-build}
"$build/ptim" --version
"$build/ptim" doctor
