#!/usr/bin/env bash
# Install the Debian 12 packages the build, the tests and the benchmarks need, when missing.
set -euo pipefail
PKGS=(
	make gcc g++ clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libdw-dev
	libprotobuf-c-dev protobuf-c-compiler libmicrohttpd-dev libyaml-dev libcriterion-dev
	libiberty-dev libgnutls28-dev libcrypt-dev
	binutils elfutils kmod procps xz-utils debuginfod libdebuginfod1
	prometheus prometheus-node-exporter golang-go linux-perf python3 curl openssl
	qemu-system-x86 busybox-static cpio debian-archive-keyring
	python3-yaml util-linux mmdebstrap podman uidmap
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all packages present"
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
