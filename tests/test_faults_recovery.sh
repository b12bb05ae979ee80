#!/usr/bin/env bash
# The fault matrix: every fault counted, recovered as the policy table says
# (see tests/faults_matrix.sh).
exec bash "$(dirname "$0")/faults_matrix.sh" recovery
