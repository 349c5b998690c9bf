#include "agent/collector_runner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"

int am_runner_init(struct am_runner *r, const struct am_config *cfg)
{
	size_t i, n = 0;

	memset(r, 0, sizeof(*r));
	strcpy(r->procfs, cfg->procfs);
	strcpy(r->sysfs, cfg->sysfs);
	strcpy(r->devfs, cfg->devfs);
	strcpy(r->textfile, cfg->textfile_dir);
	r->roots =
	    (struct am_collect_roots){.procfs = r->procfs,
				      .sysfs = r->sysfs,
				      .devfs = r->devfs,
				      .textfile = r->textfile,
				      .cgroup_all = cfg->cgroup_all,
				      .cgroup_max = cfg->cgroup_max,
				      .cgroup_keep_open = cfg->cgroup_keep_open,
				      .fs_mount_points_exclude = cfg->fs_mount_points_exclude,
				      .fs_types_exclude = cfg->fs_types_exclude,
				      .fs_timeout_ms = (unsigned)cfg->fs_timeout_ms};
	for (i = 0; am_collectors[i]; i++)
		n++;
	r->entries = calloc(n ? n : 1, sizeof(*r->entries));
	if (!r->entries)
		return -ENOMEM;
	for (i = 0; am_collectors[i]; i++) {
		const struct am_collector *c = am_collectors[i];
		struct am_runner_entry *e;

		if (!am_config_collector_enabled(cfg, c->name))
			continue;
		e = &r->entries[r->n++];
		e->col = c;
		e->interval_ms = am_config_collector_interval_ms(cfg, c->name);
		e->init_error = c->init ? c->init(&e->state, &r->roots) : 0;
		if (e->init_error) {
			/* The collector logged why; say what it means for the daemon. */
			am_warn("collector %s: cannot start (%s); the others run without it",
				c->name, strerror(-e->init_error));
			e->state = NULL;
			continue;
		}
		r->nrunning++;
	}
	return 0;
}

int am_runner_collect(struct am_runner *r, size_t i)
{
	struct am_runner_entry *e = &r->entries[i];
	struct am_metric_set tmp;
	uint64_t t0;
	int err;

	if (e->init_error)
		return e->init_error;
	am_metric_set_reset(&e->scratch);
	e->scratch.timestamp_ns = am_clock_ns(CLOCK_REALTIME);
	t0 = am_clock_ns(CLOCK_MONOTONIC);
	err = e->col->collect(e->state, &e->scratch);
	e->last_duration_s = (double)(am_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	e->runs++;
	if (!err && e->scratch.oom)
		err = -ENOMEM;
	if (err) {
		/* Log on the transition only: a collector failing every second must not flood. */
		if (!e->last_error)
			am_warn("collector %s: collection failed: %s", e->col->name,
				strerror(-err));
		e->errors++;
		e->last_error = err;
		/* Serve nothing rather than stale values: the health metrics say why. */
		am_metric_set_reset(&e->latest);
		return err;
	}
	if (e->last_error)
		am_info("collector %s: collecting again", e->col->name);
	e->last_error = 0;
	e->last_success_ns = e->scratch.timestamp_ns;
	tmp = e->latest;
	e->latest = e->scratch;
	e->scratch = tmp;
	return 0;
}

int am_runner_view(const struct am_runner *r, struct am_metric_set *view)
{
	size_t i, total = 0;

	memset(view, 0, sizeof(*view));
	for (i = 0; i < r->n; i++)
		total += r->entries[i].latest.n;
	if (!total)
		return 0;
	view->items = malloc(total * sizeof(*view->items));
	if (!view->items)
		return -ENOMEM;
	for (i = 0; i < r->n; i++) {
		const struct am_metric_set *s = &r->entries[i].latest;

		if (!s->n)
			continue;
		/* Shallow copies: the labels stay owned by each collector's own set. */
		memcpy(view->items + view->n, s->items, s->n * sizeof(*s->items));
		view->n += s->n;
		if (s->timestamp_ns > view->timestamp_ns)
			view->timestamp_ns = s->timestamp_ns;
	}
	view->cap = total;
	return 0;
}

void am_runner_view_free(struct am_metric_set *view)
{
	free(view->items);
	memset(view, 0, sizeof(*view));
}

void am_runner_health(const struct am_runner *r, struct am_metric_set *out)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct am_runner_entry *e = &r->entries[i];
		const char *name = e->col->name;

		int j;

		for (j = 0; e->col->node[j]; j++) {
			am_metric_add(out,
				      AM_METRIC_DESC(.prom = "node_scrape_collector_success",
						     .help = "node_exporter: Whether a collector "
							     "succeeded.",
						     .type = AM_METRIC_GAUGE,
						     .labels = {"collector"}),
				      !e->init_error && !e->last_error && e->runs, "collector",
				      e->col->node[j], NULL);
			am_metric_add(
			    out,
			    AM_METRIC_DESC(.prom = "node_scrape_collector_duration_seconds",
					   .help = "node_exporter: Duration of a collector "
						   "scrape.",
					   .unit = "s", .type = AM_METRIC_GAUGE,
					   .labels = {"collector"}),
			    e->last_duration_s, "collector", e->col->node[j], NULL);
		}
		am_metric_add(out,
			      AM_METRIC_DESC(.name = "antimetal_agent_collector_up",
					     .help = "Whether the collector started and its last "
						     "collection succeeded (1) or not (0).",
					     .type = AM_METRIC_GAUGE, .labels = {"collector"}),
			      !e->init_error && !e->last_error && e->runs, "collector", name, NULL);
		am_metric_add(
		    out,
		    AM_METRIC_DESC(.name =
				       "antimetal_agent_collector_last_success_timestamp_seconds",
				   .help = "Unix time of the collector's last successful "
					   "collection (0: never).",
				   .type = AM_METRIC_GAUGE, .labels = {"collector"}),
		    (double)e->last_success_ns / 1e9, "collector", name, NULL);
		am_metric_add(out,
			      AM_METRIC_DESC(.name = "antimetal_agent_collector_runs_total",
					     .help = "Collections attempted by the collector.",
					     .type = AM_METRIC_COUNTER, .labels = {"collector"}),
			      (double)e->runs, "collector", name, NULL);
		am_metric_add(out,
			      AM_METRIC_DESC(.name = "antimetal_agent_collector_errors_total",
					     .help = "Collections that failed.",
					     .type = AM_METRIC_COUNTER, .labels = {"collector"}),
			      (double)e->errors, "collector", name, NULL);
		am_metric_add(
		    out,
		    AM_METRIC_DESC(.name = "antimetal_agent_collector_duration_seconds",
				   .help = "Wall time the collector's last collection took.",
				   .type = AM_METRIC_GAUGE, .labels = {"collector"}),
		    e->last_duration_s, "collector", name, NULL);
		am_metric_add(out,
			      AM_METRIC_DESC(.name = "antimetal_agent_collector_interval_seconds",
					     .help = "Configured collection interval.",
					     .type = AM_METRIC_GAUGE, .labels = {"collector"}),
			      (double)e->interval_ms / 1000.0, "collector", name, NULL);
	}
}

void am_runner_destroy(struct am_runner *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		struct am_runner_entry *e = &r->entries[i];

		if (!e->init_error && e->col->destroy)
			e->col->destroy(e->state);
		am_metric_set_free(&e->latest);
		am_metric_set_free(&e->scratch);
	}
	free(r->entries);
	memset(r, 0, sizeof(*r));
}
