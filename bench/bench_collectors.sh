#!/usr/bin/env bash
# System collectors: CPU per full collection cycle (every system collector, rendered as the
# Prometheus exposition) and peak RSS of the agent, against node_exporter's CPU per scrape on
# the same host at the same time. Targets (issue 15): at most 1/4 of node_exporter's CPU per
# scrape, at most 1/2 of its peak RSS; the agent serving node_exporter's series plus its own.
set -u
cd "$(dirname "$0")/.."
AGENT=build/antimetal-agent
CYCLES=${CYCLES:-200}
SCRAPES=${SCRAPES:-50}
NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -x "$AGENT" ] || { echo "bench_collectors: build the agent first (make)" >&2; exit 1; }

# Both measured ROUNDS times, the order rotated each round (agent first, then node_exporter
# first) so neither always runs on a machine the other just warmed or loaded; medians and the
# min..max spread are reported.
ROUNDS=${ROUNDS:-5}

# The agent's cycle also runs what node_exporter has no collector for (per-process tops, cgroups,
# kmsg): reported apart as the cycle of node_exporter's counterparts only.
NODE_SET="load cpu memory disk network tcp pressure hardware uname os time timex filefd entropy
conntrack softnet udp_queues arp selinux self netclass filesystem textfile edac hwmon"

agent_round() {
	local stats
	stats=$("$AGENT" collect $NODE_SET --repeat "$CYCLES" --bench-stats 2>&1 >/dev/null |
		grep '^collect-stats:')
	agent_node_us+=("$(sed -n 's/.*cpu_us_per_cycle=\([0-9.]*\).*/\1/p' <<<"$stats")")
	stats=$("$AGENT" collect --all --repeat "$CYCLES" --bench-stats 2>&1 >/dev/null |
		grep '^collect-stats:')
	[ -n "$stats" ] || { echo "bench_collectors: agent produced no stats" >&2; exit 1; }
	agent_us+=("$(sed -n 's/.*cpu_us_per_cycle=\([0-9.]*\).*/\1/p' <<<"$stats")")
	agent_rss+=("$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' <<<"$stats")")
	agent_samples=$(sed -n 's/.*samples=\([0-9]*\).*/\1/p' <<<"$stats")
}

# node_exporter: a fresh process per round with its default collectors, one warm-up scrape,
# then SCRAPES scrapes; CPU from its /proc/PID/stat delta, RSS its peak (VmHWM).
ne_round() {
	local port=19100 ne_pid t0 t1 hz
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
	ne_us+=("$(awk -v a="$t0" -v b="$t1" -v n="$SCRAPES" -v hz="$hz" \
		'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / n }')")
	ne_rss+=("$(awk '/VmHWM/ {print $2}' /proc/$ne_pid/status)")
	kill $ne_pid
	wait $ne_pid 2>/dev/null
	trap - EXIT
}

# median and min..max of the arguments
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f (%.1f..%.1f)", m, v[1], v[NR] }'
}
median() { stats "$@" | awk '{print $1}'; }

agent_us=() agent_node_us=() agent_rss=() ne_us=() ne_rss=() ne_samples="" agent_samples=""
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ] || [ -z "$NE" ]; then
		agent_round
		[ -n "$NE" ] && ne_round
	else
		ne_round
		agent_round
	fi
done

a_cpu=$(median "${agent_us[@]}") a_rss=$(median "${agent_rss[@]}")
if [ -n "$NE" ]; then
	n_cpu=$(median "${ne_us[@]}") n_rss=$(median "${ne_rss[@]}")
	cpu_ratio=$(awk -v a="$a_cpu" -v b="$n_cpu" 'BEGIN { printf "%.3f", a / b }')
	rss_ratio=$(awk -v a="$a_rss" -v b="$n_rss" 'BEGIN { printf "%.3f", a / b }')
	cpu_ok=$(awk -v r="$cpu_ratio" 'BEGIN { print r <= 0.25 ? "yes" : "no" }')
	node_ratio=$(awk -v a="$(median "${agent_node_us[@]}")" -v b="$n_cpu" 'BEGIN { printf "%.3f", a / b }')
	node_ok=$(awk -v r="$node_ratio" 'BEGIN { print r <= 0.25 ? "yes" : "no" }')
	rss_ok=$(awk -v r="$rss_ratio" 'BEGIN { print r <= 0.5 ? "yes" : "no" }')
fi

echo "| measure (median of $ROUNDS rounds, min..max) | antimetal-agent (all system collectors) | node_exporter ${NE:+($("$NE" --version 2>&1 | head -1 | awk '{print $3}'))} | target | met |"
echo "|---|---|---|---|---|"
echo "| CPU per cycle / scrape (µs, user+sys) | $(stats "${agent_us[@]}") ($CYCLES cycles a round) | ${NE:+$(stats "${ne_us[@]}") ($SCRAPES scrapes a round)} | agent <= 1/4 of node_exporter (ratio ${cpu_ratio:-n/a}) | ${cpu_ok:-n/a} |"
echo "| CPU per cycle, node_exporter's counterparts only (µs) | $(stats "${agent_node_us[@]}") | ${NE:+$(stats "${ne_us[@]}")} | agent <= 1/4 of node_exporter (ratio ${node_ratio:-n/a}) | ${node_ok:-n/a} |"
echo "| peak RSS (KiB) | $(stats "${agent_rss[@]}") | ${NE:+$(stats "${ne_rss[@]}")} | agent <= 1/2 of node_exporter (ratio ${rss_ratio:-n/a}) | ${rss_ok:-n/a} |"
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
