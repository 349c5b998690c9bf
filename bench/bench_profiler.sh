#!/usr/bin/env bash
# CPU profiler overhead and accuracy, all in one run: a CPU-bound workload (hot: hot_a 75%,
# hot_b 25%, fixed work) alone, under `antimetal-agent profile` and under `perf record -g`
# (system-wide, cpu-clock) at 99, 999 and 4999 Hz. Prints a markdown table: the workload's CPU
# time and its slowdown against the baseline, the profiler's own CPU time per sample and peak
# RSS, and hot_a's share of hot_a+hot_b as each profiler saw it.
# Slowdown uses the workload's CPU time (user+sys), not wall time: on a shared machine the
# wall clock measures the neighbours. Needs root; skips perf columns when perf is missing.
set -u
cd "$(dirname "$0")/.."
AGENT=build/antimetal-agent
HOT=build/tests/workloads/hot
SLICES=${BENCH_PROFILER_SLICES:-20000}  # about 2 s of CPU on a 2020s core
FREQS=${BENCH_PROFILER_FREQS:-"99 999 4999"}
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
tmp=$(mktemp -d)
# kernel.bpf_stats_enabled makes the kernel time each BPF program run: the per-sample cost of
# our program inside the sampled task. Restored on exit.
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo "")
[ -n "$stats_was" ] && echo 1 >/proc/sys/kernel/bpf_stats_enabled 2>/dev/null
trap '[ -n "$stats_was" ] && echo "$stats_was" >/proc/sys/kernel/bpf_stats_enabled; rm -rf "$tmp"' EXIT

# Run the workload under GNU time; prints "cpu_seconds wall_seconds".
run_workload() {
	"$TIME" -f "%U %S %e" -o "$tmp/w.time" "$HOT" --slices "$SLICES" >/dev/null 2>&1
	awk '{printf "%.3f %.3f\n", $1 + $2, $3}' "$tmp/w.time"
}

# PROFILER... runs in the background under GNU time while the workload runs once, then gets
# SIGINT. Prints the workload's "cpu wall"; the profiler's time goes to $tmp/p.time.
with_profiler() {
	"$TIME" -f "%U %S %M" -o "$tmp/p.time" "$@" &
	local tpid=$!
	sleep 1.5 # load and attach
	run_workload
	bpftool prog show name profile_sample 2>/dev/null |
		awk '/run_time_ns/ { for (i = 1; i < NF; i++) { if ($i == "run_time_ns") t = $(i + 1);
			if ($i == "run_cnt") c = $(i + 1) } } END { if (c) printf "%.0f", t / c; else printf "-" }' \
		>"$tmp/bpf.ns"
	# SIGINT to the profiler itself (GNU time is its parent).
	pkill -INT -P "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
}

share() { # A B -> A/(A+B) in percent
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + b > 0) printf "%.1f", 100 * a / (a + b); else print "-" }'
}

base1=$(run_workload)
base2=$(run_workload)
base_cpu=$(echo "$base1 $base2" | awk '{print ($1 < $3) ? $1 : $3}')

rows=()
for f in $FREQS; do
	# antimetal-agent, system-wide like perf -a.
	w=$(with_profiler "$AGENT" profile -F "$f" -o "$tmp/a.folded" 2>"$tmp/a.err")
	read -r pu ps prss < <(tail -n1 "$tmp/p.time")
	samples=$(grep -o 'info: [0-9]* samples' "$tmp/a.err" | awk '{print $2}')
	a=$(grep '^hot;' "$tmp/a.folded" | grep ';hot_a' | awk '{s += $NF} END {print s + 0}')
	b=$(grep '^hot;' "$tmp/a.folded" | grep ';hot_b' | awk '{s += $NF} END {print s + 0}')
	rows+=("$(echo "$w" | awk -v f="$f" -v base="$base_cpu" -v pu="$pu" -v ps="$ps" -v rss="$prss" \
		-v n="${samples:-0}" -v sh="$(share "$a" "$b")" -v bns="$(cat "$tmp/bpf.ns")" '{
		printf "| antimetal-agent | %s | %.2f | %+.1f%% | %d | %.3f | %.1f | %s | %.1f | %s |",
			f, $1, 100 * ($1 / base - 1), n, pu + ps, n ? 1e6 * (pu + ps) / n : 0, bns, rss / 1024, sh }')")

	if [ -n "$PERF" ]; then
		w=$(with_profiler "$PERF" record -q -a -g -e cpu-clock -F "$f" -o "$tmp/perf.data" 2>"$tmp/perf.err")
		read -r pu ps prss < <(tail -n1 "$tmp/p.time")
		"$PERF" report -i "$tmp/perf.data" --stdio --no-children --sort comm -F sample 2>/dev/null \
			>"$tmp/perf.comm"
		samples=$(awk '/^ *[0-9]+ /{s += $1} END {print s + 0}' "$tmp/perf.comm")
		"$PERF" report -i "$tmp/perf.data" --stdio --no-children --comm hot --sort sym -F sample,sym \
			-g none 2>/dev/null >"$tmp/perf.sym"
		a=$(awk '/ hot_a$/{print $1}' "$tmp/perf.sym" | head -1)
		b=$(awk '/ hot_b$/{print $1}' "$tmp/perf.sym" | head -1)
		rows+=("$(echo "$w" | awk -v f="$f" -v base="$base_cpu" -v pu="$pu" -v ps="$ps" -v rss="$prss" \
			-v n="$samples" -v sh="$(share "${a:-0}" "${b:-0}")" '{
			printf "| perf record -g | %s | %.2f | %+.1f%% | %d | %.3f | %.1f | - | %.1f | %s |",
				f, $1, 100 * ($1 / base - 1), n, pu + ps, n ? 1e6 * (pu + ps) / n : 0, rss / 1024, sh }')")
	fi
done

echo
echo "Workload: $HOT --slices $SLICES (hot_a 75% / hot_b 25% by construction); baseline CPU time ${base_cpu} s (best of 2)."
echo "Profilers run system-wide on cpu-clock; their CPU time includes start-up, and for the agent symbolization (perf symbolizes later, in perf report, not counted)."
echo
echo "BPF ns/sample: kernel-measured run time of the profiler's BPF program per sample (kernel.bpf_stats_enabled), spent inside the sampled tasks."
echo
echo "| profiler | Hz | workload CPU s | slowdown | samples | profiler CPU s | µs CPU/sample | BPF ns/sample | peak RSS MB | hot_a share % |"
echo "|---|---|---|---|---|---|---|---|---|---|"
echo "| none | - | $base_cpu | - | - | - | - | - | - | 75.0 (expected) |"
for r in "${rows[@]}"; do echo "$r"; done
