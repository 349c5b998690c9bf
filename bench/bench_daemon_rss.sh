#!/usr/bin/env bash
# The daemon's memory with unwinding on, two builds side by side: `run` with the profiler at
# 99 Hz and 5 s windows, per call graph (fp, dwarf, auto), ROUNDS rounds, the builds' order
# rotated each round. Scenario `quiet`: bench_unwind.sh's workload only (xz -6 on random data,
# three times in a row); `busy`: the same on bench/common/busy_host.sh's busy host. Per build
# and call graph: the peak RSS (VmHWM) and the median RSS over the run (one sample a second),
# medians [min, max] over the rounds.
#   bench/bench_daemon_rss.sh SCENARIO AGENT_A AGENT_B
# BENCH_LOCK=FILE holds that flock around each run (the machine's shared BPF lock).
set -u
cd "$(dirname "$0")/.." || exit 1
SCENARIO=${1:-quiet}
A=${2:-build/antimetal-agent}
B=${3:-build/antimetal-agent}
ROUNDS=${BENCH_DAEMON_ROUNDS:-3}
SECS=${BENCH_DAEMON_SECS:-30}
MODES=${BENCH_DAEMON_MODES:-"fp dwarf auto"}
XZ=${BENCH_UNWIND_XZ:-/usr/bin/xz}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench_daemon_rss: skipped: needs root (BPF)"
	exit 0
fi
tmp=$(mktemp -d)
# shellcheck source=bench/common/busy_host.sh
. bench/common/busy_host.sh
trap 'busy_stop 2>/dev/null; rm -rf "$tmp"' EXIT
head -c 4M /dev/urandom >"$tmp/data"

# run_one LABEL AGENT MODE: one daemon run; appends "label mode hwm_kib median_kib".
run_one() {
	local dpid wpid
	rm -rf "$tmp/prof" "$tmp/rss"
	mkdir -p "$tmp/prof"
	[ -n "${BENCH_LOCK:-}" ] && exec 9>"$BENCH_LOCK" && flock 9
	"$2" run --config /dev/null --no-http --no-execsnoop --collectors cpu \
		--set profiler.frequency=99 --set profiler.window=5s \
		--set "profiler.output_dir=$tmp/prof" --set "profiler.call_graph=$3" >/dev/null 2>"$tmp/d.err" &
	dpid=$!
	sleep 2
	(for _ in 1 2 3; do taskset -c "$(($(nproc) - 1))" "$XZ" -6 -T1 -c "$tmp/data" >/dev/null; done) &
	wpid=$!
	for _ in $(seq "$SECS"); do
		sleep 1
		awk '/VmRSS/ {print $2}' "/proc/$dpid/status" >>"$tmp/rss"
	done
	wait "$wpid"
	echo "$1 $3 $(awk '/VmHWM/ {print $2}' "/proc/$dpid/status") $(sort -n "$tmp/rss" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')" >>"$tmp/rows"
	kill -TERM "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	[ -n "${BENCH_LOCK:-}" ] && exec 9>&-
	echo "bench_daemon_rss: $(tail -n1 "$tmp/rows")" >&2
}

[ "$SCENARIO" = busy ] && busy_start "$tmp/busy"
for r in $(seq "$ROUNDS"); do
	for mode in $MODES; do
		if [ $((r % 2)) -eq 1 ]; then
			run_one A "$A" "$mode"
			run_one B "$B" "$mode"
		else
			run_one B "$B" "$mode"
			run_one A "$A" "$mode"
		fi
	done
done
[ "$SCENARIO" = busy ] && busy_stop
echo "Daemon RSS ($SCENARIO: run, profiler 99 Hz, 5 s windows, $SECS s, $ROUNDS rounds; MiB, medians [min, max]); A = $A, B = $B"
echo
echo "| call graph | A peak | B peak | A median | B median |"
echo "|---|---|---|---|---|"
awk '
function median(v, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function col(k, c,   i, v, lo, hi) {
	for (i = 1; i <= n[k]; i++) { v[i] = x[k, i, c] / 1024; if (i == 1 || v[i] < lo) lo = v[i]; if (i == 1 || v[i] > hi) hi = v[i] }
	return sprintf("%.1f [%.1f, %.1f]", median(v, n[k]), lo, hi)
}
{ k = $1 " " $2; n[k]++; x[k, n[k], 1] = $3; x[k, n[k], 2] = $4; modes[$2] = 1 }
END {
	split("fp dwarf auto", order, " ")
	for (o = 1; o <= 3; o++) { m = order[o]; if (!modes[m]) continue
		printf "| %s | %s | %s | %s | %s |\n", m, col("A " m, 1), col("B " m, 1), col("A " m, 2), col("B " m, 2) }
}' "$tmp/rows"
