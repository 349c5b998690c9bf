/* Per collection cycle: CPU time and bytes of one OTLP metrics export (encode, gzip) beside one
 * /metrics scrape's rendering (Prometheus text, gzip) of the same collection, every system
 * collector's real data on this host. Rounds alternate the two; medians and p10-p90. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/collector_runner.h"
#include "export/otlp_metrics.h"
#include "export/prom_text.h"
#include "util/gzip.h"

#define ROUNDS 41

static double cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void row(const char *what, double *t, size_t bytes)
{
	qsort(t, ROUNDS, sizeof(*t), cmp);
	printf("| %-26s | %9.0f | %5.0f-%-5.0f | %9zu |\n", what, t[ROUNDS / 2], t[ROUNDS / 10],
	       t[ROUNDS * 9 / 10], bytes);
}

int main(void)
{
	static double text[ROUNDS], textgz[ROUNDS], enc[ROUNDS], encgz[ROUNDS];
	struct am_otlp_metrics_input in[AM_CONFIG_MAX_COLLECTORS];
	size_t i, nin = 0, tlen = 0, tgz = 0, olen = 0, ogz = 0;
	struct am_resource res = {0};
	struct am_metric_set view;
	struct am_config cfg;
	struct am_runner r;
	uint64_t npoints = 0;
	int k;

	am_config_defaults(&cfg);
	if (am_runner_init(&r, &cfg) || am_resource_set(&res, "host.name", "bench") ||
	    am_resource_set(&res, "service.name", "antimetal-agent"))
		return 1;
	for (i = 0; i < r.n; i++) {
		am_runner_collect(&r, i);
		am_runner_collect(&r, i);
		if (r.entries[i].latest.n && nin < AM_CONFIG_MAX_COLLECTORS)
			in[nin++] = (struct am_otlp_metrics_input){&r.entries[i].latest, 1};
	}
	if (am_runner_view(&r, &view))
		return 1;
	for (k = 0; k < 2 * ROUNDS; k++) {
		struct am_strbuf b = {0}, g = {0};
		double t = cpu_us();
		void *buf;

		if (k % 2 == 0) {
			am_prom_text_render(&view, &b);
			text[k / 2] = cpu_us() - t;
			t = cpu_us();
			am_gzip(b.data, b.len, &g);
			textgz[k / 2] = cpu_us() - t;
			tlen = b.len;
			tgz = g.len;
		} else {
			if (am_otlp_metrics_encode(in, nin, &res, "bench", &buf, &olen, &npoints))
				return 1;
			enc[k / 2] = cpu_us() - t;
			t = cpu_us();
			am_gzip(buf, olen, &g);
			encgz[k / 2] = cpu_us() - t;
			ogz = g.len;
			free(buf);
		}
		am_strbuf_free(&b);
		am_strbuf_free(&g);
	}
	printf(
	    "%zu samples from %zu collectors (OTLP: %llu points), %d rounds each, alternated\n\n",
	    view.n, nin, (unsigned long long)npoints, ROUNDS);
	printf("| step                       | median us | p10-p90 us  |     bytes |\n");
	printf("|----------------------------|-----------|-------------|-----------|\n");
	row("/metrics text render", text, tlen);
	row("/metrics gzip", textgz, tgz);
	row("OTLP metrics encode", enc, olen);
	row("OTLP metrics gzip", encgz, ogz);
	am_runner_view_free(&view);
	am_runner_destroy(&r);
	am_resource_free(&res);
	return 0;
}
