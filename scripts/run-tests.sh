#!/usr/bin/env bash
# Run every Criterion test binary (normal and sanitizer builds), then check that no BPF program
# of ours is left loaded. Ends with one line: "tests: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
tapdir=$(mktemp -d)
trap 'rm -rf "$tapdir"' EXIT
passed=0 failed=0 skipped=0
failures=()

run_binary() { # BIN JOBS
	local bin=$1 jobs=$2 tap rc p f s
	tap="$tapdir/$(echo "$bin" | tr / _).tap"
	echo "=== $bin"
	# The output is kept to look for LeakSanitizer reports: a leak in a Criterion worker is
	# printed but does not change the test's result.
	{
		"$bin" -j"$jobs" --tap="$tap" 2>&1
		echo $? >"$tap.rc"
	} | tee "$tap.log"
	rc=$(cat "$tap.rc")
	p=$(grep -cE '^ok ' "$tap" 2>/dev/null)
	s=$(grep -cE '^ok .*# SKIP' "$tap" 2>/dev/null)
	f=$(grep -cE '^not ok ' "$tap" 2>/dev/null)
	p=$((p - s))
	grep -E '^ok .*# SKIP' "$tap" | sed 's/^ok - /    skip: /'
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed before reporting, or an exit status the TAP output does not show
		echo "    $bin exited with status $rc"
	fi
	if grep -q "ERROR: LeakSanitizer" "$tap.log"; then
		f=$((f + 1))
		echo "    $bin: LeakSanitizer reported a leak (above)"
	fi
	[ "$f" -gt 0 ] && failures+=("$bin")
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# A second kernel first: its run also exports that kernel's BTF, which test_external_btf then
# uses as "another kernel's BTF". The full matrix (both 6.1 kernels, every BPF integration test
# inside) is `make test-kernels`; here the 6.1 kernel runs check, the CO-RE proof and the
# execsnoop and profiler smoke tests (about a minute under qemu's TCG).
if [ "${ANTIMETAL_SKIP_KERNELS:-0}" = 1 ]; then
	echo "=== second kernel: skipped: ANTIMETAL_SKIP_KERNELS=1"
	skipped=$((skipped + 1))
elif [ "$(id -u)" -ne 0 ]; then
	echo "=== second kernel: skipped: needs root (qemu packages, kernel download)"
	skipped=$((skipped + 1))
else
	echo "=== second kernel: debian-6.1 under qemu"
	if KERNELS=debian-6.1 TEST_NAMES="test_core_reloc test_check" NO_BUILD=1 tests/kernels/run.sh; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("second kernel (tests/kernels/run.sh debian-6.1)")
	fi
fi

for bin in build/tests/unit/test_* build/asan/tests/unit/test_*; do
	[ -x "$bin" ] && run_binary "$bin" 2
done
# Integration tests share the kernel (exec counts, perf events): one at a time.
for bin in build/tests/integration/test_* build/asan/tests/integration/test_*; do
	[ -x "$bin" ] && run_binary "$bin" 1
done

# The profiler's CLI tests once more with frame-pointer stacks (the default is auto).
for bin in build/tests/integration/test_profiler build/tests/integration/test_profiler_symbols; do
	[ -x "$bin" ] || continue
	echo "=== $bin with ANTIMETAL_CALL_GRAPH=fp"
	ANTIMETAL_CALL_GRAPH=fp run_binary "$bin" 1
done

# The hardware tests are their own binary (the spec's "built separately"). As they are, they
# pass on a machine with a PMU and report "skipped: no PMU" on a VM; forced onto cpu-clock, their
# assertions (sample rate, hot_a share) run everywhere.
if [ -x build/hardware-tests ]; then
	ANTIMETAL_BPF_PATH=./ebpf/build run_binary build/hardware-tests 1
	echo "=== build/hardware-tests, forced onto cpu-clock (ANTIMETAL_HWTEST_EVENT)"
	ANTIMETAL_HWTEST_EVENT=cpu-clock ANTIMETAL_BPF_PATH=./ebpf/build run_binary build/hardware-tests 1
else
	echo "=== hardware tests: skipped: build/hardware-tests not built (make hardware-tests)"
	skipped=$((skipped + 1))
fi

# Every exit path must release what it attached: nothing of ours may remain loaded.
if [ "$(id -u)" -eq 0 ] && command -v bpftool >/dev/null; then
	names=$(grep -ho '^int [A-Za-z0-9_]*' ebpf/src/*.bpf.c | awk '{print substr($2,1,15)}' | sort -u)
	left=""
	for n in $names; do
		bpftool prog show 2>/dev/null | grep -q " name $n " && left="$left $n"
	done
	if [ -n "$left" ]; then
		echo "=== bpf leak check: FAILED, still loaded:$left"
		failed=$((failed + 1))
		failures+=("bpf leak check")
	else
		echo "=== bpf leak check: no program of ours left loaded"
		passed=$((passed + 1))
	fi
else
	echo "=== bpf leak check: skipped: needs root and bpftool"
	skipped=$((skipped + 1))
fi

for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
