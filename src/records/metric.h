/* Metric records: what system collectors produce and exporters (Prometheus, JSON lines)
 * render. Collectors never format output; exporters never read /proc. */
#ifndef ANTIMETAL_COLLECTORS_METRIC_H
#define ANTIMETAL_COLLECTORS_METRIC_H

#include <stddef.h>
#include <stdint.h>

#define AM_METRIC_MAX_LABELS 8

enum am_metric_type { AM_METRIC_GAUGE, AM_METRIC_COUNTER };

struct am_label {
	const char *name;  /* static string */
	char *value;       /* owned by the set */
};

struct am_metric {
	const char *name;  /* static, Prometheus-conventional: antimetal_memory_total_bytes */
	const char *help;  /* static one-line description */
	enum am_metric_type type;
	double value;
	int nlabels;
	struct am_label labels[AM_METRIC_MAX_LABELS];
};

struct am_metric_set {
	struct am_metric *items;
	size_t n, cap;
	uint64_t timestamp_ns; /* CLOCK_REALTIME of the collection */
	int oom;               /* sticky: an append failed for lack of memory */
};

/* Append a metric; LABELS is NULL-terminated pairs of name, value ("cpu", "0", NULL).
 * Label values are copied. */
void am_metric_add(struct am_metric_set *s, const char *name, const char *help,
		   enum am_metric_type type, double value, ...) __attribute__((sentinel));
/* Append a copy of M (labels copied) with VALUE. */
void am_metric_add_copy(struct am_metric_set *s, const struct am_metric *m, double value);
/* Drop the metrics appended after the first N (a collector undoing a half-parsed file). */
void am_metric_set_truncate(struct am_metric_set *s, size_t n);
/* Drop every metric, keeping the memory. */
void am_metric_set_reset(struct am_metric_set *s);
/* Free everything. */
void am_metric_set_free(struct am_metric_set *s);

#endif
