#!/usr/bin/env bash
# System collectors: CPU per full collection cycle (every system collector, rendered as the
# Prometheus exposition) and peak RSS of the agent, against node_exporter's CPU per scrape on
# the same host at the same time. Targets: at most 1/5 of node_exporter's CPU, RSS < 10 MiB.
set -u
cd "$(dirname "$0")/.."
AGENT=build/antimetal-agent
CYCLES=${CYCLES:-200}
SCRAPES=${SCRAPES:-50}
NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -x "$AGENT" ] || { echo "bench_collectors: build the agent first (make)" >&2; exit 1; }

# --- the agent: N cycles in one process, CPU measured around the loop (not start-up).
stats=$("$AGENT" collect --all --repeat "$CYCLES" --bench-stats 2>&1 >/dev/null |
	grep '^collect-stats:')
[ -n "$stats" ] || { echo "bench_collectors: agent produced no stats" >&2; exit 1; }
agent_us=$(sed -n 's/.*cpu_us_per_cycle=\([0-9.]*\).*/\1/p' <<<"$stats")
agent_rss=$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' <<<"$stats")
agent_samples=$(sed -n 's/.*samples=\([0-9]*\).*/\1/p' <<<"$stats")

# --- node_exporter: its default collectors, scraped SCRAPES times after one warm-up scrape.
ne_us="" ne_rss="" ne_samples=""
if [ -n "$NE" ]; then
	port=19100
	while ss -ltn 2>/dev/null | grep -q ":$port "; do port=$((port + 1)); done
	"$NE" --web.listen-address=127.0.0.1:$port >/dev/null 2>&1 &
	ne_pid=$!
	trap 'kill $ne_pid 2>/dev/null; wait $ne_pid 2>/dev/null' EXIT
	for _ in $(seq 50); do
		curl -sf "http://127.0.0.1:$port/metrics" -o /dev/null && break
		sleep 0.1
	done
	ne_samples=$(curl -sf "http://127.0.0.1:$port/metrics" | grep -vc '^#')
	hz=$(getconf CLK_TCK)
	t0=$(awk '{print $14 + $15}' /proc/$ne_pid/stat)
	for _ in $(seq "$SCRAPES"); do
		curl -sf "http://127.0.0.1:$port/metrics" -o /dev/null
	done
	t1=$(awk '{print $14 + $15}' /proc/$ne_pid/stat)
	ne_us=$(awk -v a="$t0" -v b="$t1" -v n="$SCRAPES" -v hz="$hz" \
		'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / n }')
	ne_rss=$(awk '/VmHWM/ {print $2}' /proc/$ne_pid/status)
	kill $ne_pid
	wait $ne_pid 2>/dev/null
	trap - EXIT
fi

ratio=$(awk -v a="$agent_us" -v b="${ne_us:-0}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }')
cpu_ok=$(awk -v r="$ratio" 'BEGIN { print (r != "n/a" && r <= 0.2) ? "yes" : "no" }')
rss_ok=$([ "$agent_rss" -lt 10240 ] && echo yes || echo no)

echo "| measure | antimetal-agent (all system collectors) | node_exporter ${NE:+($("$NE" --version 2>&1 | head -1 | awk '{print $3}'))} | target | met |"
echo "|---|---|---|---|---|"
echo "| CPU per cycle / scrape (µs, user+sys) | $agent_us (mean of $CYCLES) | ${ne_us:-not installed} (mean of $SCRAPES) | agent <= 1/5 of node_exporter (ratio $ratio) | $cpu_ok |"
echo "| peak RSS (KiB) | $agent_rss | ${ne_rss:-n/a} | agent < 10240 | $rss_ok |"
echo "| samples per cycle / scrape | $agent_samples | ${ne_samples:-n/a} | | |"
echo
echo "host: $(nproc) CPUs, $(uname -r); CPU from getrusage (agent) and /proc/PID/stat (node_exporter)."

# --- where the agent's cycle goes: each collector alone (CPU per cycle, µs).
echo
echo "| collector | CPU per cycle (µs) | samples |"
echo "|---|---|---|"
for c in $("$AGENT" collect --help | sed -n 's/^collectors: //p' | tr -d ','); do
	s=$("$AGENT" collect "$c" --repeat "$CYCLES" --bench-stats 2>&1 >/dev/null | grep '^collect-stats:')
	echo "| $c | $(sed -n 's/.*cpu_us_per_cycle=\([0-9.]*\).*/\1/p' <<<"$s") | $(sed -n 's/.*samples=\([0-9]*\).*/\1/p' <<<"$s") |"
done
