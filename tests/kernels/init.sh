#!/bin/busybox sh
# /init of the test-kernels initramfs: mounts what the agent needs, runs the smoke tests on the
# kernel it boots in and reports each as one "AMTEST <PASS|FAIL|SKIP|INFO> <name> <detail>" line
# on the console; "AMTEST DONE" marks a complete run (run.sh treats its absence as a failure).
# The raw BTF of this kernel is written to the second serial port for the host to keep.
/bin/busybox --install -s /bin
# Real tools copied from the host (GNU tar, xz) before the busybox applets of the same name.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# devtmpfs lacks these; bash's process substitution (btfgen.sh) needs /dev/fd.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
# No tmpfs over /tmp: the source tree (and the binaries at their host paths) may live under
# /tmp, as in a CI clone; the initramfs root is already a writable in-memory filesystem.
mkdir -p /tmp
chmod 1777 /tmp
# Criterion's test runner shares memory with its workers through shm_open.
mkdir -p /dev/shm
mount -t tmpfs tmpfs /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Loopback up: the daemon tests (test_oom) scrape the agent's /metrics on 127.0.0.1.
ip link set lo up
# Kernel messages would interleave with the result lines.
echo 1 >/proc/sys/kernel/printk
# Written by mkinitramfs.sh: AGENT, TEST_BINS, WORKLOAD_DIR, PROFILE_WORKLOAD, PROFILE_WANT,
# STEP_TIMEOUT.
. /etc/amtest.conf

report() { # STATUS NAME DETAIL
	echo "AMTEST $1 $2 $3"
}

# Whether the running kernel is older than MAJOR.MINOR.
kernel_before() { # MAJOR MINOR
	uname -r | awk -F '[.-]' -v a="$1" -v b="$2" '{ exit !($1 < a || ($1 == a && $2 < b)) }'
}

# A step that prints "not built yet" belongs to a subcommand still being written: a skip, said so.
not_built() {
	grep -q "not built yet" "$1" 2>/dev/null
}

step_btf() {
	if [ -r /sys/kernel/btf/vmlinux ]; then
		report INFO btf "native /sys/kernel/btf/vmlinux, $(wc -c </sys/kernel/btf/vmlinux) bytes"
	else
		report INFO btf "no native BTF (/sys/kernel/btf/vmlinux missing)"
	fi
}

step_check() {
	timeout "$STEP_TIMEOUT" "$AGENT" check >/tmp/check.out 2>&1
	rc=$?
	cat /tmp/check.out
	if not_built /tmp/check.out; then
		report SKIP check "check subcommand not built yet"
	elif [ "$rc" -eq 0 ]; then
		report PASS check "exit 0: CO-RE programs can run"
	else
		report FAIL check "exit $rc"
	fi
	timeout "$STEP_TIMEOUT" "$AGENT" check --json >/tmp/check.json 2>/tmp/check.err
	rc=$?
	if not_built /tmp/check.err; then
		report SKIP check_json "check subcommand not built yet"
	elif [ "$rc" -eq 0 ] && grep -q '^{' /tmp/check.json; then
		report PASS check_json "exit 0, JSON object"
	else
		cat /tmp/check.err
		report FAIL check_json "exit $rc"
	fi
}

# Each integration test binary, run whole; counts come from its TAP output so that a binary whose
# tests all skipped is reported as a skip, not a pass.
step_tests() {
	for bin in $TEST_BINS; do
		name=${bin##*/}
		if [ ! -x "$bin" ]; then
			report SKIP "$name" "not built"
			continue
		fi
		t0=$(cut -d ' ' -f 1 /proc/uptime)
		timeout "$STEP_TIMEOUT" "$bin" -j1 --tap=/tmp/"$name".tap
		rc=$?
		t1=$(cut -d ' ' -f 1 /proc/uptime)
		cat /tmp/"$name".tap 2>/dev/null
		ok=$(grep -c '^ok ' /tmp/"$name".tap 2>/dev/null)
		skip=$(grep -c '^ok .*# SKIP' /tmp/"$name".tap 2>/dev/null)
		bad=$(grep -c '^not ok ' /tmp/"$name".tap 2>/dev/null)
		ok=${ok:-0} skip=${skip:-0} bad=${bad:-0}
		pass=$((ok - skip))
		detail="$pass passed, $bad failed, $skip skipped in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1fs", b - a }')"
		if [ "$rc" -ne 0 ] || [ "$bad" -gt 0 ]; then
			report FAIL "$name" "$detail (exit $rc)"
		elif [ "$pass" -eq 0 ]; then
			report SKIP "$name" "$detail"
		else
			report PASS "$name" "$detail"
		fi
	done
}

# execsnoop must report an exec this script makes; the marker argument identifies it.
step_execsnoop() {
	"$AGENT" execsnoop --help >/tmp/es.help 2>&1
	if [ $? -ne 0 ]; then
		cat /tmp/es.help
		report SKIP execsnoop "execsnoop subcommand not built yet"
		return
	fi
	timeout "$STEP_TIMEOUT" "$AGENT" execsnoop --json -d 8 >/tmp/es.out 2>/tmp/es.err &
	pid=$!
	# Exec until the collector exits: it attaches at an unknown point after starting.
	while kill -0 "$pid" 2>/dev/null; do
		/bin/true am-kernels-marker
		sleep 1
	done
	wait "$pid"
	rc=$?
	cat /tmp/es.err
	n=$(grep -c 'am-kernels-marker' /tmp/es.out)
	grep -m 1 'am-kernels-marker' /tmp/es.out
	if [ "$rc" -eq 0 ] && [ "$n" -gt 0 ] && grep 'am-kernels-marker' /tmp/es.out | grep -q '"/bin/true"'; then
		report PASS execsnoop "$n events for /bin/true am-kernels-marker"
	else
		report FAIL execsnoop "exit $rc, $n marker events"
	fi
}

# The profiler must sample a CPU-bound process and name its hot function.
step_profile() {
	"$AGENT" profile --help >/tmp/prof.help 2>&1
	if [ $? -ne 0 ]; then
		cat /tmp/prof.help
		report SKIP profile "profile subcommand not built yet"
		return
	fi
	busy="$WORKLOAD_DIR/$PROFILE_WORKLOAD"
	want=$PROFILE_WANT
	if [ -z "$PROFILE_WORKLOAD" ] || [ ! -x "$busy" ]; then
		busy=""
		want=""
	fi
	if [ -n "$busy" ]; then
		"$busy" 30 >/dev/null 2>&1 &
	else
		sh -c 'while :; do :; done' &
	fi
	bpid=$!
	timeout "$STEP_TIMEOUT" "$AGENT" profile -d 3 --format folded -o /tmp/prof.folded 2>/tmp/prof.err
	rc=$?
	kill "$bpid"
	wait "$bpid" 2>/dev/null
	cat /tmp/prof.err
	head -n 5 /tmp/prof.folded
	samples=$(awk '{ s += $NF } END { print s + 0 }' /tmp/prof.folded)
	# The attach the profiler chose by itself: BPF links for perf events exist from 5.15.
	attach=$(sed -n 's/.*(attach: \([a-z]*\)).*/\1/p' /tmp/prof.err)
	want_attach=link
	kernel_before 5 15 && want_attach=ioctl
	if [ "$rc" -ne 0 ] || [ "$samples" -eq 0 ]; then
		report FAIL profile "exit $rc, $samples samples"
	elif [ -n "$want" ] && ! grep -q "$want" /tmp/prof.folded; then
		report FAIL profile "$samples samples, none in $want"
	elif [ "$attach" != "$want_attach" ]; then
		report FAIL profile "attached through '${attach:-?}', want $want_attach on $(uname -r)"
	else
		report PASS profile "$samples samples${want:+, $want symbolized}, attach: $attach"
	fi
}

# RLIMIT_MEMLOCK, as a service manager may leave it (64 KiB, hard): check's memlock row, and a
# profile with CAP_SYS_RESOURCE (libbpf raises the limit where the kernel charges it) and without
# (before 5.11 the load must fail naming RLIMIT_MEMLOCK; from 5.11 it is not charged at all).
step_memlock() {
	if ! command -v setpriv >/dev/null || ! command -v prlimit >/dev/null; then
		report SKIP memlock "needs setpriv and prlimit (util-linux) in the initramfs"
		return
	fi
	lim="prlimit --memlock=65536:65536"
	nores="setpriv --bounding-set -sys_resource"
	$lim "$AGENT" check | grep -E '^  (memlock|perf_event_link|perf_event_ioctl) '
	$lim $nores "$AGENT" check | grep '^  memlock '
	$lim "$AGENT" profile -F 99 -d 1 -o /dev/null 2>/tmp/ml.raise
	rc_raise=$?
	$lim $nores "$AGENT" profile -F 99 -d 1 -o /dev/null 2>/tmp/ml.fixed
	rc_fixed=$?
	cat /tmp/ml.raise /tmp/ml.fixed
	if [ "$rc_raise" -ne 0 ]; then
		report FAIL memlock "profile under 64 KiB with CAP_SYS_RESOURCE: exit $rc_raise"
	elif kernel_before 5 11; then
		if [ "$rc_fixed" -ne 0 ] && grep -q 'RLIMIT_MEMLOCK, here 64 KiB' /tmp/ml.fixed; then
			report PASS memlock "charged: raised by libbpf with CAP_SYS_RESOURCE; without, the load fails naming RLIMIT_MEMLOCK"
		else
			report FAIL memlock "unraisable 64 KiB: exit $rc_fixed, cause not named"
		fi
	elif [ "$rc_fixed" -eq 0 ]; then
		report PASS memlock "not charged: profile runs under an unraisable 64 KiB limit"
	else
		report FAIL memlock "not charged, yet profile failed under 64 KiB: exit $rc_fixed"
	fi
}

# Raw bytes to ttyS1: the host keeps them as this kernel's BTF (a "wrong kernel" for the host).
step_export_btf() {
	[ -r /sys/kernel/btf/vmlinux ] || return
	if stty -F /dev/ttyS1 raw -echo 2>/dev/null &&
		timeout 120 cat /sys/kernel/btf/vmlinux >/dev/ttyS1; then
		report INFO btf_export "$(wc -c </sys/kernel/btf/vmlinux) bytes on ttyS1"
	else
		report INFO btf_export "failed or timed out: the host keeps no BTF of this kernel"
	fi
}

# Run STEP and report how long it took (guest clock): where the minutes of a run go.
timed() {
	local start end
	start=$(cut -d ' ' -f 1 /proc/uptime)
	"$1"
	end=$(cut -d ' ' -f 1 /proc/uptime)
	echo "AMTEST INFO time ${1#step_} $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1fs", b - a }')"
}

echo "AMTEST INFO kernel $(uname -r)"
echo "AMTEST INFO cpus $(nproc)"
echo "AMTEST INFO clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "AMTEST INFO time boot $(cut -d ' ' -f 1 /proc/uptime)s"
step_btf
timed step_check
timed step_tests
timed step_execsnoop
timed step_profile
timed step_memlock
timed step_export_btf
echo "AMTEST DONE"
poweroff -f
