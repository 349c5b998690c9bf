/* network: /proc/net/dev per interface, as node_exporter's node_network_*_total, read from
 * <procfs>/1/net/dev (the host's namespace when a host /proc is mounted into a container),
 * falling back to <procfs>/self/net/dev. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/parse/kept_file.h"
#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "collectors/parse/rate.h"
#include "util/log.h"

struct network_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_kept_paths kept; /* its /proc files, kept open */
	struct am_rate_table rates;
	bool warned;
};

static int network_init(void **state, const struct am_collect_roots *roots)
{
	struct network_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	*state = st;
	return 0;
}

/* Packets dropped for want of a protocol handler: not in /proc/net/dev, but node_exporter 1.5
 * (over netlink) serves it, so it is read from sysfs per device of this cycle. */
static void nohandler(struct network_state *st, struct am_metric_set *out, size_t mark)
{
	static const struct am_metric_desc desc = {
	    .name = "antimetal_network_receive_nohandler_total",
	    .prom = "node_network_receive_nohandler_total",
	    .help = "Network device statistic receive_nohandler.",
	    .unit = "{packet}",
	    .type = AM_METRIC_COUNTER,
	    .labels = {"device"},
	};
	size_t i, end = out->n;

	for (i = mark; i < end; i++) {
		char rel[320], dev[64], line[32];
		const char *p = line;
		uint64_t v;

		/* One sample per device: its first counter, receive_bytes. */
		if (out->items[i].desc != &am_net_dev_metrics[0] || out->items[i].nlabels < 1)
			continue;
		snprintf(dev, sizeof(dev), "%s", out->items[i].labels[0].value);
		snprintf(rel, sizeof(rel), "class/net/%s/statistics/rx_nohandler", dev);
		if (am_procfs_read_line(st->roots.sysfs, rel, line, sizeof(line)) ||
		    am_parse_u64(&p, &v) || !am_at_eol(p))
			continue;
		am_metric_add(out, &desc, (double)v, "device", dev, NULL);
	}
}

static int network_collect(void *state, struct am_metric_set *out)
{
	struct network_state *st = state;
	const char *why = "";
	size_t mark = out->n;
	uint64_t now;
	int err;

	now = am_roots_now_ns(&st->roots);
	err = am_kept_paths_read_net(&st->kept, st->roots.procfs, "dev", &st->buf, "network",
				     &st->warned);
	if (err)
		return err;
	err = am_parse_net_dev(st->buf.data, out, &why);
	if (err) {
		am_warn("network: %s/1/net/dev: %s", st->roots.procfs, why);
		return err;
	}
	nohandler(st, out, mark);
	am_rate_cycle(&st->rates);
	am_rate_emit(&st->rates, out, mark, "antimetal_network_receive_bytes_total",
		     AM_METRIC_DESC(.name = "antimetal_network_receive_bytes_per_second",
				    .help = "Bytes received per second since the last cycle.",
				    .unit = "By/s", .type = AM_METRIC_GAUGE, .labels = {"device"}),
		     now, 1);
	am_rate_emit(&st->rates, out, mark, "antimetal_network_transmit_bytes_total",
		     AM_METRIC_DESC(.name = "antimetal_network_transmit_bytes_per_second",
				    .help = "Bytes transmitted per second since the last cycle.",
				    .unit = "By/s", .type = AM_METRIC_GAUGE, .labels = {"device"}),
		     now, 1);
	return 0;
}

static void network_destroy(void *state)
{
	struct network_state *st = state;

	if (!st)
		return;
	am_kept_paths_close(&st->kept);
	am_strbuf_free(&st->buf);
	am_rate_free(&st->rates);
	free(st);
}

const struct am_collector am_collector_network = {
    .name = "network",
    .init = network_init,
    .collect = network_collect,
    .destroy = network_destroy,
    .node = {"netdev"},
};
