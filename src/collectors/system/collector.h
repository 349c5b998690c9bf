/* The system-collector interface: one file per collector under src/collectors/system/, each
 * exporting one `const struct am_collector am_collector_<name>`, declared below and listed in
 * registry.c. */
#ifndef ANTIMETAL_COLLECTORS_COLLECTOR_H
#define ANTIMETAL_COLLECTORS_COLLECTOR_H

#include "records/metric.h"

/* Where collectors read from: node_exporter's --path.procfs / --path.sysfs pattern, so tests
 * feed fixture trees. */
struct am_collect_roots {
	const char *procfs; /* default "/proc" */
	const char *sysfs;  /* default "/sys" */
	const char *devfs;  /* default "/dev" (kmsg) */
};

struct am_collector {
	const char *name; /* "cpu", "memory", ... as used in config and `collect NAME` */
	/* Allocate private state (previous samples for rates). Returns 0 or -errno (logged). */
	int (*init)(void **state, const struct am_collect_roots *roots);
	/* Append this cycle's metrics to OUT. Returns 0 or -errno; a part that is absent on this
	 * kernel (no PSI, old kernel) is skipped with one log line, not an error. */
	int (*collect)(void *state, struct am_metric_set *out);
	void (*destroy)(void *state);
};

/* The system collectors, one per file of this folder (tests drive them one by one). */
extern const struct am_collector am_collector_load, am_collector_cpu, am_collector_memory,
    am_collector_disk, am_collector_network, am_collector_tcp, am_collector_pressure,
    am_collector_processes, am_collector_cgroup, am_collector_kmsg, am_collector_hardware;

/* All system collectors, NULL-terminated. */
extern const struct am_collector *const am_collectors[];
/* Find a collector by name; NULL when unknown. */
const struct am_collector *am_collector_find(const char *name);

#endif
