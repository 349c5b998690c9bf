#!/usr/bin/env bash
# Exec storm with OTLP logs on: the daemon traces every exec and sends each one as an OTLP log
# record to a real receiver (tests/tools/fault_receiver.js --decode-logs: node, the official
# protos' decoders from npm). Side by side, rounds rotated: execsnoop alone (no output), with
# JSON lines to a file (the peer output), with OTLP logs at the default batch delay
# (OTEL_BLRP_SCHEDULE_DELAY 1 s) and at 100 ms. Per configuration: exec rate, agent CPU per exec
# (all threads, the sender's included), and for OTLP: marked execs received / made (target: none
# lost while the receiver is up), exec-to-receiver latency p50 / p99 (arrival at the receiver
# minus the kernel's exec timestamp; the batch delay is most of it), bytes on the wire per record.
# usage: bench/bench_exec_otlp.sh [EXECS] [JOBS] [ROUNDS]   (defaults 3000, 2, 3)
set -u
cd "$(dirname "$0")/.."
N=${1:-3000}
JOBS=${2:-2}
ROUNDS=${3:-3}
AGENT=build/antimetal-agent
STORM=build/tests/workloads/exec_storm
RECEIVER=tests/tools/fault_receiver.js

if [ "$(id -u)" -ne 0 ]; then
	echo "bench_exec_otlp: skipped: needs root to load BPF programs"
	exit 0
fi
if ! command -v node >/dev/null || [ ! -d tests/tools/otlp/node_modules/@opentelemetry ]; then
	echo "bench_exec_otlp: skipped: needs node and tests/tools/otlp/node_modules (install-deps)"
	exit 0
fi
for f in "$AGENT" "$STORM"; do
	[ -x "$f" ] || { echo "bench_exec_otlp: $f missing: run make tests" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/antimetal-bench-exec-otlp-XXXXXX)
agent_pid=""
rcv_pid=""
cleanup() {
	[ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
	if [ -n "$rcv_pid" ]; then
		kill -KILL "$rcv_pid" 2>/dev/null
		wait "$rcv_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# CPU time of every thread of process $1, in ns (schedstat: exact).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

# start_agent CONFIG_TEXT: starts the daemon, waits until execsnoop traces.
start_agent() {
	printf '%s' "$1" >"$tmp/config.yaml"
	"$AGENT" run --config "$tmp/config.yaml" >"$tmp/agent.log" 2>&1 &
	agent_pid=$!
	for _ in $(seq 200); do grep -q "execsnoop: tracing every exec" "$tmp/agent.log" && return 0; sleep 0.1; done
	cat "$tmp/agent.log" >&2
	return 1
}

stop_agent() {
	kill -TERM "$agent_pid"
	for _ in $(seq 300); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$agent_pid" 2>/dev/null
	wait "$agent_pid" 2>/dev/null
	agent_pid=""
}

# marks_stats RECORD PREFIX N: "received p50_ms p99_ms bytes_per_record" over this run's marks.
marks_stats() {
	python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
path, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
first, nbytes, nrec = {}, 0, 0
try:
    lines = open(path).read().splitlines()
except OSError:
    lines = []
for line in lines:
    try:
        d = json.loads(line)
    except ValueError:  # the line being written
        continue
    if d.get("mode") != "ok" or "marks" not in d:
        continue
    nbytes += d["bytes"]
    nrec += d["records"]
    for m, t in d["marks"]:
        if m not in first and m.startswith(prefix) and m[len(prefix):].isdigit():
            first[m] = (int(d["arrived"]) - int(t)) / 1e6
lat = sorted(first.values())
def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
print(len(first), "%.1f" % pct(0.50), "%.1f" % pct(0.99), "%.0f" % (nbytes / nrec if nrec else 0))
EOF
}

base_cfg="http:
  enabled: false
collectors:
  enabled: false
oom:
  enabled: false
profiler:
  enabled: false
execsnoop:
  enabled: true
"
otlp_cfg() { # DELAY
	printf '%sotlp:\n  logs_endpoint: http://127.0.0.1:%s/v1/logs\n  metrics: false\n  logs_kmsg: false\n  logs_delay: %s\n' \
		"$base_cfg" "$port" "$1"
}

# run CONFIG_NAME ROUND: one storm under that configuration; appends
# "rate cpu_ns received p50 p99 bytes_per_record" to $tmp/CONFIG_NAME.
run() {
	local name=$1 round=$2 prefix="am-mark-$$-$1-$2-" cfg rate cpu0 cpu1 stats="- - - -"
	case $name in
	none) cfg=$base_cfg ;;
	jsonl) cfg=$(printf '%sjsonl:\n  path: %s/events.jsonl\n' "$base_cfg" "$tmp") ;;
	otlp1s) cfg=$(otlp_cfg 1s) ;;
	otlp100ms) cfg=$(otlp_cfg 100ms) ;;
	esac
	[ -n "${BENCH_DEBUG:-}" ] && echo "$(date +%T.%N) $name start" >&2
	start_agent "$cfg" || return 1
	[ -n "${BENCH_DEBUG:-}" ] && echo "$(date +%T.%N) $name started" >&2
	cpu0=$(cpu_ns "$agent_pid")
	rate=$(timeout 300 "$STORM" -j"$JOBS" -m "$prefix" "$N" /bin/true | sed -n 's/.*rate=\([0-9.]*\).*/\1/p')
	if [ "${name#otlp}" != "$name" ]; then
		# Until every mark arrived (at most 10 s past the storm).
		for _ in $(seq 100); do
			[ "$(grep -c "$prefix" "$tmp/record.jsonl" 2>/dev/null)" -gt 0 ] &&
				[ "$(marks_stats "$tmp/record.jsonl" "$prefix" "$N" | cut -d' ' -f1)" -ge "$N" ] && break
			sleep 0.1
		done
	else
		sleep 1.2
	fi
	cpu1=$(cpu_ns "$agent_pid")
	[ -n "${BENCH_DEBUG:-}" ] && echo "$(date +%T.%N) $name stopping" >&2
	stop_agent
	[ -n "${BENCH_DEBUG:-}" ] && echo "$(date +%T.%N) $name stopped" >&2
	[ "${name#otlp}" != "$name" ] && stats=$(marks_stats "$tmp/record.jsonl" "$prefix" "$N")
	echo "$rate $((cpu1 - cpu0)) $stats" >>"$tmp/$name"
}

port=$(free_port)
cport=$(free_port)
node "$RECEIVER" --port "$port" --control-port "$cport" --record "$tmp/record.jsonl" --decode-logs \
	>"$tmp/rcv.out" 2>&1 &
rcv_pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/rcv.out" 2>/dev/null && break; sleep 0.1; done

configs=(none jsonl otlp1s otlp100ms)
echo "exec storm with OTLP logs: $ROUNDS rounds of $N execs of /bin/true, $JOBS at a time, each" \
	"with a unique mark argument; $(nproc) CPUs, kernel $(uname -r); configurations rotated per round"
for r in $(seq "$ROUNDS"); do
	# Each round starts one configuration later, so drift in the host's load hits all alike.
	for i in 0 1 2 3; do
		c=${configs[$(((r - 1 + i) % 4))]}
		run "$c" "$r" || { echo "bench_exec_otlp: run $c failed" >&2; exit 1; }
	done
done

col() { awk -v c="$2" '{print $c}' "$tmp/$1"; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
spread() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "-" hi}'; }
# Agent CPU per marked exec, us (the host's other execs are traced too and included).
per_exec() { awk -v n="$N" '{printf "%.1f\n", $2 / n / 1000}' "$tmp/$1"; }
cell() { echo "$(col "$1" "$2" | median) ($(col "$1" "$2" | spread))"; }
cpu_cell() { echo "$(per_exec "$1" | median) ($(per_exec "$1" | spread))"; }
lost() { awk -v n="$N" '{s += n - $3} END {print s}' "$tmp/$1"; }

echo
echo "| metric, median of $ROUNDS (min-max) | execsnoop only | + JSON lines | + OTLP logs, 1 s delay | + OTLP logs, 100 ms delay |"
echo "|---|---|---|---|---|"
echo "| exec rate (execs/s) | $(cell none 1) | $(cell jsonl 1) | $(cell otlp1s 1) | $(cell otlp100ms 1) |"
echo "| agent CPU per exec (us, all threads) | $(cpu_cell none) | $(cpu_cell jsonl) | $(cpu_cell otlp1s) | $(cpu_cell otlp100ms) |"
echo "| marked execs received / made | - | - | $(col otlp1s 3 | awk '{s += $1} END {print s}') / $((N * ROUNDS)) | $(col otlp100ms 3 | awk '{s += $1} END {print s}') / $((N * ROUNDS)) |"
echo "| exec -> receiver latency p50 (ms) | - | - | $(cell otlp1s 4) | $(cell otlp100ms 4) |"
echo "| exec -> receiver latency p99 (ms) | - | - | $(cell otlp1s 5) | $(cell otlp100ms 5) |"
echo "| bytes on the wire per record (gzip) | - | - | $(cell otlp1s 6) | $(cell otlp100ms 6) |"
status=0
if [ "$(lost otlp1s)" -ne 0 ] || [ "$(lost otlp100ms)" -ne 0 ]; then
	echo "bench_exec_otlp: marked execs were lost while the receiver was up"
	status=1
fi
exit $status
