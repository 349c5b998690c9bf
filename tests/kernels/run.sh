#!/usr/bin/env bash
# make test-kernels: boot each kernel of tests/kernels/kernels.list under qemu with an initramfs
# holding the agent and its tests, run the smoke tests inside (tests/kernels/init.sh), and print
# pass/fail per kernel with the time it took. Exits non-zero when any kernel fails.
# usage: tests/kernels/run.sh [NAME...]      (default: every kernel in the list, or $KERNELS)
# Environment: KERNEL_TIMEOUT (seconds per boot, default 900), QEMU_MEM (default 1G),
# QEMU_ACCEL (auto: KVM when /dev/kvm works, else TCG; kvm; tcg),
# QEMU_SMP (default: host cores, at most 4), TEST_NAMES (integration tests run in the guest),
# NO_BUILD=1 (use the test binaries as they are), KERNELS_LIST (another list file),
# DEBIAN_MIRROR (for deb:SUITE/PACKAGE; default: the mirror the host's apt uses for Debian).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
kdir=$root/build/kernels
list=${KERNELS_LIST:-$root/tests/kernels/kernels.list}
KERNEL_TIMEOUT=${KERNEL_TIMEOUT:-900}
QEMU_MEM=${QEMU_MEM:-1G}
QEMU_ACCEL=${QEMU_ACCEL:-auto}
ncpu=$(nproc)
QEMU_SMP=${QEMU_SMP:-$((ncpu > 4 ? 4 : ncpu))}
# The integration tests of everything that loads BPF, run whole in the guest.
export TEST_NAMES=${TEST_NAMES:-test_core_reloc test_external_btf test_check test_execsnoop test_profiler test_profiler_shortlived test_oom test_ns_labels test_cgroup_v2 test_profiler_unwind}
# The profiler smoke test profiles this workload and wants this function in the stacks.
export PROFILE_WORKLOAD=${PROFILE_WORKLOAD:-hot} PROFILE_WANT=${PROFILE_WANT:-hot_a}

log() { echo "test-kernels: $*"; }
die() { echo "test-kernels: $*" >&2; exit 1; }

# The host tools: installed here rather than by `make deps`, since only this target needs them.
ensure_packages() {
	local missing=() p
	for p in qemu-system-x86 busybox-static cpio debian-archive-keyring; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run: apt-get install ${missing[*]}"
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# apt for a Debian suite the host's apt does not carry (bullseye, trixie): its own sources list,
# package lists and cache under build/kernels/apt/SUITE, so the host's apt configuration stays as
# it is. Signatures are checked as usual, against the Debian archive keyring, which holds the keys
# of bullseye (11) to trixie (13). The mirror is the one the host's apt uses for Debian.
suite_apt() { # SUITE -> sets apt_opts
	local suite=$1 d=$kdir/apt/$1 mirror
	mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(ORIGIN) $(LABEL)' 2>/dev/null |
		awk '$2 == "Debian" && $3 == "Debian" { print $1; exit }')}
	mirror=${mirror:-http://deb.debian.org/debian/}
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	echo "deb [signed-by=$KEYRING] ${mirror%/} $suite main" >"$d/sources.list"
	apt_opts=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o APT::Sandbox::User=root)
	[ -n "${suite_updated[$suite]:-}" ] && return
	suite_updated[$suite]=1
	apt-get -q "${apt_opts[@]}" update >"$d/update.log" 2>&1 && return
	# Offline: the lists of an earlier run still name the image cached with them.
	if ls "$d"/lists/*_Packages* >/dev/null 2>&1; then
		log "$suite: apt-get update failed (see $d/update.log); using the lists of an earlier run"
	else
		die "$suite: apt-get update failed: $(grep -m 1 -E '^(E|W):' "$d/update.log")"
	fi
}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
declare -A suite_updated=()

# Fetch a Debian kernel package and keep only its /boot (vmlinuz, config, System.map).
fetch_deb() { # NAME [SUITE/]PACKAGE
	local name=$1 pkg=$2 dir=$kdir/$1 real deb apt_opts=()
	if [[ $pkg = */* ]]; then
		suite_apt "${pkg%%/*}"
		pkg=${pkg#*/}
	fi
	real=$(apt-cache "${apt_opts[@]}" depends "$pkg" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	[ -n "$real" ] || real=$pkg
	if [ -f "$dir/vmlinuz" ] && [ "$(cat "$dir/package" 2>/dev/null)" = "$real" ]; then
		return
	fi
	rm -rf "$dir/deb" "$dir/boot" "$dir/modules"
	mkdir -p "$dir/deb"
	log "$name: downloading $real"
	(cd "$dir/deb" && apt-get download -q "${apt_opts[@]}" -o APT::Sandbox::User=root "$real" >/dev/null) ||
		die "$name: apt-get download $real failed"
	deb=$(ls "$dir"/deb/*.deb)
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" ./boot
	cp "$dir"/boot/vmlinuz-* "$dir/vmlinuz"
	echo "$real" >"$dir/package"
	rm -rf "$dir/deb"
}

# The initramfs carries no modules: what the guest needs must be built in. A module (=m) or a
# missing option is named here, and the kernel fails, rather than hanging or skipping inside the
# guest. Without DEBUG_INFO_BTF it boots: its check then says there is no BTF (see btf.md).
NEEDED_CONFIG="BPF_SYSCALL BPF_EVENTS PERF_EVENTS TRACING FTRACE_SYSCALLS SERIAL_8250
SERIAL_8250_CONSOLE BLK_DEV_INITRD DEVTMPFS TMPFS"
check_config() { # NAME -> 0 usable, 1 not
	local name=$1 config opt bad=()
	config=$(ls "$kdir/$name"/boot/config-* 2>/dev/null | head -n 1)
	[ -n "$config" ] || { log "$name: no /boot/config-* in the package; options not checked"; return 0; }
	for opt in $NEEDED_CONFIG; do
		grep -q "^CONFIG_$opt=y" "$config" ||
			bad+=("$opt=$(sed -n "s/^CONFIG_$opt=//p" "$config")")
	done
	grep -q '^CONFIG_DEBUG_INFO_BTF=y' "$config" ||
		log "$name: no CONFIG_DEBUG_INFO_BTF: no native BTF in this guest"
	[ ${#bad[@]} -eq 0 ] && return 0
	log "$name: FAIL: $config lacks built-in ${bad[*]} (the initramfs carries no modules)"
	return 1
}

resolve_kernel() { # NAME SOURCE -> sets $vmlinuz; 1 when the kernel cannot run the guest
	local name=$1 src=$2
	case $src in
	deb:*)
		fetch_deb "$name" "${src#deb:}"
		check_config "$name" || return 1
		vmlinuz=$kdir/$name/vmlinuz
		;;
	file:*)
		vmlinuz=${src#file:}
		[[ $vmlinuz = /* ]] || vmlinuz=$root/$vmlinuz
		[ -r "$vmlinuz" ] || die "$name: $vmlinuz not readable"
		;;
	*) die "$name: unknown source '$src' in $list (want deb:PACKAGE or file:PATH)" ;;
	esac
}

# Under TCG the kernel distrusts the TSC and falls back to the HPET, which turns every
# clock_gettime into a slow trapping syscall and skews CPU-bound workloads; the emulated TSC is
# monotonic, so tell the kernel to keep it.
CLOCK_ARGS="tsc=reliable clocksource=tsc"
# The PREEMPT_RT kernel, with threaded interrupts under TCG, takes the second UART's interrupts
# for spurious ("Disabling IRQ #3") and the BTF export stalls: no spurious-IRQ detection.
IRQ_ARGS="noirqdebug"

# One qemu run; KVM when asked for and usable, else TCG (software emulation).
run_qemu() { # DIR VMLINUZ ACCEL
	local dir=$1 vmlinuz=$2 accel=$3 cpu=max rc=0
	[ "$accel" = kvm ] && cpu=host
	rm -f "$dir/serial.log" "$dir/vmlinux.btf"
	# The subshell keeps bash's "Aborted" notice for a crashing qemu in qemu.log too.
	(timeout "$KERNEL_TIMEOUT" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" \
		-m "$QEMU_MEM" -smp "$QEMU_SMP" -display none -vga none -nic none -no-reboot \
		-monitor none -serial "file:$dir/serial.log" -serial "file:$dir/vmlinux.btf" \
		-kernel "$vmlinuz" -initrd "$kdir/initramfs.cpio" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init $CLOCK_ARGS $IRQ_ARGS" \
		>"$dir/qemu.log" 2>&1; exit $?) 2>>"$dir/qemu.log" || rc=$?
	return "$rc"
}

boot_kernel() { # NAME VMLINUZ -> 0 pass, 1 fail
	local name=$1 vmlinuz=$2 dir=$kdir/$1 accel=tcg start end rc=0
	local serial=$dir/serial.log
	mkdir -p "$dir"
	# A /dev/kvm that exists may still not work (nested virtualisation): then TCG, said so.
	if [ "$QEMU_ACCEL" = kvm ] || { [ "$QEMU_ACCEL" = auto ] && [ -w /dev/kvm ]; }; then
		accel=kvm
	fi
	start=$(date +%s)
	run_qemu "$dir" "$vmlinuz" "$accel" || rc=$?
	if [ "$accel" = kvm ] && [ "$QEMU_ACCEL" = auto ] && [ "$rc" -ne 0 ] &&
		! grep -qa '^AMTEST' "$serial" 2>/dev/null; then
		log "$name: KVM unusable ($(grep -m 1 "^qemu-system" "$dir/qemu.log")); using TCG"
		accel=tcg rc=0
		start=$(date +%s)
		run_qemu "$dir" "$vmlinuz" "$accel" || rc=$?
	fi
	end=$(date +%s)
	tr -d '\r' <"$serial" >"$dir/serial.txt" 2>/dev/null || true
	local results=$dir/results.txt
	grep -a '^AMTEST ' "$dir/serial.txt" >"$results" || true
	local pass fail skip kver detail
	pass=$(grep -c '^AMTEST PASS ' "$results" || true)
	fail=$(grep -c '^AMTEST FAIL ' "$results" || true)
	skip=$(grep -c '^AMTEST SKIP ' "$results" || true)
	kver=$(awk '$2 == "INFO" && $3 == "kernel" { print $4 }' "$results")
	sed -n 's/^AMTEST \(PASS\|FAIL\|SKIP\|INFO\) /    \1 /p' "$results"
	detail="$pass passed, $fail failed, $skip skipped in $((end - start))s ($accel, ${QEMU_SMP} vCPU)"
	if [ "$rc" -eq 124 ]; then
		log "$name ${kver:-?}: FAIL: timed out after ${KERNEL_TIMEOUT}s; $detail; see $serial"
		return 1
	fi
	if ! grep -q '^AMTEST DONE' "$results"; then
		log "$name ${kver:-?}: FAIL: no completion marker (qemu exit $rc, panic?); $detail; see $serial"
		tail -n 20 "$dir/serial.txt" | sed 's/^/    | /'
		return 1
	fi
	# The guest's BTF, byte for byte, or nothing: a partial file must not pass for another
	# kernel's BTF in test_external_btf.
	local sent got
	sent=$(sed -n 's/^AMTEST INFO btf_export \([0-9]*\) bytes on ttyS1$/\1/p' "$results")
	got=$(stat -c %s "$dir/vmlinux.btf" 2>/dev/null || echo 0)
	if [ -z "$sent" ]; then
		rm -f "$dir/vmlinux.btf"
	elif [ "$got" -ne "$sent" ]; then
		# The UART had not drained when the guest powered off (TCG under load): the
		# transport's fault, not the kernel's BTF; none is kept, said so.
		log "$name: BTF export cut short ($got of $sent bytes): no BTF of this kernel kept"
		rm -f "$dir/vmlinux.btf"
	elif ! bpftool btf dump file "$dir/vmlinux.btf" >/dev/null 2>&1; then
		log "$name: exported BTF $dir/vmlinux.btf does not parse"
		rm -f "$dir/vmlinux.btf"
		fail=$((fail + 1))
	fi
	if [ "$fail" -gt 0 ] || [ "$pass" -eq 0 ]; then
		log "$name $kver: FAIL: $detail"
		return 1
	fi
	log "$name $kver: PASS: $detail"
}

ensure_packages
[ -x build/antimetal-agent ] || die "build/antimetal-agent missing: run make first"
# The guest runs the same test binaries the host does; build them if they are not yet.
targets=()
for t in $TEST_NAMES; do
	[ -f "tests/integration/$t.c" ] && targets+=("build/tests/integration/$t")
done
for w in tests/workloads/*.c; do
	[ -f "$w" ] && targets+=("build/tests/workloads/$(basename "$w" .c)")
done
if [ ${#targets[@]} -gt 0 ] && [ -z "${NO_BUILD:-}" ]; then
	make -s -j"$ncpu" "${targets[@]}"
fi

mkdir -p "$kdir"
tests/kernels/mkinitramfs.sh "$kdir/initramfs.cpio"

selected=("$@")
if [ ${#selected[@]} -eq 0 ] && [ -n "${KERNELS:-}" ]; then
	read -r -a selected <<<"$KERNELS"
fi
total_start=$(date +%s)
failed=() ran=0
while read -r name src; do
	[ -z "$name" ] || [[ $name = \#* ]] && continue
	if [ ${#selected[@]} -gt 0 ] && [[ " ${selected[*]} " != *" $name "* ]]; then
		continue
	fi
	ran=$((ran + 1))
	if ! resolve_kernel "$name" "$src"; then
		failed+=("$name")
		continue
	fi
	log "$name: booting $vmlinuz"
	boot_kernel "$name" "$vmlinuz" || failed+=("$name")
done <"$list"
[ "$ran" -gt 0 ] || die "no kernel selected (${selected[*]}) in $list"
log "$ran kernel(s), ${#failed[@]} failed, $(($(date +%s) - total_start))s in all"
[ ${#failed[@]} -eq 0 ]
