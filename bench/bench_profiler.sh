#!/usr/bin/env bash
# CPU profiler overhead and accuracy: a CPU-bound workload (hot: hot_a 75%, hot_b 25%, a fixed
# amount of work) alone, under `antimetal-agent profile` and under `perf record -g` (both
# system-wide, cpu-clock) at 99, 999 and 4999 Hz, repeated ROUNDS times.
#
# One run on a shared 2-CPU VM moves by several points, more than the differences being
# measured, so every round measures its own baseline next to the two profilers, in an order
# that rotates from round to round (slow drift of the machine then hits all three alike), and
# the tables give the median over rounds with the range beside it.
#
# Slowdown is the workload's CPU time (user+sys, which on this kernel includes the interrupt
# time spent in the sampled task: no IRQ_TIME_ACCOUNTING) against the baseline of its round:
# wall time would measure the neighbours. The profiler's own CPU is given twice: while the
# workload runs (steady state, from /proc/PID/task/*/schedstat) and in total (start-up and,
# for the agent, symbolization; perf symbolizes later, in `perf report`, which is not counted).
# Needs root; the perf rows are left out when perf is missing.
set -u
cd "$(dirname "$0")/.."
AGENT=build/antimetal-agent
HOT=build/tests/workloads/hot
SLICES=${BENCH_PROFILER_SLICES:-20000} # about 2 s of CPU on a 2020s core
FREQS=${BENCH_PROFILER_FREQS:-"99 999 4999"}
ROUNDS=${BENCH_PROFILER_ROUNDS:-5}
TIME=/usr/bin/time

if [ "$(id -u)" -ne 0 ]; then
	echo "bench_profiler: skipped: needs root (BPF and system-wide perf events)"
	exit 0
fi
[ -x "$AGENT" ] && [ -x "$HOT" ] || make -s "$AGENT" "$HOT" >/dev/null
if [ ! -x "$TIME" ]; then
	echo "bench_profiler: /usr/bin/time missing (Debian package 'time')" >&2
	exit 1
fi
PERF=$(command -v perf || true)
# The workload runs on the last CPU: the profilers' own threads then mostly run beside it
# rather than preempting it, as on a host with spare cores, and migrations stop adding noise.
PIN="taskset -c $(($(nproc) - 1))"
tmp=$(mktemp -d)
# kernel.bpf_stats_enabled makes the kernel time each BPF program run: the per-sample cost of
# our program inside the sampled task. Restored on exit.
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo "")
[ -n "$stats_was" ] && echo 1 >/proc/sys/kernel/bpf_stats_enabled 2>/dev/null
trap '[ -n "$stats_was" ] && echo "$stats_was" >/proc/sys/kernel/bpf_stats_enabled; rm -rf "$tmp"' EXIT

# The median of ARR[1..N] (sorts it), for the awk programs that make the tables.
AWK_MEDIAN='
function median(arr, n,    i, j, t) {
	for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
	return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}'

# Run the workload once; prints its CPU seconds.
run_workload() {
	$PIN "$TIME" -f "%U %S" -o "$tmp/w.time" "$HOT" --slices "$SLICES" >/dev/null 2>&1
	awk '{printf "%.4f\n", $1 + $2}' "$tmp/w.time"
}

# On-CPU nanoseconds of every thread of PID so far.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'
}

# Waits until PROG's BPF program is attached (agent) or a fixed time (perf, which says nothing).
wait_attached() {
	local i
	for i in $(seq 50); do
		if [ "$1" = agent ]; then
			bpftool prog show name profile_sample >/dev/null 2>&1 &&
				bpftool prog show name profile_sample | grep -q run_cnt && break
		elif [ "$i" -ge 10 ]; then
			break
		fi
		sleep 0.1
	done
	sleep 0.2
}

# KIND PROFILER...: runs PROFILER under GNU time while the workload runs once, then SIGINTs it.
# Prints "workload_cpu_s profiler_window_cpu_s"; GNU time's "user sys maxrss" goes to
# $tmp/p.time and, for the agent, the BPF ns per run to $tmp/bpf.ns.
with_profiler() {
	local kind=$1 tpid ppid c0 c1 w
	shift
	"$TIME" -f "%U %S %M" -o "$tmp/p.time" "$@" &
	tpid=$!
	wait_attached "$kind"
	ppid=$(pgrep -P "$tpid" | head -1)
	c0=$(cpu_ns "$ppid")
	w=$(run_workload)
	c1=$(cpu_ns "$ppid")
	if [ "$kind" = agent ]; then
		bpftool prog show name profile_sample 2>/dev/null | awk '/run_time_ns/ {
			for (i = 1; i < NF; i++) { if ($i == "run_time_ns") t = $(i + 1)
				if ($i == "run_cnt") c = $(i + 1) } }
			END { if (c) printf "%.0f", t / c; else printf "-" }' >"$tmp/bpf.ns"
	fi
	kill -INT "$ppid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	echo "$w $(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')"
}

# One measurement each: appends "freq kind round workload_cpu window_cpu total_cpu samples
# bpf_ns rss_kb hot_a_samples hot_b_samples" to $tmp/rows (a baseline row is "freq base round workload_cpu").
measure_agent() { # FREQ ROUND
	local w win pu ps rss n a b
	read -r w win < <(with_profiler agent "$AGENT" profile -F "$1" -o "$tmp/a.folded" 2>"$tmp/a.err")
	read -r pu ps rss < <(tail -n1 "$tmp/p.time")
	n=$(grep -o 'info: [0-9]* samples' "$tmp/a.err" | awk '{print $2}')
	a=$(grep '^hot;' "$tmp/a.folded" | grep ';hot_a' | awk '{s += $NF} END {print s + 0}')
	b=$(grep '^hot;' "$tmp/a.folded" | grep ';hot_b' | awk '{s += $NF} END {print s + 0}')
	echo "$1 agent $2 $w $win $(echo "$pu $ps" | awk '{print $1 + $2}') ${n:-0} $(cat "$tmp/bpf.ns") $rss $a $b" >>"$tmp/rows"
}

measure_perf() { # FREQ ROUND [KIND] (perf: with -g; perfnog: without, the sampling interrupt alone)
	local w win pu ps rss n a b kind=${3:-perf} g=-g
	[ "$kind" = perfnog ] && g=""
	read -r w win < <(with_profiler perf "$PERF" record -q -a $g -e cpu-clock -F "$1" -o "$tmp/perf.data" 2>"$tmp/perf.err")
	read -r pu ps rss < <(tail -n1 "$tmp/p.time")
	# Idle samples are left out, as the agent leaves them out by default.
	n=$("$PERF" report -i "$tmp/perf.data" --stdio --no-children --sort pid -F sample 2>/dev/null |
		awk '/^ *[0-9]+ / && !/ 0:swapper/ {s += $1} END {print s + 0}')
	"$PERF" report -i "$tmp/perf.data" --stdio --no-children --comm hot --sort sym -F sample,sym \
		-g none 2>/dev/null >"$tmp/perf.sym"
	a=$(awk '/ hot_a$/{print $1}' "$tmp/perf.sym" | head -1)
	b=$(awk '/ hot_b$/{print $1}' "$tmp/perf.sym" | head -1)
	echo "$1 $kind $2 $w $win $(echo "$pu $ps" | awk '{print $1 + $2}') $n - $rss ${a:-0} ${b:-0}" >>"$tmp/rows"
}

: >"$tmp/rows"
run_workload >/dev/null # warm the caches and the CPU frequency
for r in $(seq "$ROUNDS"); do
	for f in $FREQS; do
		# Rotate the order: baseline, agent, perf, perf without -g; then agent, ..., baseline; ...
		order=(base agent perf perfnog)
		for _ in $(seq $(((r - 1) % 4))); do order=("${order[@]:1}" "${order[0]}"); done
		for k in "${order[@]}"; do
			case $k in
			base) echo "$f base $r $(run_workload)" >>"$tmp/rows" ;;
			agent) measure_agent "$f" "$r" ;;
			perf | perfnog) [ -n "$PERF" ] && measure_perf "$f" "$r" "$k" ;;
			esac
		done
		echo "bench_profiler: round $r/$ROUNDS at $f Hz done" >&2
	done
done
[ -n "${BENCH_PROFILER_RAW:-}" ] && cp "$tmp/rows" "$BENCH_PROFILER_RAW"

echo
echo "Workload: $HOT --slices $SLICES pinned to the last CPU (hot_a 75% / hot_b 25% by construction); $ROUNDS rounds, each with its own baseline, order rotated; profilers system-wide on cpu-clock."
echo "Cells are the median over rounds, with [min, max] where it matters."
echo
awk -v rounds="$ROUNDS" "$AWK_MEDIAN"'
function minmax(arr, n,    i, lo, hi) {
	lo = hi = arr[1]; for (i = 2; i <= n; i++) { if (arr[i] < lo) lo = arr[i]; if (arr[i] > hi) hi = arr[i] }
	return sprintf("[%+.1f, %+.1f]", lo, hi)
}
function pooled(key) { return pa[key] + pb[key] ? 100 * pa[key] / (pa[key] + pb[key]) : 0 }
function sigma(key,    p, n) { # standard error of the pooled share, in points
	n = pa[key] + pb[key]; p = pooled(key) / 100; return n ? 100 * sqrt(p * (1 - p) / n) : 0
}
$2 == "base" { base[$1, $3] = $4; next }
{ row[++nrows] = $0 }
END {
	for (r = 1; r <= nrows; r++) {
		split(row[r], v, " ")
		f = v[1]; k = v[2]; key = f SUBSEP k; n = ++cnt[key]
		slow[key, n] = 100 * (v[4] / base[f, v[3]] - 1); win[key, n] = v[5]; tot[key, n] = v[6]
		smp[key, n] = v[7]; bns[key, n] = v[8]; rss[key, n] = v[9]; rnd[key, n] = v[3]
		sh[key, n] = v[10] + v[11] ? 100 * v[10] / (v[10] + v[11]) : 0
		pa[key] += v[10]; pb[key] += v[11]
		if (!(f in seenf)) { seenf[f] = 1; freqs[++nf] = f }
	}
	name["agent"] = "antimetal-agent"; name["perf"] = "perf record -g"
	name["perfnog"] = "perf record (no -g: the sampling alone)"
	printf "| profiler | Hz | slowdown median [min, max] | samples | CPU while sampling, µs/sample | total CPU s | BPF ns/run | peak RSS MB | hot_a share %%, rounds pooled ± 2σ |\n"
	printf "|---|---|---|---|---|---|---|---|---|\n"
	for (i = 1; i <= nf; i++) {
		f = freqs[i]
		for (kk = 1; kk <= 3; kk++) {
			k = kk == 1 ? "agent" : kk == 2 ? "perf" : "perfnog"; key = f SUBSEP k; n = cnt[key]
			if (!n) continue
			for (j = 1; j <= n; j++) { a[j] = slow[key, j] }; ms = median(a, n); mm = minmax(a, n)
			for (j = 1; j <= n; j++) { a[j] = smp[key, j] }; msmp = median(a, n)
			for (j = 1; j <= n; j++) { a[j] = smp[key, j] ? 1e6 * win[key, j] / smp[key, j] : 0 }; mus = median(a, n)
			for (j = 1; j <= n; j++) { a[j] = tot[key, j] }; mtot = median(a, n)
			for (j = 1; j <= n; j++) { a[j] = rss[key, j] / 1024 }; mrss = median(a, n)
			ps = pooled(key); pe = 2 * sigma(key)
			if (k == "agent") { for (j = 1; j <= n; j++) b2[j] = bns[key, j]; mb = sprintf("%.0f", median(b2, n)) } else mb = "-"
			printf "| %s | %s | %+.1f%% %s | %d | %.1f | %.3f | %s | %.1f | %.2f ± %.2f |\n",
				name[k], f, ms, mm, msmp, mus, mtot, mb, mrss, ps, pe
		}
	}
	printf "\nAgent minus perf -g: slowdown points per round; hot_a share points, rounds pooled, ± 2σ (binomial):\n\n"
	printf "| Hz | slowdown difference median [min, max] | rounds agent <= perf | share difference |\n|---|---|---|---|\n"
	for (i = 1; i <= nf; i++) {
		f = freqs[i]; ka = f SUBSEP "agent"; kp = f SUBSEP "perf"
		if (!cnt[kp]) continue
		m = 0; le = 0
		for (j = 1; j <= cnt[ka]; j++) for (l = 1; l <= cnt[kp]; l++) if (rnd[ka, j] == rnd[kp, l]) {
			m++; d[m] = slow[ka, j] - slow[kp, l]; if (d[m] <= 0) le++ }
		if (!m) continue
		md = median(d, m); r1 = minmax(d, m)
		printf "| %s | %+.1f %s | %d/%d | %+.2f ± %.2f |\n", f, md, r1, le, m,
			pooled(ka) - pooled(kp), 2 * sqrt(sigma(ka) ^ 2 + sigma(kp) ^ 2)
	}
}' "$tmp/rows"

# The mmap side band's price: every exec and mmap on the host now writes a record. An exec
# storm (fork + exec of /bin/true, 2 at a time) alone, under the agent at 99 Hz with and
# without the side band, and under perf record -g (which asks the kernel for the same records),
# in rotated rounds; exec/s and the profiler's CPU while the storm runs.
STORM=build/tests/workloads/exec_storm
STORM_N=${BENCH_PROFILER_STORM_EXECS:-1500}
[ -x "$STORM" ] || make -s "$STORM" >/dev/null
storm() { "$STORM" -j 2 "$STORM_N" /bin/true | sed -n 's/.*rate=\([0-9.]*\).*/\1/p'; }
# KIND PROFILER...: the storm's rate under PROFILER, and the profiler's CPU seconds meanwhile.
storm_under() {
	local kind=$1 ppid c0 c1 rate
	shift
	"$@" >/dev/null 2>&1 &
	ppid=$!
	wait_attached "$kind"
	c0=$(cpu_ns "$ppid")
	rate=$(storm)
	c1=$(cpu_ns "$ppid")
	kill -INT "$ppid" 2>/dev/null
	wait "$ppid" 2>/dev/null
	echo "$rate $(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')"
}
: >"$tmp/storm"
for r in $(seq "$ROUNDS"); do
	order=(none side noside perf)
	for _ in $(seq $(((r - 1) % 4))); do order=("${order[@]:1}" "${order[0]}"); done
	for k in "${order[@]}"; do
		case $k in
		none) echo "none $(storm) 0" ;;
		side) echo "side $(storm_under agent "$AGENT" profile -F 99 -o /dev/null)" ;;
		noside) echo "noside $(ANTIMETAL_PROFILER_NO_SIDEBAND=1 storm_under agent "$AGENT" profile -F 99 -o /dev/null)" ;;
		perf) [ -n "$PERF" ] && echo "perf $(storm_under perf "$PERF" record -q -a -g -e cpu-clock -F 99 -o "$tmp/perf.data")" ;;
		esac >>"$tmp/storm"
	done
	echo "bench_profiler: exec storm round $r/$ROUNDS done" >&2
done
echo
echo "Exec storm ($STORM -j 2 $STORM_N /bin/true) under a 99 Hz system-wide profile, $ROUNDS rounds, medians:"
echo
awk -v n="$STORM_N" "$AWK_MEDIAN"'
{ c = ++cnt[$1]; rate[$1, c] = $2; cpu[$1, c] = $3 }
END {
	name["none"] = "no profiler"; name["side"] = "antimetal-agent (mmap side band)"
	name["noside"] = "antimetal-agent, side band off"; name["perf"] = "perf record -g"
	for (i = 1; i <= cnt["none"]; i++) a[i] = rate["none", i]; base = median(a, cnt["none"])
	print "| profiler | exec/s | vs no profiler | profiler CPU per exec, µs |"
	print "|---|---|---|---|"
	split("none side noside perf", ks, " ")
	for (q = 1; q <= 4; q++) {
		k = ks[q]; if (!cnt[k]) continue
		for (i = 1; i <= cnt[k]; i++) a[i] = rate[k, i]; m = median(a, cnt[k])
		for (i = 1; i <= cnt[k]; i++) a[i] = 1e6 * cpu[k, i] / n; c = median(a, cnt[k])
		printf "| %s | %.0f | %+.1f%% | %s |\n", name[k], m, 100 * (m / base - 1), k == "none" ? "-" : sprintf("%.1f", c)
	}
}' "$tmp/storm"
