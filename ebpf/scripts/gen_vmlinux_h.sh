#!/usr/bin/env bash
# Regenerate ebpf/include/vmlinux.h from a kernel's BTF. The committed copy (x86_64) means the
# build never needs BTF on the build host; run this only to refresh it or to add an arch.
# usage: gen_vmlinux_h.sh [BTF_FILE] [OUT]
set -euo pipefail
btf=${1:-/sys/kernel/btf/vmlinux}
out=${2:-$(dirname "$0")/../include/vmlinux.h}
command -v bpftool >/dev/null || { echo "gen_vmlinux_h: bpftool not found (apt-get install bpftool)" >&2; exit 1; }
[ -r "$btf" ] || { echo "gen_vmlinux_h: cannot read BTF file $btf" >&2; exit 1; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
bpftool btf dump file "$btf" format c > "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "gen_vmlinux_h: wrote $out from $btf ($(wc -c < "$out") bytes)"
