#!/usr/bin/env bash
# Cost of capability detection: `antimetal-agent check` end to end (every probe, the BTF
# search and parse, the CO-RE proof load), which collectors also pay in part at start-up.
set -eu
cd "$(dirname "$0")/.."
agent=build/antimetal-agent
runs=${BENCH_CHECK_RUNS:-20}
[ -x "$agent" ] || { echo "bench_check: build $agent first (make)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	echo "bench_check: skipped: needs root (the probes load BPF programs)"
	exit 0
fi

measure() { # LABEL ARGS...: mean, min and max wall time in ms over $runs runs (sums in us)
	local label=$1 i t0 t1 us min=999999999 max=0 sum=0
	shift
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$agent" check "$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		us=$(((t1 - t0) / 1000))
		sum=$((sum + us))
		((us < min)) && min=$us
		((us > max)) && max=$us
	done
	awk -v l="$label" -v n="$runs" -v s="$sum" -v lo="$min" -v hi="$max" \
		'BEGIN { printf "| %-34s | %5d | %9.1f | %9.1f | %9.1f |\n", l, n, s / n / 1000, lo / 1000, hi / 1000 }'
}

echo "| case                               |  runs |  mean ms  |  min ms   |  max ms   |"
echo "|------------------------------------|-------|-----------|-----------|-----------|"
measure "check (table, native BTF)"
measure "check --json"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp /sys/kernel/btf/vmlinux "$tmp/vmlinux.btf" 2>/dev/null &&
	measure "check --btf (external copy)" --btf "$tmp/vmlinux.btf"
