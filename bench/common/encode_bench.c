#include "encode_bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "export/prom_text.h"
#include "util/gzip.h"

double bench_cpu_us(void)
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

void bench_row(const char *what, int width, double *t, size_t bytes)
{
	qsort(t, ROUNDS, sizeof(*t), cmp);
	printf("| %-*s | %9.0f | %5.0f-%-5.0f | %9zu |\n", width, what, t[ROUNDS / 2],
	       t[ROUNDS / 10], t[ROUNDS * 9 / 10], bytes);
}

int bench_collect(struct am_runner *r, struct am_metric_set *view)
{
	static struct am_config cfg; /* the runner keeps pointers into it */
	size_t i;

	am_config_defaults(&cfg);
	if (am_runner_init(r, &cfg))
		return -1;
	for (i = 0; i < r->n; i++) {
		am_runner_collect(r, i);
		am_runner_collect(r, i);
	}
	return am_runner_view(r, view) ? -1 : 0;
}

void bench_text_round(const struct am_metric_set *view, double *render_us, double *gzip_us,
		      size_t *len, size_t *gzlen)
{
	struct am_strbuf b = {0}, g = {0};
	double t = bench_cpu_us();

	am_prom_text_render(view, &b);
	*render_us = bench_cpu_us() - t;
	t = bench_cpu_us();
	am_gzip(b.data, b.len, &g);
	*gzip_us = bench_cpu_us() - t;
	*len = b.len;
	*gzlen = g.len;
	am_strbuf_free(&b);
	am_strbuf_free(&g);
}
