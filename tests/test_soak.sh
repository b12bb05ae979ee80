#!/usr/bin/env bash
# Short soak for CI (the long one: make soak): ptim run live on a looping
# source for 300 frames with a hot-reloaded settings edit every 100; no frame
# unmasked, memory flat, every edit applied (see scripts/soak.sh).
set -u
: "${PTIM_BIN:?}" "${PTIM_SAMPLES_DIR:?}" "${PTIM_TEST_TMP:?}"
D="$PTIM_TEST_TMP/soak.$$"
mkdir -p "$D"
trap 'rm -rf "$D"' EXIT
# One worker and at most 90 s: the CI machine has 2 shared cores.
FRAMES=${SOAK_FRAMES:-300} EDIT_EVERY=${SOAK_EDIT_EVERY:-100} RSS_GROWTH_MB=${SOAK_RSS_GROWTH_MB:-8} OUT_DIR="$D" \
    MAX_SECONDS=${SOAK_MAX_SECONDS:-90} WORKERS=${SOAK_WORKERS:-1} \
    PTIM_BIN="$PTIM_BIN" PTIM_SAMPLES_DIR="$PTIM_SAMPLES_DIR" \
    bash "$(dirname "$0")/../scripts/soak.sh"
