/* load: /proc/loadavg, as node_exporter's node_load1/5/15. */
#include <errno.h>
#include <stdlib.h>

#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/log.h"

int am_parse_loadavg(const char *text, struct am_metric_set *out, const char **why)
{
	const char *p = text;
	double avg[3];
	uint64_t running, total, lastpid;
	int i;

	for (i = 0; i < 3; i++) {
		if (am_parse_fixed(&p, &avg[i])) {
			if (why)
				*why = "expected three load averages";
			return -EINVAL;
		}
	}
	if (am_parse_u64(&p, &running) || *p != '/' || (p++, am_parse_u64(&p, &total)) ||
	    am_parse_u64(&p, &lastpid) || !am_at_eol(p)) {
		if (why)
			*why = "expected 'RUNNING/TOTAL LASTPID' after the load averages";
		return -EINVAL;
	}
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_load1", .prom = "node_load1",
				     .help = "1-minute load average.", .type = AM_METRIC_GAUGE),
		      avg[0], NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_load5", .prom = "node_load5",
				     .help = "5-minute load average.", .type = AM_METRIC_GAUGE),
		      avg[1], NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_load15", .prom = "node_load15",
				     .help = "15-minute load average.", .type = AM_METRIC_GAUGE),
		      avg[2], NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_load_runnable_tasks",
				     .help = "Scheduling entities currently runnable.",
				     .type = AM_METRIC_GAUGE),
		      (double)running, NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_load_tasks",
				     .help = "Scheduling entities that exist.",
				     .type = AM_METRIC_GAUGE),
		      (double)total, NULL);
	return 0;
}

struct load_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	int warned;
};

static int load_init(void **state, const struct am_collect_roots *roots)
{
	struct load_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	*state = st;
	return 0;
}

static int load_collect(void *state, struct am_metric_set *out)
{
	struct load_state *st = state;
	const char *why = "";
	int err;

	err = am_procfs_read_logged(st->roots.procfs, "loadavg", &st->buf, "load", &st->warned);
	if (err)
		return err;
	err = am_parse_loadavg(st->buf.data, out, &why);
	if (err)
		am_warn("load: %s/loadavg: %s", st->roots.procfs, why);
	return err;
}

static void load_destroy(void *state)
{
	struct load_state *st = state;

	if (!st)
		return;
	am_strbuf_free(&st->buf);
	free(st);
}

const struct am_collector am_collector_load = {
    .name = "load",
    .init = load_init,
    .collect = load_collect,
    .destroy = load_destroy,
    .node = {"loadavg"},
};
