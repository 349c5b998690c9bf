#!/usr/bin/env bash
# OTLP metrics export per collection cycle beside one /metrics scrape (bench/otlp_encode.c),
# built against the agent's library.
set -eu
cd "$(dirname "$0")/.."
lib=build/libantimetal.a
[ -f "$lib" ] || { echo "bench_otlp_metrics: build $lib first (make)" >&2; exit 1; }
mkdir -p build/bench
# shellcheck disable=SC2046
cc -O2 -std=gnu11 -D_GNU_SOURCE -Isrc -Ibuild/gen bench/otlp_encode.c bench/common/encode_bench.c "$lib" \
	$(pkg-config --libs libbpf libelf zlib libdw libprotobuf-c libmicrohttpd yaml-0.1 gnutls \
		libcrypt libcurl) -liberty -lsnappy -lpthread -lm -o build/bench/otlp_encode
build/bench/otlp_encode 2>/dev/null
