#!/usr/bin/env bash
# Install the Debian 12 packages the build, the tests and the benchmarks need, when missing.
set -euo pipefail
PKGS=(
	make gcc g++ clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libdw-dev
	libprotobuf-c-dev protobuf-c-compiler libmicrohttpd-dev libyaml-dev libcriterion-dev
	libiberty-dev libgnutls28-dev libcrypt-dev libcurl4-openssl-dev libsnappy-dev
	binutils elfutils kmod procps xz-utils debuginfod libdebuginfod1
	prometheus prometheus-node-exporter victoria-metrics golang-go linux-perf python3 curl openssl
	qemu-system-x86 busybox-static cpio debian-archive-keyring
	python3-yaml util-linux mmdebstrap podman uidmap runc
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The OTLP tests decode what the agent sends with decoders generated from the official
# OpenTelemetry protos (npm's @opentelemetry/otlp-transformer, pinned in its lock file).
npm_deps() {
	local dir
	dir="$(cd "$(dirname "$0")/.." && pwd)/tests/tools/otlp"
	if [ -d "$dir/node_modules/@opentelemetry/otlp-transformer" ]; then
		return 0
	fi
	# Node 20 is on the machines this project targets; Debian's nodejs and npm otherwise.
	if ! command -v npm >/dev/null; then
		echo "install-deps: installing nodejs npm"
		apt-get install -y -qq --no-install-recommends nodejs npm
	fi
	echo "install-deps: npm ci in $dir"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all packages present"
	npm_deps
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
npm_deps
