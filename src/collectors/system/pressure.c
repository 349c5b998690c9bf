/* pressure: /proc/pressure/{cpu,memory,io} (PSI, Linux 4.20+), as node_exporter's
 * node_pressure_*_seconds_total, plus the kernel's running averages. A kernel without PSI
 * (or with psi=0) disables the collector with one log line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/parse/kept_file.h"
#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/log.h"

struct pressure_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_kept_paths kept; /* its /proc files, kept open */
	bool warned[3], bad[3];
	int absent_logged;
};

static const char *const resources[3] = {"cpu", "memory", "io"};

/* PSI totals per resource (cpu, memory, io) x (some = waiting, full = stalled), named as
 * node_exporter 1.5 does; it has no cpu "full" (the kernel added it in 5.13), so that one keeps
 * the agent's name on /metrics too. */
static const struct am_metric_desc psi_totals[3][2] = {
    {
	{.name = "antimetal_pressure_cpu_waiting_seconds_total",
	 .prom = "node_pressure_cpu_waiting_seconds_total",
	 .help = "Total time in seconds that processes have waited for CPU time",
	 .unit = "s",
	 .type = AM_METRIC_COUNTER},
	{.name = "antimetal_pressure_cpu_stalled_seconds_total",
	 .prom = NULL,
	 .help = "Total time in seconds no process could make progress due to cpu congestion",
	 .unit = "s",
	 .type = AM_METRIC_COUNTER},
    },
    {
	{.name = "antimetal_pressure_memory_waiting_seconds_total",
	 .prom = "node_pressure_memory_waiting_seconds_total",
	 .help = "Total time in seconds that processes have waited for memory",
	 .unit = "s",
	 .type = AM_METRIC_COUNTER},
	{.name = "antimetal_pressure_memory_stalled_seconds_total",
	 .prom = "node_pressure_memory_stalled_seconds_total",
	 .help = "Total time in seconds no process could make progress due to memory congestion",
	 .unit = "s",
	 .type = AM_METRIC_COUNTER},
    },
    {
	{.name = "antimetal_pressure_io_waiting_seconds_total",
	 .prom = "node_pressure_io_waiting_seconds_total",
	 .help = "Total time in seconds that processes have waited for IO congestion",
	 .unit = "s",
	 .type = AM_METRIC_COUNTER},
	{.name = "antimetal_pressure_io_stalled_seconds_total",
	 .prom = "node_pressure_io_stalled_seconds_total",
	 .help = "Total time in seconds no process could make progress due to IO congestion",
	 .unit = "s",
	 .type = AM_METRIC_COUNTER},
    },
};

static void emit_psi(const struct am_psi *psi, int resource, struct am_metric_set *out)
{
	static const char *const windows[3] = {"10s", "60s", "300s"};
	const char *name = resources[resource];
	int i;

	am_metric_add(out, &psi_totals[resource][0], (double)psi->some_total_us / 1e6, NULL);
	for (i = 0; i < 3; i++)
		am_metric_add(out,
			      AM_METRIC_DESC(.name = "antimetal_pressure_waiting_ratio",
					     .help = "Share of time some task was stalled, kernel "
						     "running average.",
					     .unit = "1", .type = AM_METRIC_GAUGE,
					     .labels = {"resource", "window"}),
			      psi->some_avg[i] / 100, "resource", name, "window", windows[i], NULL);
	if (!psi->has_full)
		return;
	am_metric_add(out, &psi_totals[resource][1], (double)psi->full_total_us / 1e6, NULL);
	for (i = 0; i < 3; i++)
		am_metric_add(out,
			      AM_METRIC_DESC(.name = "antimetal_pressure_stalled_ratio",
					     .help = "Share of time all tasks were stalled, kernel "
						     "running average.",
					     .unit = "1", .type = AM_METRIC_GAUGE,
					     .labels = {"resource", "window"}),
			      psi->full_avg[i] / 100, "resource", name, "window", windows[i], NULL);
}

static int pressure_init(void **state, const struct am_collect_roots *roots)
{
	struct pressure_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	*state = st;
	return 0;
}

static int pressure_collect(void *state, struct am_metric_set *out)
{
	struct pressure_state *st = state;
	char dir[600];
	int i;

	snprintf(dir, sizeof(dir), "%s/pressure", st->roots.procfs);
	if (access(dir, F_OK)) {
		if (!st->absent_logged)
			am_info("pressure: %s absent (kernel without PSI): collector disabled",
				dir);
		st->absent_logged = 1;
		return 0;
	}
	st->absent_logged = 0;
	for (i = 0; i < 3; i++) {
		char rel[64];
		struct am_psi psi;
		const char *why = "";
		int err;

		snprintf(rel, sizeof(rel), "pressure/%s", resources[i]);
		err = am_kept_paths_read(&st->kept, st->roots.procfs, rel, &st->buf);
		if (err) {
			/* ENOENT: no PSI in this kernel; EOPNOTSUPP: booted with psi=0. */
			if (!st->warned[i])
				am_info("pressure: %s/%s unavailable (%s): %s pressure disabled",
					st->roots.procfs, rel, strerror(-err), resources[i]);
			st->warned[i] = true;
			continue;
		}
		st->warned[i] = false;
		if (am_parse_psi(st->buf.data, &psi, &why)) {
			if (!st->bad[i])
				am_warn("pressure: %s/%s: %s", st->roots.procfs, rel, why);
			st->bad[i] = true;
			continue;
		}
		st->bad[i] = false;
		emit_psi(&psi, i, out);
	}
	return 0;
}

static void pressure_destroy(void *state)
{
	struct pressure_state *st = state;

	if (!st)
		return;
	am_kept_paths_close(&st->kept);
	am_strbuf_free(&st->buf);
	free(st);
}

const struct am_collector am_collector_pressure = {
    .name = "pressure",
    .init = pressure_init,
    .collect = pressure_collect,
    .destroy = pressure_destroy,
    .node = {"pressure"},
};
