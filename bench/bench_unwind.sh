#!/usr/bin/env bash
# Whole stacks without frame pointers: Debian's xz (built without frame pointers) compressing a
# fixed file of random data, alone and under `antimetal-agent profile --call-graph fp`, `dwarf`
# and `auto`, and under `perf record --call-graph dwarf` (same stack size, 8192 bytes), all
# system-wide on cpu-clock, at 19, 99 and 999 Hz, ROUNDS rounds in a rotating order with a
# baseline in each round (see bench_profiler.sh for why).
#
# Per profiler and rate: the share of xz's samples whose stack reaches the process entry
# (__libc_start_call_main), the workload's CPU-time slowdown against its round's baseline, the
# profiler's CPU while the workload ran (per sample, and in % of one CPU), the BPF program's
# time per run (kernel.bpf_stats_enabled), the stack bytes copied per second (the agent's own
# count; perf: the size of perf.data over the time), and the profiler's peak RSS. Then the
# daemon's peak RSS with unwinding on (`run`, profiler at 99 Hz, auto). Medians with [min, max].
# Needs root; the perf rows are left out when perf is missing.
set -u
cd "$(dirname "$0")/.."
AGENT=build/antimetal-agent
XZ=${BENCH_UNWIND_XZ:-/usr/bin/xz}
MB=${BENCH_UNWIND_MB:-4} # MiB of random data: about 2 s of xz -6 CPU here
FREQS=${BENCH_UNWIND_FREQS:-"19 99 999"}
ROUNDS=${BENCH_UNWIND_ROUNDS:-3}
KINDS=${BENCH_UNWIND_KINDS:-"base fp dwarf auto perf"}
TIME=/usr/bin/time

if [ "$(id -u)" -ne 0 ]; then
	echo "bench_unwind: skipped: needs root (BPF and system-wide perf events)"
	exit 0
fi
if [ ! -x "$XZ" ] || [ ! -x "$TIME" ]; then
	echo "bench_unwind: skipped: needs $XZ (xz-utils) and $TIME (time)"
	exit 0
fi
[ -x "$AGENT" ] || make -s "$AGENT" >/dev/null
PERF=$(command -v perf || true)
PIN="taskset -c $(($(nproc) - 1))"
tmp=$(mktemp -d)
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo "")
[ -n "$stats_was" ] && echo 1 >/proc/sys/kernel/bpf_stats_enabled 2>/dev/null
trap 'busy_stop 2>/dev/null; [ -n "$stats_was" ] && echo "$stats_was" >/proc/sys/kernel/bpf_stats_enabled; rm -rf "$tmp"' EXIT
head -c "${MB}M" /dev/urandom >"$tmp/data"

# Runs the workload once; prints "cpu_s wall_s".
run_workload() {
	local t0 t1
	t0=$(date +%s.%N)
	$PIN "$TIME" -f "%U %S" -o "$tmp/w.time" "$XZ" -6 -T1 -c "$tmp/data" >/dev/null 2>&1
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" '{printf "%.4f %.4f\n", $1 + $2, b - a}' "$tmp/w.time"
}

cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'
}

wait_attached() {
	local i
	for i in $(seq 50); do
		if [ "$1" = agent ]; then
			bpftool prog show name profile_sample 2>/dev/null | grep -q run_cnt && break
		elif [ "$i" -ge 10 ]; then
			break
		fi
		sleep 0.1
	done
	sleep 0.2
}

# KIND PROFILER...: the profiler under GNU time while the workload runs once, then SIGINT.
# Prints "workload_cpu wall profiler_window_cpu"; $tmp/p.time gets "user sys maxrss_kb" and
# $tmp/bpf.ns the agent's BPF ns per run.
with_profiler() {
	local kind=$1 tpid ppid c0 c1 w wall
	shift
	"$TIME" -f "%U %S %M" -o "$tmp/p.time" "$@" &
	tpid=$!
	wait_attached "$kind"
	ppid=$(pgrep -P "$tpid" | head -1)
	c0=$(cpu_ns "$ppid")
	read -r w wall < <(run_workload)
	c1=$(cpu_ns "$ppid")
	echo - >"$tmp/bpf.ns"
	[ "$kind" = agent ] && bpftool prog show name profile_sample 2>/dev/null | awk '/run_time_ns/ {
		for (i = 1; i < NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) } }
		END { if (c) printf "%.0f", t / c; else printf "-" }' >"$tmp/bpf.ns"
	kill -INT "$ppid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	echo "$w $wall $(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')"
}

# Appends "freq kind round workload_cpu wall window_cpu samples_all xz_samples xz_entry
# bytes_per_s bpf_ns rss_kb" to $tmp/rows.
measure_agent() { # FREQ ROUND MODE
	local w wall win rss n xs xe mib bps
	read -r w wall win < <(with_profiler agent "$AGENT" profile -F "$1" --call-graph "$3" \
		-o "$tmp/a.folded" 2>"$tmp/a.err")
	rss=$(awk '{print $3}' "$tmp/p.time" | tail -n1)
	n=$(grep -o 'info: [0-9]* samples' "$tmp/a.err" | awk '{print $2}')
	xs=$(grep '^xz;' "$tmp/a.folded" | awk '{s += $NF} END {print s + 0}')
	xe=$(grep '^xz;' "$tmp/a.folded" | grep ';__libc_start_call_main;' | awk '{s += $NF} END {print s + 0}')
	mib=$(grep -o '(\([0-9.]*\) MiB in all)' "$tmp/a.err" | tr -d '(' | awk '{print $1}')
	bps=$(awk -v m="${mib:-0}" -v t="$wall" 'BEGIN {printf "%.0f", (t > 0 ? m * 1048576 / t : 0)}')
	echo "$1 $3 $2 $w $wall $win ${n:-0} $xs $xe $bps $(cat "$tmp/bpf.ns") ${rss:-0}" >>"$tmp/rows"
}

measure_perf() { # FREQ ROUND
	local w wall win rss n xs xe bps
	read -r w wall win < <(with_profiler perf "$PERF" record -q -a -e cpu-clock -F "$1" \
		--call-graph dwarf,8192 -o "$tmp/perf.data" 2>"$tmp/perf.err")
	rss=$(awk '{print $3}' "$tmp/p.time" | tail -n1)
	bps=$(awk -v b="$(stat -c %s "$tmp/perf.data")" -v t="$wall" 'BEGIN {printf "%.0f", (t > 0 ? b / t : 0)}')
	"$PERF" script -i "$tmp/perf.data" -F comm,ip,sym 2>/dev/null | awk '
		/^[^ \t]/ { if (in_s) { n++; if (x) { xs++; xe += e } }; in_s = 1; x = ($1 == "xz"); e = 0; next }
		/__libc_start_call_main/ { e = 1 }
		END { if (in_s) { n++; if (x) { xs++; xe += e } }; printf "%d %d %d\n", n, xs, xe }' >"$tmp/perf.cnt"
	read -r n xs xe <"$tmp/perf.cnt"
	echo "$1 perf $2 $w $wall $win ${n:-0} ${xs:-0} ${xe:-0} $bps - ${rss:-0}" >>"$tmp/rows"
}

: >"$tmp/rows"
run_workload >/dev/null # warm the caches
for r in $(seq "$ROUNDS"); do
	for f in $FREQS; do
		read -ra order <<<"$KINDS"
		for _ in $(seq $(((r - 1) % ${#order[@]}))); do order=("${order[@]:1}" "${order[0]}"); done
		for k in "${order[@]}"; do
			case $k in
			base) echo "$f base $r $(run_workload)" >>"$tmp/rows" ;;
			fp | dwarf | auto) measure_agent "$f" "$r" "$k" ;;
			perf) [ -n "$PERF" ] && measure_perf "$f" "$r" ;;
			esac
		done
		echo "bench_unwind: round $r/$ROUNDS at $f Hz done" >&2
	done
done
[ -n "${BENCH_UNWIND_RAW:-}" ] && cp "$tmp/rows" "$BENCH_UNWIND_RAW"

echo
echo "Workload: $XZ -6 -T1 on $MB MiB of random data (Debian's build: no frame pointers), pinned to the last CPU of $(nproc); $ROUNDS rounds, each with its own baseline, order rotated; every profiler system-wide on cpu-clock; perf record --call-graph dwarf,8192 (the agent's default copy size)."
echo "Cells are medians over rounds, [min, max] beside some."
echo
awk "
function median(arr, n,    i, j, t) {
	for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
	return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}"'
function range(arr, n, fmt,    i, lo, hi) {
	lo = hi = arr[1]; for (i = 2; i <= n; i++) { if (arr[i] < lo) lo = arr[i]; if (arr[i] > hi) hi = arr[i] }
	return sprintf("[" fmt ", " fmt "]", lo, hi)
}
$2 == "base" { base[$1, $3] = $4; next }
{
	f = $1; k = $2; key = f SUBSEP k; n = ++cnt[key]
	slow[key, n] = base[f, $3] ? 100 * ($4 / base[f, $3] - 1) : 0
	ent[key, n] = $8 ? 100 * $9 / $8 : 0; xs[key, n] = $8
	us[key, n] = $7 ? 1e6 * $6 / $7 : 0; pc[key, n] = $5 ? 100 * $6 / $5 : 0
	bps[key, n] = $10 / 1024; bns[key, n] = $11; rss[key, n] = $12 / 1024
	if (!(f in seenf)) { seenf[f] = 1; freqs[++nf] = f }
}
END {
	name["fp"] = "agent --call-graph fp"; name["dwarf"] = "agent --call-graph dwarf"
	name["auto"] = "agent --call-graph auto"; name["perf"] = "perf record --call-graph dwarf"
	printf "| profiler | Hz | xz samples | reach the entry %% [min, max] | slowdown %% [min, max] | profiler CPU µs/sample | profiler CPU %% of one CPU | BPF ns/run | KiB copied/s | peak RSS MiB |\n"
	printf "|---|---|---|---|---|---|---|---|---|---|\n"
	for (i = 1; i <= nf; i++) {
		f = freqs[i]
		for (kk = 1; kk <= 4; kk++) {
			k = kk == 1 ? "fp" : kk == 2 ? "dwarf" : kk == 3 ? "auto" : "perf"; key = f SUBSEP k; n = cnt[key]
			if (!n) continue
			for (j = 1; j <= n; j++) a[j] = xs[key, j]; mx = median(a, n)
			for (j = 1; j <= n; j++) a[j] = ent[key, j]; me = median(a, n); re = range(a, n, "%.0f")
			for (j = 1; j <= n; j++) a[j] = slow[key, j]; ms = median(a, n); rs = range(a, n, "%+.1f")
			for (j = 1; j <= n; j++) a[j] = us[key, j]; mu = median(a, n)
			for (j = 1; j <= n; j++) a[j] = pc[key, j]; mp = median(a, n)
			for (j = 1; j <= n; j++) a[j] = bps[key, j]; mb = median(a, n)
			for (j = 1; j <= n; j++) a[j] = rss[key, j]; mr = median(a, n)
			if (k != "perf") { for (j = 1; j <= n; j++) a[j] = bns[key, j]; mn = sprintf("%.0f", median(a, n)) } else mn = "-"
			printf "| %s | %s | %d | %.1f %s | %+.1f %s | %.1f | %.2f | %s | %.0f | %.1f |\n",
				name[k], f, mx, me, re, ms, rs, mu, mp, mn, mb, mr
		}
	}
}' "$tmp/rows"

# The daemon: profiler at 99 Hz, 5 s windows, with each call graph, on a busy host (the xz
# workload three times, and bench/common/busy_host.sh: a few dozen distinct programs and their
# libraries running at once). It profiles the whole host, so what else runs on the machine (its
# processes' symbols) is in the figures too. Per call graph, ROUNDS runs: the peak RSS (VmHWM),
# the median RSS over the run (one sample a second), the agent's CPU in % of one CPU, and what
# the symbol cache did (profiler.symbol_cache_bytes; its debug line at the last window).
# shellcheck source=bench/common/busy_host.sh
. bench/common/busy_host.sh
DAEMON_SECS=${BENCH_UNWIND_DAEMON_SECS:-30}
echo
echo "Daemon (run, profiler 99 Hz, 5 s windows, ${DAEMON_SECS} s on a busy host, $ROUNDS rounds; medians [min, max]):"
echo
echo "| call graph | peak RSS MiB | median RSS MiB | agent CPU % of one CPU | evictions per window | reloads per window | lines skipped per window |"
echo "|---|---|---|---|---|---|---|"
hz=$(getconf CLK_TCK)
busy_start "$tmp/busy"
for r in $(seq "$ROUNDS"); do
	for mode in fp dwarf auto; do
		rm -rf "$tmp/prof" "$tmp/rss"
		mkdir -p "$tmp/prof"
		"$AGENT" run --config /dev/null --no-http --no-execsnoop --collectors cpu --log-level debug \
			--set profiler.frequency=99 --set profiler.window=5s \
			--set "profiler.output_dir=$tmp/prof" --set "profiler.call_graph=$mode" >/dev/null 2>"$tmp/d.err" &
		dpid=$!
		sleep 2
		c0=$(awk '{print $14 + $15}' "/proc/$dpid/stat")
		( for _ in 1 2 3; do run_workload >/dev/null; done ) &
		wpid=$!
		for _ in $(seq "$DAEMON_SECS"); do
			sleep 1
			awk '/VmRSS/ {print $2}' "/proc/$dpid/status" >>"$tmp/rss"
		done
		wait "$wpid"
		c1=$(awk '{print $14 + $15}' "/proc/$dpid/stat")
		hwm=$(awk '/VmHWM/ {print $2}' "/proc/$dpid/status")
		kill -TERM "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
		cache=$(grep 'profiler: symbol cache' "$tmp/d.err" | tail -n1)
		windows=$(grep -c 'profiler: symbol cache' "$tmp/d.err")
		ev=$(sed -n 's/.* \([0-9]*\) evictions.*/\1/p' <<<"$cache")
		rl=$(sed -n 's/.* \([0-9]*\) reloads.*/\1/p' <<<"$cache")
		ls=$(sed -n 's/.* \([0-9]*\) lines skipped.*/\1/p' <<<"$cache")
		echo "$mode $hwm $(sort -n "$tmp/rss" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}') $(awk -v c=$((c1 - c0)) -v hz="$hz" -v d="$DAEMON_SECS" 'BEGIN {printf "%.2f", c / hz / d * 100}') ${windows:-0} ${ev:-0} ${rl:-0} ${ls:-0}" >>"$tmp/daemon"
	done
done
busy_stop
awk '
function median(v, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function col(k, c, scale,   i, v, lo, hi, m) {
	for (i = 1; i <= n[k]; i++) { v[i] = x[k, i, c] * scale; if (i == 1 || v[i] < lo) lo = v[i]; if (i == 1 || v[i] > hi) hi = v[i] }
	m = median(v, n[k])
	return sprintf("%.1f [%.1f, %.1f]", m, lo, hi)
}
{ k = $1; n[k]++; w = $5 > 0 ? $5 : 1
  x[k, n[k], 1] = $2; x[k, n[k], 2] = $3; x[k, n[k], 3] = $4
  x[k, n[k], 4] = $6 / w; x[k, n[k], 5] = $7 / w; x[k, n[k], 6] = $8 / w }
END {
	split("fp dwarf auto", order, " ")
	for (o = 1; o <= 3; o++) { k = order[o]; if (!n[k]) continue
		printf "| %s | %s | %s | %s | %s | %s | %s |\n", k, col(k, 1, 1 / 1024), col(k, 2, 1 / 1024), col(k, 3, 1), col(k, 4, 1), col(k, 5, 1), col(k, 6, 1) }
}' "$tmp/daemon"
