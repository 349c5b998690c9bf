#!/usr/bin/env bash
# `make bench`: run every bench/bench_*.sh in turn; each prints its own results table.
set -u
cd "$(dirname "$0")/.."
status=0
for b in bench/bench_*.sh; do
	[ -x "$b" ] || continue
	echo "### $b"
	"$b" || { echo "bench: $b failed" >&2; status=1; }
done
exit $status
