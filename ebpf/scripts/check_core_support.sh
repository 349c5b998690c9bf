#!/usr/bin/env bash
# Check this system's CO-RE support before anything is built (the spec's check_core_support.sh):
# kernel version, native BTF, CONFIG_DEBUG_INFO_BTF, the build tools (bpftool, clang and its BPF
# target, pahole), and the level of the compatibility matrix:
#   Full     native BTF (/sys/kernel/btf/vmlinux; kernels 5.2+, or backported)
#   Partial  kernel 4.18+ without native BTF, but an external BTF file is found
#   None     no BTF, or a kernel older than 4.18
# Exit 0 for Full or Partial, 1 for None, 2 for bad usage.
#
# Options (for tests and inspecting another system image):
#   --root DIR       read /sys, /proc, /boot, /lib/modules, /usr/lib/debug, /etc under DIR
#   --release REL    pretend the kernel release is REL (default: uname -r)
# Environment: ANTIMETAL_BTF_PATH (an explicit BTF file), ANTIMETAL_BTF_ARCHIVE (btfhub-layout
# archive, default /var/lib/antimetal-agent/btf), the same search as the agent's (docs/core.md).
set -uo pipefail

root=""
release=""
while [ $# -gt 0 ]; do
	case $1 in
	--root) root=${2:?--root needs a directory}; shift 2 ;;
	--release) release=${2:?--release needs a kernel release}; shift 2 ;;
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "check_core_support.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
root=${root%/}
[ -n "$release" ] || release=$(uname -r)

row() { printf '  %-24s %s\n' "$1" "$2"; }

echo "CO-RE support check"

# --- kernel version
if [[ $release =~ ^([0-9]+)\.([0-9]+)(\.([0-9]+))?([-+_~].*)?$ ]]; then
	kmaj=${BASH_REMATCH[1]} kmin=${BASH_REMATCH[2]}
	kver_ok=1
	row "kernel release" "$release ($kmaj.$kmin)"
else
	kmaj=0 kmin=0 kver_ok=0
	row "kernel release" "$release (not a kernel version string)"
fi
ver_ge() { [ "$kmaj" -gt "$1" ] || { [ "$kmaj" -eq "$1" ] && [ "$kmin" -ge "$2" ]; }; }

# --- native BTF
native=0
if [ -r "$root/sys/kernel/btf/vmlinux" ]; then
	native=1
	row "native BTF" "yes ($root/sys/kernel/btf/vmlinux, $(($(stat -c %s "$root/sys/kernel/btf/vmlinux") / 1024)) KiB)"
else
	row "native BTF" "no ($root/sys/kernel/btf/vmlinux absent)"
fi

# --- CONFIG_DEBUG_INFO_BTF
config_src="" config_val=""
if [ -r "$root/proc/config.gz" ] && command -v zcat >/dev/null; then
	config_src="$root/proc/config.gz"
	config_val=$(zcat "$config_src" 2>/dev/null | grep -E '^(# )?CONFIG_DEBUG_INFO_BTF[= ]' | head -1)
elif [ -r "$root/boot/config-$release" ]; then
	config_src="$root/boot/config-$release"
	config_val=$(grep -E '^(# )?CONFIG_DEBUG_INFO_BTF[= ]' "$config_src" | head -1)
fi
if [ -z "$config_src" ]; then
	row "CONFIG_DEBUG_INFO_BTF" "unknown (no /proc/config.gz or /boot/config-$release)"
elif [ "$config_val" = "CONFIG_DEBUG_INFO_BTF=y" ]; then
	row "CONFIG_DEBUG_INFO_BTF" "y ($config_src)"
else
	row "CONFIG_DEBUG_INFO_BTF" "not set ($config_src)"
fi

# --- external BTF: the agent's search order after native
ext=""
if [ -n "${ANTIMETAL_BTF_PATH:-}" ]; then
	[ -r "$ANTIMETAL_BTF_PATH" ] && ext=$ANTIMETAL_BTF_PATH
else
	arch=$(uname -m)
	[ "$arch" = aarch64 ] && arch=arm64
	os_id="" os_ver=""
	if [ -r "$root/etc/os-release" ]; then
		os_id=$(sed -nE 's/^ID=["'\'']?([^"'\'']*)["'\'']?$/\1/p' "$root/etc/os-release")
		os_ver=$(sed -nE 's/^VERSION_ID=["'\'']?([^"'\'']*)["'\'']?$/\1/p' "$root/etc/os-release")
	fi
	archive=${ANTIMETAL_BTF_ARCHIVE:-$root/var/lib/antimetal-agent/btf}
	candidates=()
	[ -n "$os_id" ] && [ -n "$os_ver" ] && candidates+=("$archive/$os_id/$os_ver/$arch/$release.btf")
	candidates+=("$root/boot/vmlinux-$release" "$root/lib/modules/$release/vmlinux-$release"
		"$root/usr/lib/debug/boot/vmlinux-$release")
	for f in "${candidates[@]}"; do
		if [ -r "$f" ]; then
			ext=$f
			break
		fi
	done
fi
if [ "$native" -eq 0 ]; then
	row "external BTF" "${ext:-none found (btfhub archive, /boot, /lib/modules, /usr/lib/debug)}"
fi

# --- build tools
tool() { # NAME VERSION-COMMAND...
	local name=$1
	shift
	if command -v "$name" >/dev/null 2>&1; then
		row "$name" "yes ($("$@" 2>&1 | grep -m1 -iE 'version|v[0-9]' | sed 's/^[[:space:]]*//'))"
	else
		row "$name" "no"
	fi
}
tool bpftool bpftool version
tool clang clang --version
tool pahole pahole --version

bpf_target="no"
if command -v clang >/dev/null 2>&1 && clang -print-targets 2>/dev/null | grep -qE '^[[:space:]]+bpf[[:space:]]'; then
	bpf_target="yes (clang -print-targets)"
else
	for llc in llc $(compgen -c llc- 2>/dev/null | sort -u); do
		if command -v "$llc" >/dev/null 2>&1 && "$llc" --version 2>/dev/null | grep -qE '^[[:space:]]+bpf[[:space:]]'; then
			bpf_target="yes ($llc --version)"
			break
		fi
	done
fi
row "clang BPF target" "$bpf_target"

# --- verdict
if [ "$kver_ok" -eq 1 ] && ! ver_ge 4 18; then
	level=None why="kernel $kmaj.$kmin is older than 4.18"
elif [ "$native" -eq 1 ]; then
	level=Full why="native BTF"
	[ "$kver_ok" -eq 1 ] && ! ver_ge 5 2 && why="native BTF (backported to $kmaj.$kmin)"
elif [ -n "$ext" ]; then
	level=Partial why="external BTF $ext"
else
	level=None why="no native BTF and no external BTF file"
fi
echo
echo "verdict: $level ($why)"
[ "$level" != None ]
