#!/usr/bin/env bash
# make btfgen: reduce full kernel BTF to the types our BPF objects relocate against
# (bpftool gen min_core_btf), for kernels without native BTF. One file, or a whole
# btfhub-archive-layout tree (<os id>/<os version>/<arch>/<release>.btf[.tar.xz]) into the same
# layout with plain <release>.btf files, ready for ANTIMETAL_BTF_ARCHIVE.
usage() {
	cat <<'EOF'
usage: btfgen.sh [-i INPUT.btf] [-o OUTPUT.btf] [OBJ.bpf.o...]
       btfgen.sh -a ARCHIVE_DIR -O OUTPUT_DIR [OBJ.bpf.o...]
  -i FILE   full BTF to reduce (default /sys/kernel/btf/vmlinux); raw BTF or an ELF with .BTF
  -o FILE   reduced output (default build/btf/<uname -r>.btf)
  -a DIR    reduce every <release>.btf or <release>.btf.tar.xz under DIR (btfhub-archive layout)
  -O DIR    where the reduced archive goes, same layout, <release>.btf
OBJ defaults to every ebpf/build/*.bpf.o: one reduced file serves all of them.
Environment (what `make btfgen VAR=...` passes on): BTF_INPUT, BTF_OUTPUT (-i, -o),
BTFHUB_ARCHIVE, BTF_ARCHIVE_OUT (-a, -O).
EOF
}
set -euo pipefail
BPFTOOL=${BPFTOOL:-bpftool}
here=$(cd "$(dirname "$0")/../.." && pwd)
input=${BTF_INPUT:-/sys/kernel/btf/vmlinux}
output=${BTF_OUTPUT:-}
archive=${BTFHUB_ARCHIVE:-}
outdir=${BTF_ARCHIVE_OUT:-}
while getopts "i:o:a:O:h" opt; do
	case $opt in
	i) input=$OPTARG ;;
	o) output=$OPTARG ;;
	a) archive=$OPTARG ;;
	O) outdir=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
objs=("$@")
if [ ${#objs[@]} -eq 0 ]; then
	objs=("$here"/ebpf/build/*.bpf.o)
	[ -e "${objs[0]}" ] || { echo "btfgen: no objects in ebpf/build: run make build-ebpf" >&2; exit 1; }
fi
if [ -n "$archive" ] && [ -z "$outdir" ]; then
	echo "btfgen: -a needs -O OUTPUT_DIR" >&2
	usage >&2
	exit 2
fi

reduce() { # IN OUT
	local in=$1 out=$2 err
	mkdir -p "$(dirname "$out")"
	if ! err=$("$BPFTOOL" gen min_core_btf "$in" "$out.tmp" "${objs[@]}" 2>&1); then
		rm -f "$out.tmp"
		echo "btfgen: $in: bpftool gen min_core_btf failed: $err" >&2
		return 1
	fi
	mv "$out.tmp" "$out"
	printf '%-60s %10d -> %8d bytes\n' "$out" "$(wc -c <"$in")" "$(wc -c <"$out")"
}

if [ -z "$archive" ]; then
	[ -r "$input" ] || { echo "btfgen: cannot read $input" >&2; exit 1; }
	[ -n "$output" ] || output=$here/build/btf/$(uname -r).btf
	reduce "$input" "$output"
	exit 0
fi

[ -d "$archive" ] || { echo "btfgen: $archive is not a directory" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
while IFS= read -r -d '' f; do
	rel=${f#"$archive"/}
	case $f in
	*.btf.tar.xz)
		# btfhub-archive packs each file alone: <release>.btf inside <release>.btf.tar.xz.
		rm -rf "$tmp/x" && mkdir "$tmp/x"
		tar -xJf "$f" -C "$tmp/x"
		in=$(find "$tmp/x" -type f -name '*.btf' | head -n 1)
		rel=${rel%.tar.xz}
		[ -n "$in" ] || { echo "btfgen: $f holds no .btf file" >&2; failed=$((failed + 1)); continue; }
		;;
	*) in=$f ;;
	esac
	n=$((n + 1))
	reduce "$in" "$outdir/$rel" || failed=$((failed + 1))
done < <(find "$archive" -type f \( -name '*.btf' -o -name '*.btf.tar.xz' \) -print0 | sort -z)
echo "btfgen: $n file(s) reduced into $outdir, $failed failed"
[ "$n" -gt 0 ] && [ "$failed" -eq 0 ]
