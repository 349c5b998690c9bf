#!/usr/bin/env bash
# Build the test-kernels initramfs (an uncompressed newc cpio: nothing to decompress under TCG):
# static busybox, the agent, the integration tests, the workloads, bpftool and bash, each ELF
# with the shared libraries ldd lists and the dynamic loader. Binaries keep their absolute host
# paths so the tests' compiled-in AM_BUILD_DIR / AM_SRC_DIR paths resolve in the guest.
# usage: mkinitramfs.sh OUT.cpio   (run from the source tree; TEST_NAMES selects the tests)
set -euo pipefail
out=$1
root=$(pwd)
build=$root/build
staging=$build/kernels/rootfs
TEST_NAMES=${TEST_NAMES:-test_core_reloc test_external_btf}
# A CPU-bound workload from tests/workloads and the function the profile must name.
PROFILE_WORKLOAD=${PROFILE_WORKLOAD:-}
PROFILE_WANT=${PROFILE_WANT:-}

rm -rf "$staging"
mkdir -p "$staging"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}

# busybox-static installs /bin/busybox; the dynamic busybox package would need its libraries.
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs: $busybox missing or not static (install busybox-static)" >&2
	exit 1
fi
cp "$busybox" "$staging/bin/busybox"

# Copy FILE to the same path in the staging tree, plus every library it needs.
add_elf() {
	local f=$1 lib
	mkdir -p "$staging$(dirname "$f")"
	cp -L "$f" "$staging$f"
	for lib in $(ldd "$f" 2>/dev/null | awk '/=> \//{ print $3 } /^\t\//{ print $1 }'); do
		[ -e "$staging$lib" ] && continue
		mkdir -p "$staging$(dirname "$lib")"
		cp -L "$lib" "$staging$lib"
	done
}

add_elf "$build/antimetal-agent"
tests=""
for t in $TEST_NAMES; do
	if [ -x "$build/tests/integration/$t" ]; then
		add_elf "$build/tests/integration/$t"
	fi
	tests="$tests $build/tests/integration/$t"
done
for w in "$build"/tests/workloads/*; do
	[ -x "$w" ] && add_elf "$w"
done
bpftool=$(command -v bpftool)
add_elf "$bpftool"
add_elf /bin/bash
# Tests that drop privileges use setpriv (util-linux), the memlock step prlimit; the btfhub archive test packs a
# .btf.tar.xz with GNU tar and xz; the profiler's stripped-binary test runs strip. Each is
# optional: its test skips or fails, saying why, without it.
for tool in /usr/bin/setpriv /usr/bin/prlimit /bin/tar /usr/bin/xz /usr/bin/strip; do
	if [ -x "$tool" ]; then add_elf "$tool"; fi
done
# perf (linux-perf), which test_profiler_unwind compares the DWARF unwinder with. Where
# /usr/bin/perf is Debian's wrapper script (it runs perf_<version> matching `uname -r`, which a
# guest's kernel need not match), the newest real perf_<version> goes in as /usr/bin/perf.
case " $TEST_NAMES " in
*" test_profiler_unwind "*)
	perf=$(command -v perf || true)
	if [ -n "$perf" ] && [ "$(head -c 4 "$perf" | tail -c 3)" != ELF ]; then
		perf=$(ls /usr/bin/perf_[0-9]* 2>/dev/null | sort -V | tail -n 1)
	fi
	if [ -n "$perf" ]; then
		add_elf "$perf"
		# perf script pipes addresses to addr2line (binutils) for inlined frames, and
		# dies of SIGPIPE without it.
		if [ -x /usr/bin/addr2line ]; then add_elf /usr/bin/addr2line; fi
		[ "$perf" = /usr/bin/perf ] || ln -sf "$(basename "$perf")" "$staging/usr/bin/perf"
	fi
	;;
esac
# Objects and scripts the tests reach by their source-tree paths (ANTIMETAL_BPF_PATH, btfgen).
mkdir -p "$staging$root/ebpf/build" "$staging$root/ebpf/scripts"
cp "$root"/ebpf/build/*.bpf.o "$staging$root/ebpf/build/"
cp "$root"/ebpf/scripts/*.sh "$staging$root/ebpf/scripts/"

# The host kernel's BTF is "another kernel's" for the guest (test_external_btf).
foreign=""
if [ -r /sys/kernel/btf/vmlinux ]; then
	mkdir -p "$staging/foreign"
	cp /sys/kernel/btf/vmlinux "$staging/foreign/host-vmlinux.btf"
	foreign=/foreign/host-vmlinux.btf
fi

cat >"$staging/etc/amtest.conf" <<EOF
AGENT='$build/antimetal-agent'
TEST_BINS='$tests'
WORKLOAD_DIR='$build/tests/workloads'
PROFILE_WORKLOAD='$PROFILE_WORKLOAD'
PROFILE_WANT='$PROFILE_WANT'
STEP_TIMEOUT=${STEP_TIMEOUT:-300}
export AM_TEST_FOREIGN_BTF='$foreign'
EOF
echo 'root:x:0:0:root:/root:/bin/sh' >"$staging/etc/passwd"
echo 'root:x:0:' >"$staging/etc/group"
cp "$root/tests/kernels/init.sh" "$staging/init"
chmod 755 "$staging/init"

(cd "$staging" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($(du -h "$out" | cut -f1))"
