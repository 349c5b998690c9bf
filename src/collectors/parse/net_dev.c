/* Parser of /proc/net/dev (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

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
			am_metric_add(out, net_metrics[i].name, net_metrics[i].help,
				      AM_METRIC_COUNTER, (double)v[i], "device", dev, NULL);
	}
	return 0;
}
