/* network: /proc/net/dev per interface, as node_exporter's node_network_*_total, read from
 * <procfs>/1/net/dev (the host's namespace when a host /proc is mounted into a container),
 * falling back to <procfs>/self/net/dev. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "collectors/parse/rate.h"
#include "util/clock.h"
#include "util/log.h"

static const struct am_metric_desc net_metrics[16] = {
    {.name = "antimetal_network_receive_bytes_total",
     .prom = "node_network_receive_bytes_total",
     .help = "Bytes received.",
     .unit = "By",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_receive_packets_total",
     .prom = "node_network_receive_packets_total",
     .help = "Packets received.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_receive_errs_total",
     .prom = "node_network_receive_errs_total",
     .help = "Receive errors.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_receive_drop_total",
     .prom = "node_network_receive_drop_total",
     .help = "Received packets dropped.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_receive_fifo_total",
     .prom = "node_network_receive_fifo_total",
     .help = "Receive FIFO overruns.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_receive_frame_total",
     .prom = "node_network_receive_frame_total",
     .help = "Receive framing errors.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_receive_compressed_total",
     .prom = "node_network_receive_compressed_total",
     .help = "Compressed packets received.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_receive_multicast_total",
     .prom = "node_network_receive_multicast_total",
     .help = "Multicast packets received.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_bytes_total",
     .prom = "node_network_transmit_bytes_total",
     .help = "Bytes transmitted.",
     .unit = "By",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_packets_total",
     .prom = "node_network_transmit_packets_total",
     .help = "Packets transmitted.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_errs_total",
     .prom = "node_network_transmit_errs_total",
     .help = "Transmit errors.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_drop_total",
     .prom = "node_network_transmit_drop_total",
     .help = "Transmitted packets dropped.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_fifo_total",
     .prom = "node_network_transmit_fifo_total",
     .help = "Transmit FIFO overruns.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_colls_total",
     .prom = "node_network_transmit_colls_total",
     .help = "Collisions while transmitting.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_carrier_total",
     .prom = "node_network_transmit_carrier_total",
     .help = "Carrier losses while transmitting.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_compressed_total",
     .prom = "node_network_transmit_compressed_total",
     .help = "Compressed packets transmitted.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
};

static int fail(const char **why, const char *msg, struct am_metric_set *out, size_t mark)
{
	if (why)
		*why = msg;
	am_metric_set_truncate(out, mark);
	return -EINVAL;
}

int am_parse_net_dev(const char *text, struct am_metric_set *out, const char **why)
{
	size_t mark = out->n;
	const char *line = text;
	int i;

	/* Two header lines: "Inter-|   Receive ..." and " face |bytes ...". */
	if (strncmp(line, "Inter-|", 7))
		return fail(why, "missing the 'Inter-|' header line", out, mark);
	line = am_next_line(line);
	if (!line || !strchr(line, '|'))
		return fail(why, "missing the second header line", out, mark);
	for (line = am_next_line(line); line && *line; line = am_next_line(line)) {
		const char *start = am_skip_blank(line), *colon = start, *p;
		char dev[64];
		uint64_t v[16];
		size_t n;

		if (am_at_eol(line))
			continue;
		while (*colon && *colon != ':' && *colon != '\n')
			colon++;
		n = (size_t)(colon - start);
		if (*colon != ':' || n == 0 || n >= sizeof(dev))
			return fail(why, "expected 'DEVICE: 16 counters'", out, mark);
		memcpy(dev, start, n);
		dev[n] = '\0';
		p = colon + 1;
		for (i = 0; i < 16; i++)
			if (am_parse_u64(&p, &v[i]))
				return fail(why, "expected 16 counters after the device name", out,
					    mark);
		if (!am_at_eol(p))
			return fail(why, "more than 16 counters on a device line", out, mark);
		for (i = 0; i < 16; i++)
			am_metric_add(out, &net_metrics[i], (double)v[i], "device", dev, NULL);
	}
	return 0;
}

struct network_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_rate_table rates;
	int warned;
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
		if (out->items[i].desc != &net_metrics[0] || out->items[i].nlabels < 1)
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

	now = am_clock_ns(CLOCK_MONOTONIC);
	err = am_procfs_read_net(st->roots.procfs, "dev", &st->buf, "network", &st->warned);
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
