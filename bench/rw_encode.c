/* In-process, without the network or other jobs' noise: CPU time and bytes of one remote_write
 * encoding (WriteRequest by protobuf-c, then snappy) of every system collector's real data on
 * this host, beside one /metrics rendering (text, then gzip) of the same collection. Rounds
 * alternate the two; medians and p10-p90. bench/bench_export.sh builds and runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "agent/collector_runner.h"
#include "export/prom_text.h"
#include "export/remote_write.h"
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
	printf("| %-34s | %9.0f | %5.0f-%-5.0f | %9zu |\n", what, t[ROUNDS / 2], t[ROUNDS / 10],
	       t[ROUNDS * 9 / 10], bytes);
}

int main(void)
{
	static double text[ROUNDS], textgz[ROUNDS], rw[ROUNDS], rwmeta[ROUNDS];
	static const struct am_rw_label ext[] = {{"instance", "bench"}, {"job", "antimetal-agent"}};
	const struct am_metric_set *sets[AM_CONFIG_MAX_COLLECTORS];
	struct am_rw_options o = {.external = ext, .nexternal = 2};
	size_t i, nsets = 0, tlen = 0, tgz = 0, rwlen = 0, rwraw = 0, metalen = 0;
	struct am_rw_payload p = {0};
	struct am_metric_set view;
	struct am_config cfg;
	struct am_runner r;
	int k;

	am_config_defaults(&cfg);
	if (am_runner_init(&r, &cfg))
		return 1;
	for (i = 0; i < r.n; i++) {
		am_runner_collect(&r, i);
		am_runner_collect(&r, i); /* rates need two readings */
		if (r.entries[i].latest.n && nsets < AM_CONFIG_MAX_COLLECTORS)
			sets[nsets++] = &r.entries[i].latest;
	}
	if (am_runner_view(&r, &view))
		return 1;
	for (k = 0; k < 2 * ROUNDS; k++) {
		struct am_strbuf b = {0}, g = {0};
		double t = cpu_us();

		if (k % 2 == 0) {
			am_prom_text_render(&view, &b);
			text[k / 2] = cpu_us() - t;
			t = cpu_us();
			am_gzip(b.data, b.len, &g);
			textgz[k / 2] = cpu_us() - t;
			tlen = b.len;
			tgz = g.len;
		} else {
			o.metadata = false;
			if (am_rw_encode(sets, nsets, &o, &p))
				return 1;
			rw[k / 2] = cpu_us() - t;
			rwlen = p.len;
			rwraw = p.raw_len;
			free(p.data);
			t = cpu_us();
			o.metadata = true;
			if (am_rw_encode(sets, nsets, &o, &p))
				return 1;
			rwmeta[k / 2] = cpu_us() - t;
			metalen = p.len;
			free(p.data);
		}
		am_strbuf_free(&b);
		am_strbuf_free(&g);
	}
	printf("%zu samples from %zu collectors, %d rounds each, alternated\n\n", view.n, nsets,
	       ROUNDS);
	printf("| step                               | median us | p10-p90 us  |     bytes |\n");
	printf("|------------------------------------|-----------|-------------|-----------|\n");
	row("/metrics text render", text, tlen);
	row("/metrics gzip", textgz, tgz);
	row("remote_write encode + snappy", rw, rwlen);
	printf("| %-34s | %9s | %-11s | %9zu |\n", "  the protobuf before snappy", "", "", rwraw);
	row("remote_write, with metadata", rwmeta, metalen);
	am_runner_view_free(&view);
	am_runner_destroy(&r);
	return 0;
}
