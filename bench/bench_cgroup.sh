#!/usr/bin/env bash
# cgroup collector: CPU per collection cycle with 10, 100 and 1,000 cgroups that the benchmark
# creates (in every mounted v1 controller hierarchy and the unified one, as systemd and the
# kubelet do), against the same cycle without the cgroup collector. Target (issue 11): grows
# linearly, under 50 µs per cgroup. The created cgroups are named like units (*.scope) so the
# default selection exports them; they are removed at the end. Needs root.
set -u
cd "$(dirname "$0")/.."
# AGENT: the binary measured; PEER: another build measured side by side in the same rounds
# (the order of the two rotates from round to round), e.g. main's before a change.
AGENT=${AGENT:-build/antimetal-agent}
PEER=${PEER:-}
CYCLES=${CYCLES:-60}
ROUNDS=${ROUNDS:-5}
# collectors.cgroup.keep_open: descriptors of cgroup files kept open between cycles (the agent's
# default when unset; 0 opens every file every cycle). The collector keeps them within its share
# of the descriptor limit (three quarters of it here), so the limit is raised to fit.
KEEP_OPEN=${KEEP_OPEN:-}
KEEP_ARG=()
if [ -n "$KEEP_OPEN" ]; then
	KEEP_ARG=(--cgroup-keep-open "$KEEP_OPEN")
	ulimit -n $((KEEP_OPEN * 2 + 1024)) 2>/dev/null || true
fi
[ -x "$AGENT" ] || { echo "bench_cgroup: build the agent first (make)" >&2; exit 1; }
[ -z "$PEER" ] || [ -x "$PEER" ] || { echo "bench_cgroup: PEER=$PEER is no executable" >&2; exit 1; }
BINS=("$AGENT")
[ -n "$PEER" ] && BINS+=("$PEER")
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
cycle_us() { # agent collectors... (nan where the run gave no figure: a build without them)
	local bin=$1 v
	shift
	v=$("$bin" collect "$@" "${KEEP_ARG[@]}" --interval 1 --repeat "$CYCLES" --bench-stats 2>&1 \
		>/dev/null | sed -n 's/^collect-stats:.*cpu_us_per_cycle=\([0-9.]*\).*/\1/p')
	echo "${v:-nan}"
}
samples() { # agent
	"$1" collect cgroup --repeat 1 --bench-stats 2>&1 >/dev/null |
		sed -n 's/^collect-stats:.*samples=\([0-9]*\).*/\1/p'
}
# Files and directories an agent's collector keeps open after a cycle (its
# antimetal_cgroup_{files,dirs}_kept gauges; empty where the build has none) and their kernel
# memory: about 4.3 KiB a file (the seq_file page and the open file's structures), 0.25 KiB a
# directory.
kept() { # agent
	local out f d
	out=$("$1" collect cgroup "${KEEP_ARG[@]}" --format prom 2>/dev/null)
	f=$(sed -n 's/^antimetal_cgroup_files_kept //p' <<<"$out")
	d=$(sed -n 's/^antimetal_cgroup_dirs_kept //p' <<<"$out")
	[ -n "$f" ] && awk -v f="$f" -v d="${d:-0}" \
		'BEGIN { printf "%d + %d dirs (%.1f MiB)", f, d, (f * 4.3 + d * 0.25) / 1024 }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
# Every agent's "without with cgroup_alone" medians, then their spreads, one line per agent in
# BINS order; each round runs the agents in turn, the first one rotating.
measure() {
	local r i bin order
	declare -A wo wi al
	for r in $(seq "$ROUNDS"); do
		order=$(seq 0 $((${#BINS[@]} - 1)))
		[ $((r % 2)) = 0 ] && order=$(seq $((${#BINS[@]} - 1)) -1 0)
		for i in $order; do
			bin=${BINS[$i]}
			wo[$i]+="$(cycle_us "$bin" $OTHERS) "
			wi[$i]+="$(cycle_us "$bin" $OTHERS cgroup) "
			al[$i]+="$(cycle_us "$bin" cgroup) "
		done
	done
	for i in "${!BINS[@]}"; do
		# shellcheck disable=SC2086 # the lists are words
		echo "$(median ${wo[$i]}) $(median ${wi[$i]}) $(median ${al[$i]}) $(spread ${wi[$i]}) $(spread ${al[$i]})"
	done
}

declare -a base
row() { # n
	local n=$1 i wo wi al swi sal per ok exp
	mapfile -t lines < <(measure)
	for i in "${!BINS[@]}"; do
		read -r wo wi al swi sal <<<"${lines[$i]}"
		[ "$n" = 0 ] && base[$i]=$wi
		exp=$("${BINS[$i]}" collect cgroup --format prom 2>/dev/null |
			sed -n 's/^antimetal_cgroups_exported //p')
		if [ "$n" = 0 ]; then
			per="" ok=""
		else
			per=$(awk -v a="$wi" -v b="${base[$i]}" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n }')
			ok=$(awk -v p="$per" 'BEGIN { print p < 50 ? "yes" : "no" }')
		fi
		echo "| $n | ${BINS[$i]} | $exp | $(samples "${BINS[$i]}") | $(kept "${BINS[$i]}") | $wo | $wi ($swi) | $al ($sal) | $per | $ok |"
	done
}

echo "| cgroups created | agent | exported | samples | kept (kernel memory) | cycle without cgroup (µs) | cycle with cgroup (µs, spread) | cgroup collector alone (µs, spread) | µs per created cgroup (with - with at 0) / N, target < 50 | met |"
echo "|---|---|---|---|---|---|---|---|---|---|"
row 0
for n in 10 100 1000; do
	grow_to "$n"
	row "$n"
done
echo
echo "host: $(nproc) CPUs, $(uname -r); hierarchies: ${HIER[*]}; median of $ROUNDS rounds of" \
	"$CYCLES cycles, CPU from getrusage; collectors.cgroup.keep_open ${KEEP_OPEN:-default}," \
	"descriptor limit $(ulimit -n); the first cycle of each run (start-up) not counted;" \
	"agents: ${BINS[*]} (order rotated each round)."
