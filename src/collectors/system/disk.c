/* disk: /proc/diskstats per whole device, as node_exporter's node_disk_* (sectors are always
 * 512 bytes in this file, whatever the device's block size), plus per-second rates. */
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

struct disk_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_rate_table rates;
	int warned;
};

static int disk_init(void **state, const struct am_collect_roots *roots)
{
	struct disk_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	*state = st;
	return 0;
}

static int disk_collect(void *state, struct am_metric_set *out)
{
	struct disk_state *st = state;
	const char *why = "";
	size_t mark = out->n;
	uint64_t now = am_clock_ns(CLOCK_MONOTONIC);
	int err;

	err = am_procfs_read_logged(st->roots.procfs, "diskstats", &st->buf, "disk", &st->warned);
	if (err)
		return err;
	err = am_parse_diskstats(st->buf.data, out, &why);
	if (err) {
		am_warn("disk: %s/diskstats: %s", st->roots.procfs, why);
		return err;
	}
	am_rate_cycle(&st->rates);
	am_rate_emit(&st->rates, out, mark, "antimetal_disk_read_bytes_total",
		     "antimetal_disk_read_bytes_per_second",
		     "Bytes read per second since the last cycle.", now, 1);
	am_rate_emit(&st->rates, out, mark, "antimetal_disk_written_bytes_total",
		     "antimetal_disk_written_bytes_per_second",
		     "Bytes written per second since the last cycle.", now, 1);
	am_rate_emit(&st->rates, out, mark, "antimetal_disk_io_time_seconds_total",
		     "antimetal_disk_io_utilization_ratio",
		     "Fraction of time with I/O in progress since the last cycle.", now, 1000);
	return 0;
}

static void disk_destroy(void *state)
{
	struct disk_state *st = state;

	if (!st)
		return;
	am_strbuf_free(&st->buf);
	am_rate_free(&st->rates);
	free(st);
}

const struct am_collector am_collector_disk = {
    .name = "disk",
    .init = disk_init,
    .collect = disk_collect,
    .destroy = disk_destroy,
};
