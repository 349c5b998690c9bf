#!/usr/bin/env bash
# `make test-image`: run the agent from IMAGE as the DaemonSet would: `check`, then a short
# `run` with the node's root at /host read-only and only the DaemonSet's capabilities, scraping
# /readyz and /metrics. Prints how long each step took. Needs root and podman.
# Where podman cannot start containers (see run-in-image.sh) the image's file system is run
# chrooted in a private mount namespace instead, with the same mounts and capabilities.
set -euo pipefail

image=${1:?usage: $0 IMAGE}
port=${PORT:-19840}
caps=BPF,PERFMON,SYSLOG,SYS_PTRACE,DAC_READ_SEARCH,CHECKPOINT_RESTORE
setpriv_caps=-all,+bpf,+perfmon,+syslog,+sys_ptrace,+dac_read_search,+checkpoint_restore
name=antimetal-test-image-$$
args=(run --set paths.rootfs=/host --set http.address=127.0.0.1 --set http.port="$port"
	--set profiler.enabled=false --set collectors.interval=1s)
t0=$(date +%s.%N)
pid=
root=

step() { awk -v t0="$t0" -v now="$(date +%s.%N)" -v s="$1" 'BEGIN { printf "test-image: %-52s %6.2f s\n", s, now - t0 }'; }
fail() {
	echo "test-image: FAIL: $*" >&2
	if [ -n "$pid" ]; then tail -20 "$log" >&2; else podman logs "$name" 2>&1 | tail -20 >&2 || true; fi
	exit 1
}
cleanup() {
	podman rm -f "$name" >/dev/null 2>&1 || true
	if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	if [ -n "$root" ]; then podman image unmount "$image" >/dev/null 2>&1 || true; fi
	rm -f "$log"
}
log=$(mktemp)
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "test-image: skipped: needs root (BPF from a container)"; exit 0; }

# The DaemonSet's mounts (daemonset.yaml) in a chroot of the image: run COMMAND... there.
# It execs unshare, so call it in a subshell: $! is then unshare itself, whose death
# (--kill-child) takes the agent with it; nothing may outlive this script holding its fds.
chrooted() {
	exec unshare --mount --fork --kill-child bash -euc '
		root=$1; caps=$2; shift 2
		mount --make-rprivate /
		mount --rbind / "$root/host"
		mount -o remount,bind,ro "$root/host"
		for d in proc sys dev; do mount --rbind "/$d" "$root/$d"; done
		mount -t tmpfs tmpfs "$root/tmp"
		mount -t tmpfs tmpfs "$root/var/lib/antimetal-agent/profiles"
		exec chroot "$root" setpriv --bounding-set="$caps" /usr/bin/antimetal-agent "$@"
	' bash "$root" "$setpriv_caps" "$@"
}

if podman run --rm --network=none "$image" --help >/dev/null 2>&1; then
	mode=podman
	podman run --rm --network=none --cap-drop=all --cap-add="$caps" "$image" check >/dev/null ||
		fail "antimetal-agent check failed in the image"
	step "check (podman run)"
	podman run -d --name "$name" --pid=host --network=host --read-only \
		--cap-drop=all --cap-add="$caps" --security-opt=no-new-privileges \
		-v /:/host:ro,rslave -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
		-v /sys/kernel/tracing:/sys/kernel/tracing:ro \
		--tmpfs /tmp --tmpfs /var/lib/antimetal-agent/profiles "$image" "${args[@]}" >/dev/null
else
	mode=chroot
	echo "test-image: podman cannot start containers here; running the image's file system chrooted"
	root=$(podman image mount "$image")
	(chrooted check) >/dev/null || fail "antimetal-agent check failed in the image"
	step "check (chroot into the image)"
	(chrooted "${args[@]}") >"$log" 2>&1 &
	pid=$!
fi

code=
for _ in $(seq 1 150); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
	[ "$code" = 200 ] && break
	sleep 0.2
done
[ "$code" = 200 ] || fail "/readyz answered '$code'"
step "run ($mode): /readyz 200"
metrics=$(curl -sf "http://127.0.0.1:$port/metrics") || fail "/metrics did not answer"
for series in 'antimetal_agent_continuous_collector_up{collector="execsnoop"} 1' \
	'antimetal_agent_continuous_collector_up{collector="oom"} 1' 'antimetal_processes '; do
	grep -qF "$series" <<<"$metrics" || fail "no '$series' in /metrics"
done
procs=$(awk '/^antimetal_processes /{print $2}' <<<"$metrics")
[ "${procs%.*}" -gt 20 ] || fail "the agent saw $procs processes, not the host's"
step "run ($mode): /metrics $(wc -l <<<"$metrics") lines, $procs host processes"
echo "test-image: OK"
