/* arp: neighbour table entries per device (/proc/net/arp). */
#include <errno.h>

#include "collectors/parse/kept_file.h"
#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/log.h"

static int arp_collect(void *state, struct am_metric_set *out)
{
	struct am_simple_state *st = state;
	const char *why = "";
	int err;

	err = am_kept_paths_read_net(&st->kept, st->roots.procfs, "arp", &st->buf, "arp",
				     &st->warned);
	if (err)
		return err;
	err = am_parse_arp(st->buf.data, out, &why);
	if (err)
		am_warn("arp: %s/net/arp: %s", st->roots.procfs, why);
	return err;
}

const struct am_collector am_collector_arp = {
    .name = "arp",
    .init = am_simple_init,
    .collect = arp_collect,
    .destroy = am_simple_destroy,
    .node = {"arp"},
};
