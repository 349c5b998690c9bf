/* The system-collector interface: one file per collector under src/collectors/, each exporting
 * one `const struct am_collector am_collector_<name>`, listed in registry.c. */
#ifndef ANTIMETAL_COLLECTORS_COLLECTOR_H
#define ANTIMETAL_COLLECTORS_COLLECTOR_H

#include "records/metric.h"

/* Where collectors read from: node_exporter's --path.procfs / --path.sysfs pattern, so tests
 * feed fixture trees. */
struct am_collect_roots {
	const char *procfs; /* default "/proc" */
	const char *sysfs;  /* default "/sys" */
	const char *devfs;  /* default "/dev" (kmsg) */
	const char *textfile; /* directory of *.prom files (textfile); NULL or "": none */
};

struct am_collector {
	const char *name; /* "cpu", "memory", ... as used in config and `collect NAME` */
	/* Allocate private state (previous samples for rates). Returns 0 or -errno (logged). */
	int (*init)(void **state, const struct am_collect_roots *roots);
	/* Append this cycle's metrics to OUT. Returns 0 or -errno; a part that is absent on this
	 * kernel (no PSI, old kernel) is skipped with one log line, not an error. */
	int (*collect)(void *state, struct am_metric_set *out);
	void (*destroy)(void *state);
	/* node_exporter collectors this one stands in for ("meminfo", "vmstat"), NULL-ended:
	 * node_scrape_collector_success{collector=...} is reported under those names. */
	const char *node[4];
};

/* All system collectors, NULL-terminated. */
extern const struct am_collector *const am_collectors[];
/* Find a collector by name; NULL when unknown. */
const struct am_collector *am_collector_find(const char *name);

#endif
