/* udp_queues: memory queued in UDP sockets, IPv4 and IPv6 (/proc/net/udp, udp6). */
#include <errno.h>

#include "collectors/parse/kept_file.h"
#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/log.h"

static const struct am_metric_desc udp_queues = {
    .name = "antimetal_udp_queues",
    .prom = "node_udp_queues",
    .help = "Number of allocated memory in the kernel for UDP datagrams in bytes.",
    .unit = "By",
    .type = AM_METRIC_GAUGE,
    .labels = {"ip", "queue"},
};

static int udp_queues_collect(void *state, struct am_metric_set *out)
{
	static const char *const files[2] = {"udp", "udp6"}, *const ip[2] = {"v4", "v6"};
	struct am_simple_state *st = state;
	int i, ok = 0, err = 0;

	for (i = 0; i < 2; i++) {
		uint64_t tx, rx;
		const char *why = "";
		bool warned = true; /* udp6 is absent without IPv6: not worth a line */

		err = am_kept_paths_read_net(&st->kept, st->roots.procfs, files[i], &st->buf,
					     "udp_queues", i ? &warned : &st->warned);
		if (err)
			continue;
		err = am_parse_udp_queues(st->buf.data, &tx, &rx, &why);
		if (err) {
			am_warn("udp_queues: %s/net/%s: %s", st->roots.procfs, files[i], why);
			continue;
		}
		am_metric_add(out, &udp_queues, (double)tx, "ip", ip[i], "queue", "tx", NULL);
		am_metric_add(out, &udp_queues, (double)rx, "ip", ip[i], "queue", "rx", NULL);
		ok++;
	}
	return ok ? 0 : err;
}

const struct am_collector am_collector_udp_queues = {
    .name = "udp_queues",
    .init = am_simple_init,
    .collect = udp_queues_collect,
    .destroy = am_simple_destroy,
    .node = {"udp_queues"},
};
