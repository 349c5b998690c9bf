/* Parser of /proc/loadavg (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

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
				     .otel = "system.cpu.load_average.1m", .otel_unit = "{thread}",
				     .help = "1-minute load average.", .type = AM_METRIC_GAUGE),
		      avg[0], NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_load5", .prom = "node_load5",
				     .otel = "system.cpu.load_average.5m", .otel_unit = "{thread}",
				     .help = "5-minute load average.", .type = AM_METRIC_GAUGE),
		      avg[1], NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_load15", .prom = "node_load15",
				     .otel = "system.cpu.load_average.15m", .otel_unit = "{thread}",
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
