/* pressure: /proc/pressure/{cpu,memory,io} (PSI, Linux 4.20+), as node_exporter's
 * node_pressure_*_seconds_total, plus the kernel's running averages. A kernel without PSI
 * (or with psi=0) disables the collector with one log line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/log.h"

static void emit_psi(const struct am_psi *psi, const char *resource, struct am_metric_set *out)
{
	static const char *const windows[3] = {"10s", "60s", "300s"};
	int i;

	am_metric_add(out, "antimetal_pressure_waiting_seconds_total",
		      "Time at least one task was stalled on the resource (PSI some).",
		      AM_METRIC_COUNTER, (double)psi->some_total_us / 1e6, "resource", resource,
		      NULL);
	for (i = 0; i < 3; i++)
		am_metric_add(out, "antimetal_pressure_waiting_ratio",
			      "Share of time some task was stalled, kernel running average.",
			      AM_METRIC_GAUGE, psi->some_avg[i] / 100, "resource", resource,
			      "window", windows[i], NULL);
	if (!psi->has_full)
		return;
	am_metric_add(out, "antimetal_pressure_stalled_seconds_total",
		      "Time all non-idle tasks were stalled on the resource (PSI full).",
		      AM_METRIC_COUNTER, (double)psi->full_total_us / 1e6, "resource", resource,
		      NULL);
	for (i = 0; i < 3; i++)
		am_metric_add(out, "antimetal_pressure_stalled_ratio",
			      "Share of time all tasks were stalled, kernel running average.",
			      AM_METRIC_GAUGE, psi->full_avg[i] / 100, "resource", resource,
			      "window", windows[i], NULL);
}

struct pressure_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	int warned[3], bad[3];
	int absent_logged;
};

static const char *const resources[3] = {"cpu", "memory", "io"};

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
		err = am_procfs_read(st->roots.procfs, rel, &st->buf);
		if (err) {
			/* ENOENT: no PSI in this kernel; EOPNOTSUPP: booted with psi=0. */
			if (!st->warned[i])
				am_info("pressure: %s/%s unavailable (%s): %s pressure disabled",
					st->roots.procfs, rel, strerror(-err), resources[i]);
			st->warned[i] = 1;
			continue;
		}
		st->warned[i] = 0;
		if (am_parse_psi(st->buf.data, &psi, &why)) {
			if (!st->bad[i])
				am_warn("pressure: %s/%s: %s", st->roots.procfs, rel, why);
			st->bad[i] = 1;
			continue;
		}
		st->bad[i] = 0;
		emit_psi(&psi, resources[i], out);
	}
	return 0;
}

static void pressure_destroy(void *state)
{
	struct pressure_state *st = state;

	if (!st)
		return;
	am_strbuf_free(&st->buf);
	free(st);
}

const struct am_collector am_collector_pressure = {
    .name = "pressure",
    .init = pressure_init,
    .collect = pressure_collect,
    .destroy = pressure_destroy,
};
