/* Parser of selected /proc/vmstat counters (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

static const struct {
	const char *key, *name, *help;
} vmstat_fields[] = {
    {"pgpgin", "antimetal_vmstat_pgpgin_total", "KiB paged in from disk."},
    {"pgpgout", "antimetal_vmstat_pgpgout_total", "KiB paged out to disk."},
    {"pswpin", "antimetal_vmstat_pswpin_total", "Pages swapped in."},
    {"pswpout", "antimetal_vmstat_pswpout_total", "Pages swapped out."},
    {"pgfault", "antimetal_vmstat_pgfault_total", "Page faults."},
    {"pgmajfault", "antimetal_vmstat_pgmajfault_total", "Major page faults (needing I/O)."},
    {"pgsteal_kswapd", "antimetal_vmstat_pgsteal_kswapd_total", "Pages reclaimed by kswapd."},
    {"pgsteal_direct", "antimetal_vmstat_pgsteal_direct_total",
     "Pages reclaimed by direct reclaim."},
    {"pgscan_kswapd", "antimetal_vmstat_pgscan_kswapd_total", "Pages scanned by kswapd."},
    {"pgscan_direct", "antimetal_vmstat_pgscan_direct_total", "Pages scanned by direct reclaim."},
    {"oom_kill", "antimetal_vmstat_oom_kill_total", "Processes killed by the OOM killer."},
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
				am_metric_add(out, vmstat_fields[i].name, vmstat_fields[i].help,
					      AM_METRIC_COUNTER, (double)v, NULL);
	}
	if (!lines)
		return am_parse_fail(why, "empty", out, mark);
	return 0;
}
