# Sourced by the benches that run servers (bench_daemon.sh, bench_export.sh): a scratch
# directory $tmp and the pids array, both cleaned up at exit, and helpers to start servers.
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# The first port from $1 up that nothing listens on.
free_port() {
	local p=$1
	while ss -ltn 2>/dev/null | grep -q ":$p "; do p=$((p + 1)); done
	echo "$p"
}
# Until URL $1 answers 2xx, for up to 10 s; fails after that.
wait_up() {
	for _ in $(seq 100); do
		curl -sf "$1" -o /dev/null && return 0
		sleep 0.1
	done
	return 1
}
