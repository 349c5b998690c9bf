#!/usr/bin/env bash
# The spec's hardware tests: build them (`make hardware-tests`) and run them as root against the
# objects in ebpf/build, on a machine with a PMU (bare metal). On a VM every test reports
# "skipped: no PMU" instead of passing.
set -euo pipefail
cd "$(dirname "$0")/.."
make hardware-tests
if [ "$(id -u)" -ne 0 ]; then
	exec sudo ANTIMETAL_BPF_PATH=./ebpf/build build/hardware-tests --verbose "$@"
fi
ANTIMETAL_BPF_PATH=./ebpf/build exec build/hardware-tests --verbose "$@"
