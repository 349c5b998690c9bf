#!/usr/bin/env bash
# The daemon as deployed (`antimetal-agent run`): steady CPU and peak RSS over a short run, with
# the system collectors only and with execsnoop and the profiler on too; then /metrics latency
# and CPU per scrape, next to node_exporter's (which collects on every scrape, while the agent
# serves its latest snapshot). Short on purpose: DURATION seconds per configuration.
set -u
cd "$(dirname "$0")/.."
AGENT=build/antimetal-agent
DURATION=${DURATION:-10}
SCRAPES=${SCRAPES:-200}
NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -x "$AGENT" ] || { echo "bench_daemon: build the agent first (make)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench_daemon: needs curl" >&2; exit 1; }
hz=$(getconf CLK_TCK)
# shellcheck source=bench/common/servers.sh
. bench/common/servers.sh
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# One curl process for all requests, so fork+exec is not what is measured.
scrape_stats() { # URL PID -> "mean_ms p99_ms bytes cpu_us_per_scrape"
	local url=$1 pid=$2 t0 t1 args=() i
	for i in $(seq "$SCRAPES"); do args+=(-o /dev/null "$url"); done
	t0=$(cpu_ticks "$pid")
	curl -s -w '%{time_total} %{size_download}\n' "${args[@]}" >"$tmp/times"
	t1=$(cpu_ticks "$pid")
	sort -n "$tmp/times" | awk -v n="$SCRAPES" -v c=$((t1 - t0)) -v hz="$hz" '
		{ s += $1; t[NR] = $1; b = $2 }
		END { p = int(n * 0.99); if (p < 1) p = 1
		      printf "%.2f %.2f %d %.0f", s / n * 1000, t[p] * 1000, b, c / hz * 1e6 / n }'
}

# run_agent NAME ARGS...: DURATION seconds of steady state, then SCRAPES scrapes.
run_agent() {
	local name=$1 port pid t0 t1 hwm s
	shift
	port=$(free_port 19840)
	"$AGENT" run --config /dev/null --listen "127.0.0.1:$port" \
		--set profiler.output_dir="$tmp/profiles" --log-level warning "$@" \
		>/dev/null 2>"$tmp/$name.err" &
	pid=$!
	pids+=("$pid")
	wait_up "http://127.0.0.1:$port/healthz" || { echo "bench_daemon: $name did not start" >&2; cat "$tmp/$name.err" >&2; return 1; }
	sleep 1 # start-up (BPF load) is not steady state
	t0=$(cpu_ticks "$pid")
	sleep "$DURATION"
	t1=$(cpu_ticks "$pid")
	s=$(scrape_stats "http://127.0.0.1:$port/metrics" "$pid")
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	kill "$pid"
	wait "$pid" 2>/dev/null
	awk -v n="$name" -v c=$((t1 - t0)) -v d="$DURATION" -v hz="$hz" -v h="$hwm" -v s="$s" '
		BEGIN { split(s, a, " ")
		        printf "| %-38s | %8.2f | %12.1f | %9s | %8s | %8s | %9s |\n",
		               n, c / hz / d * 100, h / 1024, a[1], a[2], a[3], a[4] }'
}

echo "daemon: ${DURATION} s steady state per row, then ${SCRAPES} scrapes of /metrics ($(nproc) CPUs)"
echo
echo "| configuration                          | CPU %    | peak RSS MiB | scrape ms | p99 ms   | bytes    | CPU us/scrape |"
echo "|----------------------------------------|----------|--------------|-----------|----------|----------|-----------|"
run_agent "system collectors, 15 s (default)" --no-execsnoop --no-profiler
run_agent "system collectors, 1 s" --no-execsnoop --no-profiler --interval 1s
if [ "$(id -u)" -eq 0 ]; then
	run_agent "all on: + execsnoop + profiler 19 Hz" --set profiler.window=5s
else
	echo "| all on: + execsnoop + profiler         | (skipped: needs root) |"
fi
if [ -n "$NE" ]; then
	port=$(free_port 19100)
	"$NE" --web.listen-address="127.0.0.1:$port" >/dev/null 2>&1 &
	ne=$!
	pids+=("$ne")
	if wait_up "http://127.0.0.1:$port/metrics"; then
		s=$(scrape_stats "http://127.0.0.1:$port/metrics" "$ne")
		hwm=$(awk '/VmHWM/ {print $2}' "/proc/$ne/status")
		awk -v h="$hwm" -v s="$s" 'BEGIN { split(s, a, " ")
			printf "| %-38s | %8s | %12.1f | %9s | %8s | %8s | %9s |\n",
			       "node_exporter (defaults), per scrape", "-", h / 1024, a[1], a[2], a[3], a[4] }'
	fi
fi
echo
echo "CPU % is of one CPU over the steady window (includes execsnoop handling every exec on the"
echo "host). The agent serves its latest snapshot; node_exporter collects on every scrape."
