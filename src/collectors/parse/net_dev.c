/* Parser of /proc/net/dev (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

const struct am_metric_desc am_net_dev_metrics[16] = {
    {.name = "antimetal_network_receive_bytes_total",
     .prom = "node_network_receive_bytes_total",
     .otel = "system.network.io",
     .otel_attrs = {{"network.io.direction", "receive"}},
     .otel_labels = {{"device", "network.interface.name"}},
     .help = "Bytes received.",
     .unit = "By",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_receive_packets_total",
     .prom = "node_network_receive_packets_total",
     .otel = "system.network.packets",
     .otel_attrs = {{"network.io.direction", "receive"}},
     .otel_labels = {{"device", "network.interface.name"}},
     .help = "Packets received.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_receive_errs_total",
     .prom = "node_network_receive_errs_total",
     .otel = "system.network.errors",
     .otel_attrs = {{"network.io.direction", "receive"}},
     .otel_labels = {{"device", "network.interface.name"}},
     .otel_unit = "{error}",
     .help = "Receive errors.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_receive_drop_total",
     .prom = "node_network_receive_drop_total",
     .otel = "system.network.dropped",
     .otel_attrs = {{"network.io.direction", "receive"}},
     .otel_labels = {{"device", "network.interface.name"}},
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
     .otel = "system.network.io",
     .otel_attrs = {{"network.io.direction", "transmit"}},
     .otel_labels = {{"device", "network.interface.name"}},
     .help = "Bytes transmitted.",
     .unit = "By",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_packets_total",
     .prom = "node_network_transmit_packets_total",
     .otel = "system.network.packets",
     .otel_attrs = {{"network.io.direction", "transmit"}},
     .otel_labels = {{"device", "network.interface.name"}},
     .help = "Packets transmitted.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_errs_total",
     .prom = "node_network_transmit_errs_total",
     .otel = "system.network.errors",
     .otel_attrs = {{"network.io.direction", "transmit"}},
     .otel_labels = {{"device", "network.interface.name"}},
     .otel_unit = "{error}",
     .help = "Transmit errors.",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"device"}},
    {.name = "antimetal_network_transmit_drop_total",
     .prom = "node_network_transmit_drop_total",
     .otel = "system.network.dropped",
     .otel_attrs = {{"network.io.direction", "transmit"}},
     .otel_labels = {{"device", "network.interface.name"}},
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

int am_parse_net_dev(const char *text, struct am_metric_set *out, const char **why)
{
	size_t mark = out->n;
	const char *line = text;
	int i;

	/* Two header lines: "Inter-|   Receive ..." and " face |bytes ...". */
	if (strncmp(line, "Inter-|", 7))
		return am_parse_fail(why, "missing the 'Inter-|' header line", out, mark);
	line = am_next_line(line);
	if (!line || !strchr(line, '|'))
		return am_parse_fail(why, "missing the second header line", out, mark);
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
			return am_parse_fail(why, "expected 'DEVICE: 16 counters'", out, mark);
		memcpy(dev, start, n);
		dev[n] = '\0';
		p = colon + 1;
		for (i = 0; i < 16; i++)
			if (am_parse_u64(&p, &v[i]))
				return am_parse_fail(
				    why, "expected 16 counters after the device name", out, mark);
		if (!am_at_eol(p))
			return am_parse_fail(why, "more than 16 counters on a device line", out,
					     mark);
		for (i = 0; i < 16; i++)
			am_metric_add(out, &am_net_dev_metrics[i], (double)v[i], "device", dev,
				      NULL);
	}
	return 0;
}
