#!/usr/bin/env bash
# execsnoop under an exec storm: exec throughput without the collector and with it (ring buffer
# and perf buffer), in the same run; events delivered vs execs made; drops; latency from the
# exec's return in the kernel to the JSON line reaching a consumer; agent CPU per event.
# usage: bench/bench_execsnoop.sh [EXECS] [JOBS] [ROUNDS]   (defaults 1500, 2, 3)
# EXECSNOOP_FLAGS="--batch-ms 0" passes extra flags to the agent.
set -u
cd "$(dirname "$0")/.."
N=${1:-1500}
JOBS=${2:-2}
ROUNDS=${3:-3}
AGENT=build/antimetal-agent
STORM=build/tests/workloads/exec_storm
READER=build/tests/workloads/exec_latency

if [ "$(id -u)" -ne 0 ]; then
	echo "bench_execsnoop: skipped: needs root to load BPF programs"
	exit 0
fi
for f in "$AGENT" "$STORM" "$READER"; do
	[ -x "$f" ] || { echo "bench_execsnoop: $f missing: run make tests" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/antimetal-bench-execsnoop-XXXXXX)
agent_pid=""
reader_pid=""
# Kernel-side cost: run_time_ns of our programs needs the (global) BPF stats switch; restored.
stats_was=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo "")
cleanup() {
	[ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
	[ -n "$reader_pid" ] && kill -KILL "$reader_pid" 2>/dev/null
	[ -n "$stats_was" ] && sysctl -q -w kernel.bpf_stats_enabled="$stats_was" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A marker path so the reader counts only this benchmark's execs, whatever else the host runs.
MARKER="$tmp/true"
ln -s /bin/true "$MARKER"

storm_rate() { timeout 120 "$STORM" -j"$JOBS" "$N" "$MARKER" | sed -n 's/.*rate=\([0-9.]*\).*/\1/p'; }

# CPU time of a process in ns: schedstat is exact; stat's ticks are the fallback.
cpu_ns() {
	if [ -r "/proc/$1/schedstat" ]; then
		awk '{print $1}' "/proc/$1/schedstat"
	else
		awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1e9 / hz}' "/proc/$1/stat"
	fi
}

# Sum of run_time_ns over the BPF programs process $1 holds (from /proc/PID/fdinfo).
bpf_ns() {
	local f total=0 v
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "anon_inode:bpf-prog" ] || continue
		v=$(awk '/^run_time_ns:/ {print $2}' "/proc/$1/fdinfo/${f##*/}" 2>/dev/null)
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

# run_with MODE_FLAGS...: storm with the agent attached; prints "rate marker p50 p99 max events drops cpu_ns"
run_with() {
	local fifo="$tmp/fifo" out="$tmp/reader.txt" err="$tmp/agent.err" rate cpu0 cpu1
	rm -f "$fifo"
	mkfifo "$fifo"
	"$READER" "$MARKER" <"$fifo" >"$out" &
	reader_pid=$!
	# shellcheck disable=SC2086 # word splitting of the extra flags is intended
	"$AGENT" execsnoop --json --stats-interval 0 ${EXECSNOOP_FLAGS:-} "$@" >"$fifo" 2>"$err" &
	agent_pid=$!
	for _ in $(seq 100); do grep -q "tracing execs" "$err" 2>/dev/null && break; sleep 0.1; done
	grep -q "tracing execs" "$err" || { cat "$err" >&2; return 1; }
	cpu0=$(cpu_ns "$agent_pid")
	rate=$(storm_rate)
	sleep 0.5 # let the last records drain
	cpu1=$(cpu_ns "$agent_pid")
	local kns
	kns=$(bpf_ns "$agent_pid")
	kill -INT "$agent_pid"
	for _ in $(seq 100); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$agent_pid" 2>/dev/null; then
		echo "bench_execsnoop: the agent did not stop on SIGINT" >&2
		kill -KILL "$agent_pid"
	fi
	wait "$agent_pid"
	agent_pid=""
	wait "$reader_pid"
	reader_pid=""
	# marker_execs=N p50_us=.. p99_us=.. max_us=.. events=E drops=D
	echo "$rate $(sed 's/[a-z0-9_]*=//g' "$out") $((cpu1 - cpu0)) $kns"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a / b}'; }
# Agent CPU per event: everything the agent did during the storms over every event it handled
# (the host's other execs included, so this is per event, not per marker exec).
per_event() { awk -v c="$1" -v e="$2" 'BEGIN{ if (e > 0) printf "%.2f", c / e / 1000; else print "n/a" }'; }

echo "execsnoop benchmark: $ROUNDS rounds of $N execs of /bin/true per run, $JOBS at a time," \
	"$(nproc) CPUs, kernel $(uname -r), agent flags: ${EXECSNOOP_FLAGS:-defaults}"
[ -n "$stats_was" ] && sysctl -q -w kernel.bpf_stats_enabled=1 2>/dev/null
# Rounds alternate the three configurations so drift in the host's load hits them alike.
: >"$tmp/base" ; : >"$tmp/rb" ; : >"$tmp/pb"
for _ in $(seq "$ROUNDS"); do
	storm_rate >>"$tmp/base"
	run_with >>"$tmp/rb" || { echo "bench_execsnoop: ring buffer run failed" >&2; exit 1; }
	run_with --perf-buffer >>"$tmp/pb" || { echo "bench_execsnoop: perf buffer run failed" >&2; exit 1; }
done
base=$(median <"$tmp/base")
# columns: rate marker p50 p99 max events drops cpu_ns bpf_ns
col() { awk -v c="$2" '{print $c}' "$tmp/$1"; }
sum() { col "$1" "$2" | awk '{s += $1} END {print s + 0}'; }
for m in rb pb; do
	eval "${m}_rate=\$(col $m 1 | median)"
	eval "${m}_n=\$(sum $m 2)"
	eval "${m}_p50=\$(col $m 3 | median)"
	eval "${m}_p99=\$(col $m 4 | median)"
	eval "${m}_max=\$(col $m 5 | sort -g | tail -1)"
	eval "${m}_events=\$(sum $m 6)"
	eval "${m}_drops=\$(sum $m 7)"
	eval "${m}_cpu=\$(sum $m 8)"
	eval "${m}_kns=\$(sum $m 9)"
done
total=$((N * ROUNDS))

echo
echo "| metric | no collector | ring buffer | perf buffer |"
echo "|---|---|---|---|"
echo "| exec rate, median of $ROUNDS runs (execs/s) | $base | $rb_rate | $pb_rate |"
echo "| throughput vs no collector | 1.000 | $(ratio "$rb_rate" "$base") | $(ratio "$pb_rate" "$base") |"
echo "| execs reported / made | - | $rb_n / $total | $pb_n / $total |"
echo "| drops (kernel + lost samples) | - | $rb_drops | $pb_drops |"
echo "| latency exec return -> consumer p50 (us, median of runs) | - | $rb_p50 | $pb_p50 |"
echo "| latency p99 (us, median of runs) | - | $rb_p99 | $pb_p99 |"
echo "| latency max (us) | - | $rb_max | $pb_max |"
echo "| agent CPU per event (us; $rb_events / $pb_events events) | - | $(per_event "$rb_cpu" "$rb_events") | $(per_event "$pb_cpu" "$pb_events") |"
echo "| kernel BPF time per event (us, all programs; stats switched on for the run) | - | $(per_event "$rb_kns" "$rb_events") | $(per_event "$pb_kns" "$pb_events") |"
status=0
if [ "$rb_n" -ne "$total" ] || [ "$pb_n" -ne "$total" ]; then
	echo "bench_execsnoop: execs were lost"
	status=1
fi
exit $status
