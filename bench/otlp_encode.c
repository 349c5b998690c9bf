/* Per collection cycle: CPU time and bytes of one OTLP metrics export (encode, gzip) beside one
 * /metrics scrape's rendering (Prometheus text, gzip) of the same collection, every system
 * collector's real data on this host. Rounds alternate the two; medians and p10-p90. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/encode_bench.h"
#include "export/otlp_metrics.h"
#include "util/gzip.h"

int main(void)
{
	static double text[ROUNDS], textgz[ROUNDS], enc[ROUNDS], encgz[ROUNDS];
	struct am_otlp_metrics_input in[AM_CONFIG_MAX_COLLECTORS];
	size_t i, nin = 0, tlen = 0, tgz = 0, olen = 0, ogz = 0;
	struct am_resource res = {0};
	struct am_metric_set view;
	struct am_runner r;
	uint64_t npoints = 0;
	int k;

	if (bench_collect(&r, &view) || am_resource_set(&res, "host.name", "bench") ||
	    am_resource_set(&res, "service.name", "antimetal-agent"))
		return 1;
	for (i = 0; i < r.n; i++)
		if (r.entries[i].latest.n && nin < AM_CONFIG_MAX_COLLECTORS)
			in[nin++] = (struct am_otlp_metrics_input){&r.entries[i].latest, 1};
	for (k = 0; k < 2 * ROUNDS; k++) {
		struct am_strbuf g = {0};
		double t = bench_cpu_us();
		void *buf;

		if (k % 2 == 0) {
			bench_text_round(&view, &text[k / 2], &textgz[k / 2], &tlen, &tgz);
			continue;
		}
		if (am_otlp_metrics_encode(in, nin, &res, "bench", false, &buf, &olen, &npoints))
			return 1;
		enc[k / 2] = bench_cpu_us() - t;
		t = bench_cpu_us();
		am_gzip(buf, olen, &g);
		encgz[k / 2] = bench_cpu_us() - t;
		ogz = g.len;
		free(buf);
		am_strbuf_free(&g);
	}
	printf(
	    "%zu samples from %zu collectors (OTLP: %llu points), %d rounds each, alternated\n\n",
	    view.n, nin, (unsigned long long)npoints, ROUNDS);
	printf("| step                       | median us | p10-p90 us  |     bytes |\n");
	printf("|----------------------------|-----------|-------------|-----------|\n");
	bench_row("/metrics text render", 26, text, tlen);
	bench_row("/metrics gzip", 26, textgz, tgz);
	bench_row("OTLP metrics encode", 26, enc, olen);
	bench_row("OTLP metrics gzip", 26, encgz, ogz);
	am_runner_view_free(&view);
	am_runner_destroy(&r);
	am_resource_free(&res);
	return 0;
}
