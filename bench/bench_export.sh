#!/usr/bin/env bash
# What pushing costs next to being scraped. The agent collects every second (system collectors
# only); per collection cycle: its CPU time without push exporters, with remote_write pushing
# every cycle to a real VictoriaMetrics, and with OTLP metrics (gzip) pushing every cycle to
# tests/tools/fault_receiver.js (node, answering 200: Debian's VictoriaMetrics 1.79 predates its
# OTLP intake); the differences are what each exporter adds. Bytes on the wire are TCP payload
# bytes of the agent's connection to the receiver (ss's bytes_sent: HTTP headers and body) per
# push. Beside them, one /metrics scrape: the agent's CPU per scrape and the body's size, plain
# and gzip. ROUNDS rounds, the configurations' order rotated each round; medians, min and max.
set -u
cd "$(dirname "$0")/.."
AGENT=build/antimetal-agent
ROUNDS=${ROUNDS:-5}
WINDOW=${WINDOW:-10}
SCRAPES=${SCRAPES:-50}
VM=$(command -v victoria-metrics || true)
NODE=$(command -v node || true)
[ -x "$AGENT" ] || { echo "bench_export: build the agent first (make)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench_export: needs curl" >&2; exit 1; }
command -v ss >/dev/null || { echo "bench_export: needs ss (iproute2)" >&2; exit 1; }
[ -n "$VM" ] || { echo "bench_export: needs victoria-metrics (apt-get install victoria-metrics)" >&2; exit 1; }
[ -n "$NODE" ] || { echo "bench_export: needs node (the OTLP receiver)" >&2; exit 1; }
# shellcheck source=bench/common/servers.sh
. bench/common/servers.sh
# CPU time of every thread of PID (the sender's included), in ns.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s}'; }
sent_bytes() { # PORT: TCP payload bytes sent on established connections to PORT (0: none)
	[ "$1" -gt 0 ] || { echo 0; return; }
	ss -tin state established "( dport = :$1 )" | grep -o 'bytes_sent:[0-9]*' |
		awk -F: '{s += $2} END {print s + 0}'
}

vport=$(free_port 18428)
"$VM" -httpListenAddr="127.0.0.1:$vport" -storageDataPath="$tmp/vm" -loggerLevel=ERROR \
	>"$tmp/vm.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$vport/health" || { echo "bench_export: victoria-metrics did not start" >&2; exit 1; }
oport=$(free_port 14318)
ocport=$(free_port $((oport + 1)))
"$NODE" tests/tools/fault_receiver.js --port "$oport" --control-port "$ocport" \
	--record "$tmp/otlp.record" >"$tmp/otlp.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$ocport/stats" || { echo "bench_export: the OTLP receiver did not start" >&2; cat "$tmp/otlp.log" >&2; exit 1; }

# run CONFIG: one agent, WINDOW seconds of steady state; appends a row to $tmp/CONFIG.rows:
# CPU ms per cycle, wire bytes per push, body bytes per push (remote_write), items per push.
run() {
	local conf=$1 port pid url rport=0 c0 c1 b0 b1 m0 m1
	port=$(free_port 19840)
	url="http://127.0.0.1:$port/metrics"
	{
		echo "oom: {enabled: false}"
		case $conf in
		remote_write)
			echo "remote_write: {url: 'http://127.0.0.1:$vport/api/v1/write', interval: 1s}"
			rport=$vport ;;
		otlp_metrics)
			echo "otlp: {metrics_endpoint: 'http://127.0.0.1:$oport/v1/metrics', metrics_interval: 1s, metrics: true, logs: false}"
			rport=$oport ;;
		esac
	} >"$tmp/$conf.yaml"
	"$AGENT" run --config "$tmp/$conf.yaml" --listen "127.0.0.1:$port" --interval 1s \
		--no-execsnoop --no-profiler --log-level warning >/dev/null 2>"$tmp/$conf.err" &
	pid=$!
	pids+=("$pid")
	wait_up "$url" || { echo "bench_export: the agent did not start" >&2; cat "$tmp/$conf.err" >&2; return 1; }
	sleep 2 # start-up, first collections and the receiver's connection are not steady state
	c0=$(cpu_ns "$pid")
	m0=$(counters "$url")
	b0=$(sent_bytes "$rport")
	sleep "$WINDOW"
	b1=$(sent_bytes "$rport")
	c1=$(cpu_ns "$pid")
	m1=$(counters "$url")
	# cycles: runs of one collector in the window; the reads of /metrics here cost the same in
	# every configuration.
	echo "$c0 $c1 $b0 $b1 $m0 $m1" |
		awk '{ cyc = $9 - $5; pu = $10 - $6
		       printf "%.3f %s %s %s\n", ($2 - $1) / 1e6 / (cyc ? cyc : 1),
		              (pu ? ($4 - $3) / pu : "-"), ((pu && $12 > $8) ? ($12 - $8) / pu : "-"),
		              (pu ? ($11 - $7) / pu : "-") }' >>"$tmp/$conf.rows"
	if [ "$conf" = collectors ]; then
		scrape "$url" "$pid" >>"$tmp/scrape.rows"
	fi
	kill "$pid"
	wait "$pid" 2>/dev/null
}

# "runs payloads items rw_bytes": a collector's runs, the exporter's delivered payloads and
# items, remote_write's snappy bytes (0 where absent).
counters() {
	curl -s "$1" | awk '
		function first(n) { if (!(n in v)) v[n] = $2 }
		index($1, "antimetal_agent_collector_runs_total{") == 1 { first("r") }
		index($1, "antimetal_export_sent_payloads_total{") == 1 { first("p") }
		index($1, "antimetal_export_sent_items_total{") == 1 { first("i") }
		$1 == "antimetal_remote_write_bytes_total" { first("b") }
		END { printf "%d %d %d %d", v["r"], v["p"], v["i"], v["b"] }'
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

configs=(collectors remote_write otlp_metrics)
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
ot=$(stats "$tmp/otlp_metrics.rows" 1)
share() { echo "$1 $2" | awk '{ printf "%.3f - -", $4 - $1 }'; }
echo "export: agent collecting every 1 s (system collectors, $(nproc) CPUs), $ROUNDS rounds of ${WINDOW} s per configuration, order rotated"
echo
echo "| per collection cycle                                       | unit  | median     | min        | max        |"
echo "|------------------------------------------------------------|-------|------------|------------|------------|"
row "agent CPU, collectors only" "ms" "$base"
row "agent CPU, + remote_write every cycle (VictoriaMetrics)" "ms" "$rw"
row "agent CPU, + OTLP metrics every cycle (gzip)" "ms" "$ot"
row "remote_write's share (difference of the medians)" "ms" "$(share "$base" "$rw")"
row "OTLP metrics' share (difference of the medians)" "ms" "$(share "$base" "$ot")"
row "remote_write bytes on the wire per push (TCP, request)" "B" "$(stats "$tmp/remote_write.rows" 2)"
row "remote_write snappy body per push" "B" "$(stats "$tmp/remote_write.rows" 3)"
row "remote_write series per push" "" "$(stats "$tmp/remote_write.rows" 4)"
row "OTLP metrics bytes on the wire per push (TCP, request)" "B" "$(stats "$tmp/otlp_metrics.rows" 2)"
row "OTLP metrics data points per push" "" "$(stats "$tmp/otlp_metrics.rows" 4)"
row "one /metrics scrape: agent CPU, plain" "ms" "$(stats "$tmp/scrape.rows" 1)"
row "one /metrics scrape: agent CPU, gzip" "ms" "$(stats "$tmp/scrape.rows" 2)"
row "one /metrics scrape: body, plain" "B" "$(stats "$tmp/scrape.rows" 3)"
row "one /metrics scrape: body, gzip" "B" "$(stats "$tmp/scrape.rows" 4)"
echo
echo "CPU is every thread of the agent (schedstat), divided by the collections in the window; an"
echo "exporter's row includes its encoding on the loop and HTTP on its sender's thread. Scrape CPU"
echo "is measured over $SCRAPES scrapes from one curl process."
echo

# The encoding alone, in one process: no network, no receiver, less noise from other jobs.
mkdir -p build/bench
# shellcheck disable=SC2046
cc -O2 -std=gnu11 -D_GNU_SOURCE -Isrc -Ibuild/gen bench/rw_encode.c bench/common/encode_bench.c build/libantimetal.a \
	$(pkg-config --libs libbpf libelf zlib libdw libprotobuf-c libmicrohttpd yaml-0.1 gnutls \
		libcrypt libcurl) -liberty -lsnappy -lpthread -lm -o build/bench/rw_encode &&
	echo "remote_write encoding of one collection beside its /metrics rendering, in-process:" &&
	build/bench/rw_encode 2>/dev/null
