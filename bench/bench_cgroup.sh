#!/usr/bin/env bash
# cgroup collector: CPU per collection cycle with 10, 100 and 1,000 cgroups that the benchmark
# creates (in every mounted v1 controller hierarchy and the unified one, as systemd and the
# kubelet do), against the same cycle without the cgroup collector. Target (issue 11): grows
# linearly, under 50 µs per cgroup. The created cgroups are named like units (*.scope) so the
# default selection exports them; they are removed at the end. Needs root.
set -u
cd "$(dirname "$0")/.."
# AGENT: the binary measured (another build's, to compare side by side with the same script).
AGENT=${AGENT:-build/antimetal-agent}
CYCLES=${CYCLES:-60}
ROUNDS=${ROUNDS:-5}
# collectors.cgroup.keep_open: descriptors of cgroup files kept open between cycles (the agent's
# default when unset; 0 opens every file every cycle). The collector keeps at most half the
# descriptor limit, so the limit is raised to fit.
KEEP_OPEN=${KEEP_OPEN:-}
KEEP_ARG=()
if [ -n "$KEEP_OPEN" ]; then
	KEEP_ARG=(--cgroup-keep-open "$KEEP_OPEN")
	ulimit -n $((KEEP_OPEN * 2 + 1024)) 2>/dev/null || true
fi
[ -x "$AGENT" ] || { echo "bench_cgroup: build the agent first (make)" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
	echo "bench_cgroup: skipped: needs root to create cgroups"
	exit 0
fi

# The hierarchies to create in: every v1 controller mount and the cgroup2 mount.
mapfile -t HIER < <(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo |
	grep -v 'name=' | sort -u)
[ ${#HIER[@]} -gt 0 ] || { echo "bench_cgroup: skipped: no cgroup mount"; exit 0; }
PREFIX="am-bench-$$"
made=0
cleanup() {
	local h i
	for h in "${HIER[@]}"; do
		for i in $(seq 1 "$made"); do rmdir "$h/$PREFIX-$i.scope" 2>/dev/null; done
	done
}
trap cleanup EXIT
grow_to() {
	local h i
	for i in $(seq $((made + 1)) "$1"); do
		for h in "${HIER[@]}"; do mkdir -p "$h/$PREFIX-$i.scope"; done
	done
	made=$1
}

# Every collector but cgroup: the cycle the cgroup collector is added to.
OTHERS=$("$AGENT" collect --help | sed -n 's/^collectors: //p' | tr -d ',' | tr ' ' '\n' |
	grep -vx cgroup | tr '\n' ' ')
# The first cycle (--interval's, before the clock starts) is start-up: it walks every hierarchy,
# sets the inotify watches and opens every file; what repeats every interval is measured.
cycle_us() { # collectors...
	"$AGENT" collect "$@" "${KEEP_ARG[@]}" --interval 1 --repeat "$CYCLES" --bench-stats 2>&1 \
		>/dev/null |
		sed -n 's/^collect-stats:.*cpu_us_per_cycle=\([0-9.]*\).*/\1/p'
}
samples() {
	"$AGENT" collect cgroup --repeat 1 --bench-stats 2>&1 >/dev/null |
		sed -n 's/^collect-stats:.*samples=\([0-9]*\).*/\1/p'
}
# Files the collector keeps open after a cycle (its antimetal_cgroup_files_kept gauge; empty where
# the build has none) and their kernel memory at about 4.3 KiB each (the seq_file page and the
# open file's structures).
kept() {
	local k
	k=$("$AGENT" collect cgroup "${KEEP_ARG[@]}" --format prom 2>/dev/null |
		sed -n 's/^antimetal_cgroup_files_kept //p')
	[ -n "$k" ] && awk -v k="$k" 'BEGIN { printf "%d (%.1f MiB)", k, k * 4.3 / 1024 }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
measure() { # prints "without with cgroup_alone"
	local r wo=() wi=() al=()
	for r in $(seq "$ROUNDS"); do
		wo+=("$(cycle_us $OTHERS)")
		wi+=("$(cycle_us $OTHERS cgroup)")
		al+=("$(cycle_us cgroup)")
	done
	echo "$(median "${wo[@]}") $(median "${wi[@]}") $(median "${al[@]}")"
}

read -r wo0 wi0 al0 <<<"$(measure)"
exp0=$("$AGENT" collect cgroup --format prom 2>/dev/null | sed -n 's/^antimetal_cgroups_exported //p')
echo "| cgroups created | exported | samples | files kept (kernel memory) | cycle without cgroup (µs) | cycle with cgroup (µs) | cgroup collector alone (µs) | µs per created cgroup (with - with at 0) / N | target < 50 | met |"
echo "|---|---|---|---|---|---|---|---|---|---|"
echo "| 0 (host's own) | $exp0 | $(samples) | $(kept) | $wo0 | $wi0 | $al0 | | | |"
for n in 10 100 1000; do
	grow_to "$n"
	read -r wo wi al <<<"$(measure)"
	exp=$("$AGENT" collect cgroup --format prom 2>/dev/null | sed -n 's/^antimetal_cgroups_exported //p')
	per=$(awk -v a="$wi" -v b="$wi0" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n }')
	ok=$(awk -v p="$per" 'BEGIN { print p < 50 ? "yes" : "no" }')
	echo "| $n | $exp | $(samples) | $(kept) | $wo | $wi | $al | $per | < 50 | $ok |"
done
echo
echo "host: $(nproc) CPUs, $(uname -r); hierarchies: ${HIER[*]}; median of $ROUNDS rounds of" \
	"$CYCLES cycles, CPU from getrusage; collectors.cgroup.keep_open ${KEEP_OPEN:-default}," \
	"descriptor limit $(ulimit -n); the first cycle of each run (start-up) not counted."
