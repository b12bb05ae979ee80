#!/usr/bin/env bash
# The fault matrix: what leaves ptim under every fault is masked, covered or
# absent (see tests/faults_matrix.sh).
exec bash "$(dirname "$0")/faults_matrix.sh" safety
