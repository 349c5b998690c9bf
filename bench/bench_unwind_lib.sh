#!/usr/bin/env bash
# The DWARF unwinder alone (src/symbolize/unwind.c) against elfutils' libdwfl unwinder (perf's
# method) on the same copied stacks of Debian's xz: cost per walk cold and warm, frames, heap,
# and whether both find the same frames. See bench/unwind_bench.c. Needs ptrace of a child
# and /usr/bin/xz.
set -u
cd "$(dirname "$0")/.."
BIN=build/bench/unwind_bench
SAMPLES=${BENCH_UNWIND_SAMPLES:-200}
ROUNDS=${BENCH_UNWIND_ROUNDS:-7}
if [ ! -x /usr/bin/xz ]; then
	echo "bench_unwind_lib: skipped: /usr/bin/xz is not installed"
	exit 0
fi
[ -x "$BIN" ] || make -s "$BIN" >/dev/null || exit 1
exec "$BIN" "$SAMPLES" "$ROUNDS"
