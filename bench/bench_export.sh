#!/usr/bin/env bash
# What pushing costs next to being scraped. The agent collects every second (system collectors
# only); per collection cycle: its CPU time without push exporters, and with remote_write
# pushing every cycle to a real VictoriaMetrics; the difference is what remote_write adds.
# Bytes on the wire are TCP payload bytes of the agent's connection to the receiver (ss's
# bytes_sent: HTTP headers and snappy body) per push. Beside them, one /metrics scrape: the
# agent's CPU per scrape and the body's size, plain and gzip. ROUNDS rounds, the configurations'
# order rotated each round; medians with min and max.
set -u
cd "$(dirname "$0")/.."
AGENT=build/antimetal-agent
ROUNDS=${ROUNDS:-5}
WINDOW=${WINDOW:-10}
SCRAPES=${SCRAPES:-50}
VM=$(command -v victoria-metrics || true)
[ -x "$AGENT" ] || { echo "bench_export: build the agent first (make)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench_export: needs curl" >&2; exit 1; }
command -v ss >/dev/null || { echo "bench_export: needs ss (iproute2)" >&2; exit 1; }
[ -n "$VM" ] || { echo "bench_export: needs victoria-metrics (apt-get install victoria-metrics)" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	local p=$1
	while ss -ltn 2>/dev/null | grep -q ":$p "; do p=$((p + 1)); done
	echo "$p"
}
# CPU time of every thread of PID (the sender's included), in ns.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s}'; }
wait_up() {
	for _ in $(seq 100); do
		curl -sf "$1" -o /dev/null && return 0
		sleep 0.1
	done
	return 1
}
metric() { # URL NAME: the value of the first sample of NAME
	curl -s "$1" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { print $2; exit }'
}
sent_bytes() { # PORT: TCP payload bytes sent on established connections to PORT
	ss -tin state established "( dport = :$1 )" | grep -o 'bytes_sent:[0-9]*' |
		awk -F: '{s += $2} END {print s + 0}'
}

vport=$(free_port 18428)
"$VM" -httpListenAddr="127.0.0.1:$vport" -storageDataPath="$tmp/vm" -loggerLevel=ERROR \
	>"$tmp/vm.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$vport/health" || { echo "bench_export: victoria-metrics did not start" >&2; exit 1; }

# run CONFIG ROUND: one agent, WINDOW seconds of steady state; appends to $tmp/CONFIG.
run() {
	local conf=$1 port pid c0 c1 b0 b1 p0 p1 y0 y1 r0 r1 s0 s1 url
	port=$(free_port 19840)
	url="http://127.0.0.1:$port/metrics"
	{
		echo "oom: {enabled: false}"
		if [ "$conf" = remote_write ]; then
			echo "remote_write: {url: 'http://127.0.0.1:$vport/api/v1/write', interval: 1s}"
		fi
	} >"$tmp/$conf.yaml"
	"$AGENT" run --config "$tmp/$conf.yaml" --listen "127.0.0.1:$port" --interval 1s \
		--no-execsnoop --no-profiler --log-level warning >/dev/null 2>"$tmp/$conf.err" &
	pid=$!
	pids+=("$pid")
	wait_up "$url" || { echo "bench_export: the agent did not start" >&2; cat "$tmp/$conf.err" >&2; return 1; }
	sleep 2 # start-up, first collections and the receiver's connection are not steady state
	c0=$(cpu_ns "$pid")
	r0=$(metric "$url" antimetal_agent_collector_runs_total)
	p0=$(metric "$url" antimetal_remote_write_pushes_total)
	y0=$(metric "$url" antimetal_remote_write_bytes_total)
	s0=$(metric "$url" antimetal_remote_write_series_total)
	b0=$(sent_bytes "$vport")
	sleep "$WINDOW"
	b1=$(sent_bytes "$vport")
	c1=$(cpu_ns "$pid")
	r1=$(metric "$url" antimetal_agent_collector_runs_total)
	p1=$(metric "$url" antimetal_remote_write_pushes_total)
	y1=$(metric "$url" antimetal_remote_write_bytes_total)
	s1=$(metric "$url" antimetal_remote_write_series_total)
	# cycles: runs of the first collector (cpu) in the window; the scrapes above cost the
	# same in both configurations.
	echo "$c0 $c1 $r0 $r1 ${p0:-0} ${p1:-0} ${y0:-0} ${y1:-0} ${s0:-0} ${s1:-0} $b0 $b1" |
		awk '{ cyc = $4 - $3; pu = $6 - $5
		       printf "%.3f %s %s %s %s\n", ($2 - $1) / 1e6 / (cyc ? cyc : 1),
		              pu ? ($12 - $11) / pu : "-", pu ? ($8 - $7) / pu : "-",
		              pu ? ($10 - $9) / pu : "-", cyc }' >>"$tmp/$conf.rows"
	if [ "$conf" = collectors ]; then
		scrape "$url" "$pid" >>"$tmp/scrape.rows"
	fi
	kill "$pid"
	wait "$pid" 2>/dev/null
}

# One curl for all requests, so fork+exec is not measured: CPU ms per scrape, bytes plain and
# gzip (the agent compresses when asked, as node_exporter does).
scrape() {
	local url=$1 pid=$2 c0 c1 c2 args=() i plain gz
	for i in $(seq "$SCRAPES"); do args+=(-o /dev/null "$url"); done
	c0=$(cpu_ns "$pid")
	curl -s "${args[@]}"
	c1=$(cpu_ns "$pid")
	curl -s -H 'Accept-Encoding: gzip' "${args[@]}"
	c2=$(cpu_ns "$pid")
	plain=$(curl -s "$url" | wc -c)
	gz=$(curl -s -H 'Accept-Encoding: gzip' "$url" | wc -c)
	echo "$c0 $c1 $c2 $plain $gz $SCRAPES" |
		awk '{ printf "%.3f %.3f %d %d\n", ($2 - $1) / 1e6 / $6, ($3 - $2) / 1e6 / $6, $4, $5 }'
}

configs=(collectors remote_write)
for ((round = 0; round < ROUNDS; round++)); do
	for ((k = 0; k < ${#configs[@]}; k++)); do
		run "${configs[$(((round + k) % ${#configs[@]}))]}" || exit 1
	done
done

# stats FILE COLUMN: "median min max" of a column
stats() {
	awk -v c="$2" '$c != "-" { print $c }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { if (!NR) { print "- - -"; exit }
		      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}
row() { # LABEL UNIT "median min max"
	set -- "$1" "$2" $3
	printf "| %-58s | %-5s | %10s | %10s | %10s |\n" "$1" "$2" "$3" "$4" "$5"
}
base=$(stats "$tmp/collectors.rows" 1)
rw=$(stats "$tmp/remote_write.rows" 1)
echo "export: agent collecting every 1 s (system collectors, $(nproc) CPUs), $ROUNDS rounds of ${WINDOW} s per configuration, order rotated"
echo
echo "| per collection cycle                                       | unit  | median     | min        | max        |"
echo "|------------------------------------------------------------|-------|------------|------------|------------|"
row "agent CPU, collectors only" "ms" "$base"
row "agent CPU, + remote_write every cycle (VictoriaMetrics)" "ms" "$rw"
row "remote_write's share (difference of the medians)" "ms" \
	"$(echo "$base $rw" | awk '{ printf "%.3f - -", $4 - $1 }')"
row "remote_write bytes on the wire per push (TCP, request)" "B" "$(stats "$tmp/remote_write.rows" 2)"
row "remote_write snappy body per push" "B" "$(stats "$tmp/remote_write.rows" 3)"
row "remote_write series per push" "" "$(stats "$tmp/remote_write.rows" 4)"
row "one /metrics scrape: agent CPU, plain" "ms" "$(stats "$tmp/scrape.rows" 1)"
row "one /metrics scrape: agent CPU, gzip" "ms" "$(stats "$tmp/scrape.rows" 2)"
row "one /metrics scrape: body, plain" "B" "$(stats "$tmp/scrape.rows" 3)"
row "one /metrics scrape: body, gzip" "B" "$(stats "$tmp/scrape.rows" 4)"
echo
echo "CPU is every thread of the agent (schedstat), divided by the collections in the window;"
echo "the remote_write row includes encoding (protobuf-c, snappy) on the loop and HTTP on the"
echo "sender's thread. Scrape CPU is measured over $SCRAPES scrapes from one curl process."
