/* Metric records: what system collectors produce and exporters (Prometheus, JSON lines)
 * render. Collectors never format output; exporters never read /proc. */
#ifndef ANTIMETAL_COLLECTORS_METRIC_H
#define ANTIMETAL_COLLECTORS_METRIC_H

#include <stddef.h>
#include <stdint.h>

#include "records/metric_desc.h"

struct am_label {
	const char *name; /* static string */
	char *value;	  /* owned by the set: freed with am_metric_label_free */
};

struct am_metric {
	const struct am_metric_desc *desc; /* static (or owned by the set: textfile) */
	double value;
	int nlabels;
	struct am_label labels[AM_METRIC_MAX_LABELS];
};

struct am_metric_set {
	struct am_metric *items;
	size_t n, cap;
	uint64_t timestamp_ns; /* CLOCK_REALTIME of the collection */
	int oom;	       /* sticky: an append failed for lack of memory */
	/* Descriptors made at run time (textfile metrics), freed with the set. */
	struct am_metric_desc **owned;
	size_t nowned, capowned;
};

/* Append a metric; LABELS is NULL-terminated pairs of name, value ("cpu", "0", NULL).
 * Label values are copied. */
void am_metric_add(struct am_metric_set *s, const struct am_metric_desc *desc, double value, ...)
    __attribute__((sentinel));
/* Hand a heap descriptor (its strings included, in one allocation) to the set, which frees it
 * on reset; returns D, or NULL (and frees D) when out of memory. */
const struct am_metric_desc *am_metric_set_own_desc(struct am_metric_set *s,
						    struct am_metric_desc *d);
/* The name of M in JSON lines and tests (the agent's own, else node_exporter's). */
static inline const char *am_metric_name(const struct am_metric *m)
{
	return am_metric_desc_json_name(m->desc);
}
/* Append a copy of M (labels copied) with VALUE. */
void am_metric_add_copy(struct am_metric_set *s, const struct am_metric *m, double value);
/* Drop the metrics appended after the first N (a collector undoing a half-parsed file). */
void am_metric_set_truncate(struct am_metric_set *s, size_t n);
/* Free the descriptors handed over after the first N (a parser undoing a rejected file). */
void am_metric_set_drop_owned(struct am_metric_set *s, size_t n);
/* Free a label value of a set (they are copies, but may share one empty string): for a
 * collector replacing a value it added. */
void am_metric_label_free(char *value);
/* Drop every metric, keeping the memory. */
void am_metric_set_reset(struct am_metric_set *s);
/* Free everything. */
void am_metric_set_free(struct am_metric_set *s);

#endif
