#!/usr/bin/env bash
# Build a container image from Debian packages alone (no registry is needed):
#   build-rootfs.sh builder IMAGE         the eBPF builder: clang, llvm, bpftool, libbpf-dev, make
#   build-rootfs.sh runtime IMAGE AGENT   the agent: its shared libraries and the binary
# mmdebstrap builds the root file system from the host's apt sources (the same Debian release),
# podman imports the tarball as IMAGE. Both are Debian packages (scripts/install-deps.sh).
set -euo pipefail

kind=${1:?usage: $0 builder|runtime IMAGE [AGENT]}
image=${2:?usage: $0 builder|runtime IMAGE [AGENT]}
agent=${3:-}
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in mmdebstrap podman; do
	command -v "$tool" >/dev/null || { echo "$0: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done

# The host's deb822 sources, so the image gets exactly the mirror and release the host uses.
sources() {
	cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true
	grep -h '^deb ' /etc/apt/sources.list 2>/dev/null || true
}

# The Debian packages owning the shared libraries AGENT loads (libc6 and the like included:
# minbase has them anyway). A library no package owns is an error: the image would lack it.
runtime_packages() {
	local lib owner list=ca-certificates
	for lib in $(ldd "$1" | awk '$3 ~ /^\// { print $3 }'); do
		owner=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null) ||
			{ echo "$0: no Debian package owns $lib (linked by $1)" >&2; return 1; }
		list+=",${owner%%:*}"
	done
	tr , '\n' <<<"$list" | sort -u | paste -sd, -
}

case $kind in
builder)
	# The spec's eBPF builder: what `make -C ebpf` needs, nothing else.
	pkgs=clang,llvm,bpftool,libbpf-dev,make,libc6-dev,linux-libc-dev
	changes=(--change 'WORKDIR /src' --change 'CMD ["make", "-C", "ebpf", "all"]')
	hooks=()
	;;
runtime)
	[ -x "$agent" ] || { echo "$0: agent binary '$agent' not found (make all)" >&2; exit 1; }
	# The packages of the libraries the binary links, asked of ldd and dpkg so the list cannot
	# fall behind the Makefile's (libiberty is static); ca-certificates for TLS receivers.
	pkgs=$(runtime_packages "$agent")
	changes=(--change 'ENTRYPOINT ["/usr/bin/antimetal-agent"]' --change 'CMD ["run"]'
		--change 'EXPOSE 9840')
	hooks=(--customize-hook="copy-in $agent /usr/bin"
		--customize-hook='mkdir -p "$1/etc/antimetal-agent" "$1/var/lib/antimetal-agent/profiles" "$1/host"')
	;;
*)
	echo "$0: unknown kind '$kind' (builder or runtime)" >&2
	exit 2
	;;
esac

# minbase: no init, no docs; apt is removed from the runtime image's use (not its files).
sources | mmdebstrap --variant=minbase --include="$pkgs" --dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
	"${hooks[@]}" "$suite" "$work/rootfs.tar" -
podman import "${changes[@]}" "$work/rootfs.tar" "$image" >/dev/null
echo "$0: $image: $(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.1f MiB", $1/1048576}')"
