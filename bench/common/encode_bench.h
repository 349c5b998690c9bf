/* What the in-process encoding benches (bench/otlp_encode.c, bench/rw_encode.c) share: the
 * collection they encode, the /metrics rendering they are measured beside, and the table rows. */
#ifndef ANTIMETAL_BENCH_ENCODE_BENCH_H
#define ANTIMETAL_BENCH_ENCODE_BENCH_H

#include <stddef.h>

#include "agent/collector_runner.h"

#define ROUNDS 41

/* This process's CPU time in microseconds. */
double bench_cpu_us(void);

/* Sort T (ROUNDS values) and print a table row of WIDTH: median, p10-p90 and BYTES. */
void bench_row(const char *what, int width, double *t, size_t bytes);

/* Every default collector run twice (rates need two readings) into R, VIEW its merged view.
 * Returns 0, or -1 when the runner cannot start. */
int bench_collect(struct am_runner *r, struct am_metric_set *view);

/* One /metrics rendering of VIEW: CPU time of the text render and of its gzip, and their bytes. */
void bench_text_round(const struct am_metric_set *view, double *render_us, double *gzip_us,
		      size_t *len, size_t *gzlen);

#endif
