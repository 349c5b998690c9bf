#!/usr/bin/env bash
# Build the parser fuzzers and run each briefly, seeded from the fixtures (real captures and
# their empty/truncated/garbled variants). SECONDS_EACH (default 1) bounds each run; any crash,
# leak or sanitizer report fails the script with the fuzzer's output.
set -u
cd "$(dirname "$0")/../.."
each=${SECONDS_EACH:-1}
make -s -C tests/fuzz >/dev/null || { echo "fuzz: build failed" >&2; exit 1; }
fx=tests/fixtures
# target -> seed files (relative to proc/real, proc/bad/*; kmsg under dev/real)
declare -A seeds=(
	[loadavg]="loadavg" [meminfo]="meminfo" [vmstat]="vmstat" [diskstats]="diskstats"
	[net_dev]="1/net/dev" [net_snmp]="1/net/snmp 1/net/netstat" [sockstat]="1/net/sockstat"
	[psi]="pressure/cpu pressure/memory pressure/io" [stat]="stat" [pid_stat]="1/stat"
	[mountinfo]="self/mountinfo" [flat_keyed]="" [kmsg]="kmsg" [cpuinfo]="cpuinfo"
	[prom_text]="loadavg" [cgroup_files]="" [cgroup_layout]="self/mountinfo" [oom_kmsg]=""
	[textfile]="" [mounts]="1/mounts" [os_release]="" [selinux_config]=""
	[kernel_tables]="sys/fs/file-nr net/softnet_stat net/stat/nf_conntrack 1/net/udp 1/net/arp 1/net/snmp6"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for t in "${!seeds[@]}"; do
	corpus="$work/$t"
	mkdir -p "$corpus"
	n=0
	for rel in ${seeds[$t]}; do
		for root in $fx/proc/real $fx/dev/real $fx/proc/bad/empty $fx/proc/bad/truncated \
			$fx/proc/bad/garbled; do
			[ -f "$root/$rel" ] && cp "$root/$rel" "$corpus/seed$((n++))"
		done
	done
	if [ "$t" = textfile ]; then
		for f in $fx/textfile/mixed/*.prom; do cp "$f" "$corpus/seed$((n++))"; done
	fi
	if [ "$t" = selinux_config ]; then
		for f in $fx/selinux/*/etc/selinux/config; do cp "$f" "$corpus/seed$((n++))"; done
	fi
	if [ "$t" = os_release ]; then
		cp $fx/etc/os-release "$corpus/seed$((n++))"
	fi
	if [ "$t" = flat_keyed ]; then
		for f in $(find $fx/cgroup -name '*.stat'); do cp "$f" "$corpus/seed$((n++))"; done
	fi
	if ! build/fuzz/fuzz_"$t" -max_total_time="$each" -rss_limit_mb=1024 -timeout=5 \
		-artifact_prefix="$work/$t-" "$corpus" >"$work/$t.log" 2>&1; then
		echo "fuzz: $t FAILED"
		tail -40 "$work/$t.log"
		status=1
	else
		echo "fuzz: $t ok ($(grep -o 'Done [0-9]* runs' "$work/$t.log" | head -1))"
	fi
done
exit $status
