/* conntrack: netfilter's connection table size and its per-CPU statistics, summed. A host
 * without nf_conntrack loaded has neither: the collector then reports nothing, quietly. */
#include <errno.h>
#include <string.h>

#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/log.h"

#define NSTATS 8

static const char *const stat_columns[NSTATS] = {
    "found", "invalid", "ignore", "insert", "insert_failed", "drop", "early_drop", "search_restart",
};

/* node_exporter 1.5 declares these gauges although the kernel counts them up. */
static const struct am_metric_desc stats[NSTATS] = {
    {.prom = "node_nf_conntrack_stat_found",
     .help = "Number of searched entries which were successful.",
     .type = AM_METRIC_GAUGE},
    {.prom = "node_nf_conntrack_stat_invalid",
     .help = "Number of packets seen which can not be tracked.",
     .type = AM_METRIC_GAUGE},
    {.prom = "node_nf_conntrack_stat_ignore",
     .help = "Number of packets seen which are already connected to a conntrack entry.",
     .type = AM_METRIC_GAUGE},
    {.prom = "node_nf_conntrack_stat_insert",
     .help = "Number of entries inserted into the list.",
     .type = AM_METRIC_GAUGE},
    {.prom = "node_nf_conntrack_stat_insert_failed",
     .help = "Number of entries for which list insertion was attempted but failed.",
     .type = AM_METRIC_GAUGE},
    {.prom = "node_nf_conntrack_stat_drop",
     .help = "Number of packets dropped due to conntrack failure.",
     .type = AM_METRIC_GAUGE},
    {.prom = "node_nf_conntrack_stat_early_drop",
     .help = "Number of dropped conntrack entries to make room for new ones, if maximum table "
	     "size was reached.",
     .type = AM_METRIC_GAUGE},
    {.prom = "node_nf_conntrack_stat_search_restart",
     .help = "Number of conntrack table lookups which had to be restarted due to hashtable "
	     "resizes.",
     .type = AM_METRIC_GAUGE},
};

static const struct am_metric_desc entries[2] = {
    {.prom = "node_nf_conntrack_entries",
     .otel = "system.network.conntrack.count",
     .otel_unit = "{entry}",
     .otel_updown = 1,
     .help = "Number of currently allocated flow entries for connection tracking.",
     .type = AM_METRIC_GAUGE},
    {.prom = "node_nf_conntrack_entries_limit",
     .otel = "system.network.conntrack.max",
     .otel_unit = "{entry}",
     .otel_updown = 1,
     .help = "Maximum size of connection tracking table.",
     .type = AM_METRIC_GAUGE},
};

static int conntrack_collect(void *state, struct am_metric_set *out)
{
	struct am_simple_state *st = state;
	uint64_t count, max, sums[NSTATS], present;
	const char *why = "";
	int i;

	if (am_procfs_read_u64(st->roots.procfs, "sys/net/netfilter/nf_conntrack_count", &count) ||
	    am_procfs_read_u64(st->roots.procfs, "sys/net/netfilter/nf_conntrack_max", &max))
		return 0; /* module not loaded */
	am_metric_add(out, &entries[0], (double)count, NULL);
	am_metric_add(out, &entries[1], (double)max, NULL);
	if (am_procfs_read(st->roots.procfs, "net/stat/nf_conntrack", &st->buf))
		return 0;
	if (am_parse_conntrack_stat(st->buf.data, stat_columns, NSTATS, sums, &present, &why)) {
		if (!st->warned)
			am_warn("conntrack: %s/net/stat/nf_conntrack: %s", st->roots.procfs, why);
		st->warned = true;
		return -EINVAL;
	}
	st->warned = false;
	for (i = 0; i < NSTATS; i++)
		if (present & (1ull << i))
			am_metric_add(out, &stats[i], (double)sums[i], NULL);
	return 0;
}

const struct am_collector am_collector_conntrack = {
    .name = "conntrack",
    .init = am_simple_init,
    .collect = conntrack_collect,
    .destroy = am_simple_destroy,
    .node = {"conntrack"},
};
