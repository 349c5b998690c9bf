/* Parser of selected /proc/vmstat counters (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

/* node_exporter 1.5's default vmstat fields (^(oom_kill|pgpg|pswp|pg.*fault).*) as
 * node_vmstat_<field>, which it declares untyped; the reclaim counters are the agent's own. */
static const struct {
	const char *key;
	struct am_metric_desc desc;
} vmstat_fields[] = {
    {"pgpgin",
     {.name = "antimetal_vmstat_pgpgin_total",
      .prom = "node_vmstat_pgpgin",
      .otel = "system.paging.operations",
      .otel_attrs = {{"system.paging.direction", "in"}, {"system.paging.type", "minor"}},
      .otel_unit = "{operation}",
      .help = "KiB paged in from disk.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgpgout",
     {.name = "antimetal_vmstat_pgpgout_total",
      .prom = "node_vmstat_pgpgout",
      .otel = "system.paging.operations",
      .otel_attrs = {{"system.paging.direction", "out"}, {"system.paging.type", "minor"}},
      .otel_unit = "{operation}",
      .help = "KiB paged out to disk.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pswpin",
     {.name = "antimetal_vmstat_pswpin_total",
      .prom = "node_vmstat_pswpin",
      .otel = "system.paging.operations",
      .otel_attrs = {{"system.paging.direction", "in"}, {"system.paging.type", "major"}},
      .otel_unit = "{operation}",
      .help = "Pages swapped in.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pswpout",
     {.name = "antimetal_vmstat_pswpout_total",
      .prom = "node_vmstat_pswpout",
      .otel = "system.paging.operations",
      .otel_attrs = {{"system.paging.direction", "out"}, {"system.paging.type", "major"}},
      .otel_unit = "{operation}",
      .help = "Pages swapped out.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgfault",
     {.name = "antimetal_vmstat_pgfault_total",
      .prom = "node_vmstat_pgfault",
      .help = "Page faults.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgmajfault",
     {.name = "antimetal_vmstat_pgmajfault_total",
      .prom = "node_vmstat_pgmajfault",
      .otel = "system.paging.faults",
      .otel_attrs = {{"system.paging.type", "major"}},
      .otel_unit = "{fault}",
      .help = "Major page faults (needing I/O).",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgsteal_kswapd",
     {.name = "antimetal_vmstat_pgsteal_kswapd_total",
      .prom = NULL,
      .help = "Pages reclaimed by kswapd.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgsteal_direct",
     {.name = "antimetal_vmstat_pgsteal_direct_total",
      .prom = NULL,
      .help = "Pages reclaimed by direct reclaim.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgscan_kswapd",
     {.name = "antimetal_vmstat_pgscan_kswapd_total",
      .prom = NULL,
      .help = "Pages scanned by kswapd.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgscan_direct",
     {.name = "antimetal_vmstat_pgscan_direct_total",
      .prom = NULL,
      .help = "Pages scanned by direct reclaim.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"oom_kill",
     {.name = "antimetal_vmstat_oom_kill_total",
      .prom = "node_vmstat_oom_kill",
      .help = "Processes killed by the OOM killer.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
};

int am_parse_vmstat(const char *text, struct am_metric_set *out, const char **why)
{
	size_t mark = out->n, i;
	const char *line;
	int lines = 0;

	for (line = text; line && *line; line = am_next_line(line)) {
		char key[64];
		const char *p = line;
		uint64_t v;

		if (*line == '\n')
			continue;
		if (!am_next_token(&p, key, sizeof(key)) || am_parse_u64(&p, &v) || !am_at_eol(p))
			return am_parse_fail(why, "expected 'name value' lines", out, mark);
		lines++;
		for (i = 0; i < sizeof(vmstat_fields) / sizeof(vmstat_fields[0]); i++)
			if (!strcmp(key, vmstat_fields[i].key))
				am_metric_add(out, &vmstat_fields[i].desc, (double)v, NULL);
	}
	if (!lines)
		return am_parse_fail(why, "empty", out, mark);
	return 0;
}
