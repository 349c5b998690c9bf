/* Runs the enabled system collectors and keeps, per collector, its latest snapshot and its
 * health (last success, errors, duration). A collector whose init fails is logged and left
 * out; the others run. */
#ifndef ANTIMETAL_AGENT_COLLECTOR_RUNNER_H
#define ANTIMETAL_AGENT_COLLECTOR_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "collectors/system/collector.h"
#include "records/metric.h"

struct am_runner_entry {
	const struct am_collector *col;
	void *state;
	int init_error; /* 0 when running, else the -errno init returned */
	uint64_t interval_ms;
	struct am_metric_set latest; /* last successful collection; empty after a failure */
	struct am_metric_set scratch;
	uint64_t runs, errors;
	int last_error;		  /* 0 or the -errno of the last collection */
	uint64_t last_success_ns; /* CLOCK_REALTIME; 0 = never */
	double last_duration_s;
	void *timer; /* the caller's timer for this collector */
};

struct am_runner {
	struct am_runner_entry *entries; /* every enabled collector, running or not */
	size_t n;
	size_t nrunning;
	struct am_collect_roots roots;
	char procfs[AM_CONFIG_PATH_MAX], sysfs[AM_CONFIG_PATH_MAX], devfs[AM_CONFIG_PATH_MAX];
	char textfile[AM_CONFIG_PATH_MAX];
};

/* Initialise every collector CFG enables. Returns 0 (even when some failed: see nrunning) or
 * -ENOMEM. */
int am_runner_init(struct am_runner *r, const struct am_config *cfg);
/* Run entry I once now. Returns 0 or the collector's -errno (counted, logged). */
int am_runner_collect(struct am_runner *r, size_t i);
/* Make VIEW list every running collector's latest samples, sharing their storage: release it
 * with am_runner_view_free(), never am_metric_set_free(). */
int am_runner_view(const struct am_runner *r, struct am_metric_set *view);
/* Release a view made by am_runner_view. */
void am_runner_view_free(struct am_metric_set *view);
/* Append the per-collector health metrics (antimetal_agent_collector_*) to OUT. */
void am_runner_health(const struct am_runner *r, struct am_metric_set *out);
/* Destroy every collector and free everything. */
void am_runner_destroy(struct am_runner *r);

#endif
