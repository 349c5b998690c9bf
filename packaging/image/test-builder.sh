#!/usr/bin/env bash
# `make test-image`, first part: `make -C ebpf build-ebpf generate-ebpf-bindings` inside the eBPF
# builder image (run-in-image.sh: podman run where a runtime starts containers) and on the host,
# each in a fresh copy of ebpf/, must give the same objects: the same code, maps, relocations
# and BTF types. Only the source's absolute path differs (/src/... in the image), which the
# debug info and BTF's line info carry, so those sections are compared by their types and sizes.
set -euo pipefail

builder=${1:?usage: $0 BUILDER_IMAGE}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s.%N)
step() { awk -v t0="$t0" -v now="$(date +%s.%N)" -v s="$1" 'BEGIN { printf "test-builder: %-62s %6.2f s\n", s, now - t0 }'; }
fail() { echo "test-builder: FAIL: $*" >&2; exit 1; }

for side in image host; do
	mkdir -p "$tmp/$side/ebpf"
	cp -a "$src/ebpf/Makefile" "$src/ebpf/src" "$src/ebpf/include" "$src/ebpf/scripts" "$tmp/$side/ebpf/"
done
(cd "$tmp/image" && "$here/run-in-image.sh" "$builder" make -s -C ebpf build-ebpf generate-ebpf-bindings) \
	>"$tmp/image.log" 2>&1 || { cat "$tmp/image.log" >&2; fail "the build in $builder failed"; }
grep -E '^.*run-in-image.sh: ' "$tmp/image.log" | sed 's/^.*run-in-image.sh: /test-builder: /'
step "build-ebpf in $builder"
make -s -C "$tmp/host/ebpf" build-ebpf generate-ebpf-bindings >"$tmp/host.log" 2>&1 ||
	{ cat "$tmp/host.log" >&2; fail "the build on the host failed"; }
step "build-ebpf on the host"

# The object without what names the source's path: debug info, BTF and its line info.
pathless() {
	llvm-objcopy --strip-debug --remove-section=.BTF --remove-section=.BTF.ext \
		--remove-section=.rel.BTF --remove-section=.rel.BTF.ext "$1" "$2"
}
section_size() { llvm-readelf -S --wide "$1" | awk -v s="$2" '$2 == s { print $6 }'; }

n=0
for obj in "$tmp/host/ebpf/build/"*.bpf.o; do
	b=$(basename "$obj")
	img=$tmp/image/ebpf/build/$b
	[ -f "$img" ] || fail "$b was not built in the image"
	pathless "$obj" "$tmp/h.o"
	pathless "$img" "$tmp/i.o"
	cmp -s "$tmp/h.o" "$tmp/i.o" || fail "$b: code, maps or relocations differ between image and host"
	cmp -s <(bpftool btf dump file "$obj") <(bpftool btf dump file "$img") ||
		fail "$b: BTF types differ between image and host"
	[ "$(section_size "$obj" .BTF.ext)" = "$(section_size "$img" .BTF.ext)" ] ||
		fail "$b: .BTF.ext sizes differ"
	[ -f "${img%.bpf.o}.skel.h" ] || fail "${b%.bpf.o}.skel.h was not generated in the image"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no objects built"
step "$n objects: the same code, maps, relocations and BTF types"
echo "test-builder: OK"
