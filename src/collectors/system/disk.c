/* disk: /proc/diskstats per whole device, as node_exporter's node_disk_* (sectors are always
 * 512 bytes in this file, whatever the device's block size), plus per-second rates. */
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
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"

struct disk_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_kept_paths kept; /* its /proc files, kept open */
	struct am_rate_table rates;
	struct am_strbuf udev;
	bool warned;
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

/* node_disk_info's model, path, revision, serial and wwn come from udev's database
 * (/run/udev/data/b<major>:<minor>, "E:ID_MODEL=..." lines), as node_exporter reads them; a host
 * without udev leaves them empty, as it does there. */
static void disk_udev(struct disk_state *st, struct am_metric_set *out, size_t mark)
{
	static const char *const keys[5] = {
	    "E:ID_MODEL=", "E:ID_PATH=", "E:ID_REVISION=", "E:ID_SERIAL_SHORT=", "E:ID_WWN="};
	size_t i;
	int k;

	for (i = mark; i < out->n; i++) {
		struct am_metric *m = &out->items[i];
		char path[128];

		if (m->desc != &am_disk_info_desc || m->nlabels != 8)
			continue;
		snprintf(path, sizeof(path), "/run/udev/data/b%s:%s", m->labels[1].value,
			 m->labels[2].value);
		if (am_file_read(path, 1 << 16, &st->udev) || !st->udev.data)
			continue;
		for (k = 0; k < 5; k++) {
			const char *p = strstr(st->udev.data, keys[k]);
			char *v;
			size_t n;

			if (!p || (p != st->udev.data && p[-1] != '\n'))
				continue;
			p += strlen(keys[k]);
			n = strcspn(p, "\n");
			v = strndup(p, n);
			if (!v)
				continue;
			am_metric_label_free(m->labels[3 + k].value);
			m->labels[3 + k].value = v;
		}
	}
}

static int disk_collect(void *state, struct am_metric_set *out)
{
	struct disk_state *st = state;
	const char *why = "";
	size_t mark = out->n;
	uint64_t now = am_roots_now_ns(&st->roots);
	int err;

	err = am_kept_paths_read_logged(&st->kept, st->roots.procfs, "diskstats", &st->buf, "disk",
					&st->warned);
	if (err)
		return err;
	err = am_parse_diskstats(st->buf.data, out, &why);
	if (err) {
		am_warn("disk: %s/diskstats: %s", st->roots.procfs, why);
		return err;
	}
	disk_udev(st, out, mark);
	am_rate_cycle(&st->rates);
	am_rate_emit(&st->rates, out, mark, "antimetal_disk_read_bytes_total",
		     AM_METRIC_DESC(.name = "antimetal_disk_read_bytes_per_second",
				    .help = "Bytes read per second since the last cycle.",
				    .unit = "By/s", .type = AM_METRIC_GAUGE, .labels = {"device"}),
		     now, 1);
	am_rate_emit(&st->rates, out, mark, "antimetal_disk_written_bytes_total",
		     AM_METRIC_DESC(.name = "antimetal_disk_written_bytes_per_second",
				    .help = "Bytes written per second since the last cycle.",
				    .unit = "By/s", .type = AM_METRIC_GAUGE, .labels = {"device"}),
		     now, 1);
	am_rate_emit(&st->rates, out, mark, "antimetal_disk_io_time_seconds_total",
		     AM_METRIC_DESC(.name = "antimetal_disk_io_utilization_ratio",
				    .help = "Fraction of time with I/O in progress since the last "
					    "cycle.",
				    .unit = "1", .type = AM_METRIC_GAUGE, .labels = {"device"}),
		     now, 1000);
	return 0;
}

static void disk_destroy(void *state)
{
	struct disk_state *st = state;

	if (!st)
		return;
	am_kept_paths_close(&st->kept);
	am_strbuf_free(&st->buf);
	am_strbuf_free(&st->udev);
	am_rate_free(&st->rates);
	free(st);
}

const struct am_collector am_collector_disk = {
    .name = "disk",
    .init = disk_init,
    .collect = disk_collect,
    .destroy = disk_destroy,
    .node = {"diskstats"},
};
