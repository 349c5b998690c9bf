/* In-process, without the network or other jobs' noise: CPU time and bytes of one remote_write
 * encoding (WriteRequest by protobuf-c, then snappy) of every system collector's real data on
 * this host, beside one /metrics rendering (text, then gzip) of the same collection. Rounds
 * alternate the two; medians and p10-p90. bench/bench_export.sh builds and runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/encode_bench.h"
#include "export/remote_write.h"

int main(void)
{
	static double text[ROUNDS], textgz[ROUNDS], rw[ROUNDS], rwmeta[ROUNDS];
	static const struct am_rw_label ext[] = {{"instance", "bench"}, {"job", "antimetal-agent"}};
	const struct am_metric_set *sets[AM_CONFIG_MAX_COLLECTORS];
	struct am_rw_options o = {.external = ext, .nexternal = 2};
	size_t i, nsets = 0, tlen = 0, tgz = 0, rwlen = 0, rwraw = 0, metalen = 0;
	struct am_rw_payload p = {0};
	struct am_metric_set view;
	struct am_runner r;
	int k;

	if (bench_collect(&r, &view))
		return 1;
	for (i = 0; i < r.n; i++)
		if (r.entries[i].latest.n && nsets < AM_CONFIG_MAX_COLLECTORS)
			sets[nsets++] = &r.entries[i].latest;
	for (k = 0; k < 2 * ROUNDS; k++) {
		double t = bench_cpu_us();

		if (k % 2 == 0) {
			bench_text_round(&view, &text[k / 2], &textgz[k / 2], &tlen, &tgz);
			continue;
		}
		o.metadata = false;
		if (am_rw_encode(sets, nsets, &o, &p))
			return 1;
		rw[k / 2] = bench_cpu_us() - t;
		rwlen = p.len;
		rwraw = p.raw_len;
		free(p.data);
		t = bench_cpu_us();
		o.metadata = true;
		if (am_rw_encode(sets, nsets, &o, &p))
			return 1;
		rwmeta[k / 2] = bench_cpu_us() - t;
		metalen = p.len;
		free(p.data);
	}
	printf("%zu samples from %zu collectors, %d rounds each, alternated\n\n", view.n, nsets,
	       ROUNDS);
	printf("| step                               | median us | p10-p90 us  |     bytes |\n");
	printf("|------------------------------------|-----------|-------------|-----------|\n");
	bench_row("/metrics text render", 34, text, tlen);
	bench_row("/metrics gzip", 34, textgz, tgz);
	bench_row("remote_write encode + snappy", 34, rw, rwlen);
	printf("| %-34s | %9s | %-11s | %9zu |\n", "  the protobuf before snappy", "", "", rwraw);
	bench_row("remote_write, with metadata", 34, rwmeta, metalen);
	am_runner_view_free(&view);
	am_runner_destroy(&r);
	return 0;
}
