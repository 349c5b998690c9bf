#!/usr/bin/env bash
# The spec's "BTF verification during build": every object must carry .BTF and .BTF.ext (CO-RE
# relocations live there) and bpftool must be able to dump its BTF. Prints each object's BTF size.
set -euo pipefail
bpftool=${BPFTOOL:-bpftool}
status=0

# readelf prints sizes in hex; mawk has no strtonum, so convert in bash.
section_size() {
	local hex
	hex=$(sed 's/\[ */[/' <<<"$1" | awk -v s="$2" '$2==s {print $6}')
	[ -n "$hex" ] && echo $((16#$hex))
}
for obj in "$@"; do
	sections=$(readelf -S -W "$obj" 2>/dev/null) || { echo "verify_btf: $obj: not an ELF object" >&2; status=1; continue; }
	for sec in .BTF .BTF.ext; do
		if ! grep -qE "[[:space:]]\\$sec[[:space:]]" <<<"$sections"; then
			echo "verify_btf: $obj: missing $sec section (was it compiled with -g?)" >&2
			status=1
		fi
	done
	if ! "$bpftool" btf dump file "$obj" >/dev/null 2>&1; then
		echo "verify_btf: $obj: 'bpftool btf dump file' failed" >&2
		status=1
		continue
	fi
	btf_size=$(section_size "$sections" .BTF)
	ext_size=$(section_size "$sections" .BTF.ext)
	printf 'verify_btf: %-32s .BTF %7s bytes  .BTF.ext %7s bytes  OK\n' "$(basename "$obj")" "${btf_size:-?}" "${ext_size:-?}"
done
exit $status
