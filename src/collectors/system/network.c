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
#include "util/clock.h"
#include "util/log.h"

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
