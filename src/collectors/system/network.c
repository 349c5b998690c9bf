/* network: /proc/net/dev per interface, as node_exporter's node_network_*_total, read from
 * <procfs>/1/net/dev (the host's namespace when a host /proc is mounted into a container),
 * falling back to <procfs>/self/net/dev. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "collectors/parse/rate.h"
#include "util/log.h"

static const struct {
	const char *name, *help;
} net_metrics[16] = {
    {"antimetal_network_receive_bytes_total", "Bytes received."},
    {"antimetal_network_receive_packets_total", "Packets received."},
    {"antimetal_network_receive_errs_total", "Receive errors."},
    {"antimetal_network_receive_drop_total", "Received packets dropped."},
    {"antimetal_network_receive_fifo_total", "Receive FIFO overruns."},
    {"antimetal_network_receive_frame_total", "Receive framing errors."},
    {"antimetal_network_receive_compressed_total", "Compressed packets received."},
    {"antimetal_network_receive_multicast_total", "Multicast packets received."},
    {"antimetal_network_transmit_bytes_total", "Bytes transmitted."},
    {"antimetal_network_transmit_packets_total", "Packets transmitted."},
    {"antimetal_network_transmit_errs_total", "Transmit errors."},
    {"antimetal_network_transmit_drop_total", "Transmitted packets dropped."},
    {"antimetal_network_transmit_fifo_total", "Transmit FIFO overruns."},
    {"antimetal_network_transmit_colls_total", "Collisions while transmitting."},
    {"antimetal_network_transmit_carrier_total", "Carrier losses while transmitting."},
    {"antimetal_network_transmit_compressed_total", "Compressed packets transmitted."},
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
			am_metric_add(out, net_metrics[i].name, net_metrics[i].help,
				      AM_METRIC_COUNTER, (double)v[i], "device", dev, NULL);
	}
	return 0;
}

struct network_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
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

static int network_collect(void *state, struct am_metric_set *out)
{
	struct network_state *st = state;
	const char *why = "";
	size_t mark = out->n;
	uint64_t now;
	int err;

	now = am_roots_now_ns(&st->roots);
	err = am_procfs_read_net(st->roots.procfs, "dev", &st->buf, "network", &st->warned);
	if (err)
		return err;
	err = am_parse_net_dev(st->buf.data, out, &why);
	if (err) {
		am_warn("network: %s/1/net/dev: %s", st->roots.procfs, why);
		return err;
	}
	am_rate_cycle(&st->rates);
	am_rate_emit(&st->rates, out, mark, "antimetal_network_receive_bytes_total",
		     "antimetal_network_receive_bytes_per_second",
		     "Bytes received per second since the last cycle.", now, 1);
	am_rate_emit(&st->rates, out, mark, "antimetal_network_transmit_bytes_total",
		     "antimetal_network_transmit_bytes_per_second",
		     "Bytes transmitted per second since the last cycle.", now, 1);
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
};
