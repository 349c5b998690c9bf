/* disk: /proc/diskstats per whole device, as node_exporter's node_disk_* (sectors are always
 * 512 bytes in this file, whatever the device's block size), plus per-second rates. */
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
#include "util/file.h"
#include "util/log.h"

static int digits_to_end(const char *s)
{
	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == '\0';
}

static int prefixed_digits(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(name, prefix, n) && digits_to_end(name + n);
}

/* node_exporter 1.5's default: ^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$ */
int am_disk_ignored(const char *name)
{
	const char *p = name;

	/* node_exporter 1.5 still lists zram devices (z?ram came later): so do we. */
	if (prefixed_digits(name, "ram") || prefixed_digits(name, "loop") ||
	    prefixed_digits(name, "fd"))
		return 1;
	if (!strncmp(p, "xv", 2))
		p += 2;
	else if (*p == 'h' || *p == 's' || *p == 'v')
		p++;
	if (p != name && p[0] == 'd' && p[1] >= 'a' && p[1] <= 'z' && digits_to_end(p + 2))
		return 1;
	if (!strncmp(name, "nvme", 4)) {
		p = name + 4;
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != 'n' || *p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
		return *p == 'p' && digits_to_end(p + 1);
	}
	return 0;
}

enum {
	F_READS,
	F_READS_MERGED,
	F_SECTORS_READ,
	F_MS_READ,
	F_WRITES,
	F_WRITES_MERGED,
	F_SECTORS_WRITTEN,
	F_MS_WRITE,
	F_IO_NOW,
	F_MS_IO,
	F_MS_WEIGHTED,
	F_DISCARDS,
	F_DISCARDS_MERGED,
	F_SECTORS_DISCARDED,
	F_MS_DISCARD,
	F_FLUSHES,
	F_MS_FLUSH,
	F_MAX
};

static const struct {
	int field;
	double scale;
	struct am_metric_desc desc;
} disk_metrics[] = {
    {F_READS,
     1,
     {.name = "antimetal_disk_reads_completed_total",
      .prom = "node_disk_reads_completed_total",
      .help = "Reads completed.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_READS_MERGED,
     1,
     {.name = "antimetal_disk_reads_merged_total",
      .prom = "node_disk_reads_merged_total",
      .help = "Reads merged.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_SECTORS_READ,
     512,
     {.name = "antimetal_disk_read_bytes_total",
      .prom = "node_disk_read_bytes_total",
      .help = "Bytes read.",
      .unit = "By",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_MS_READ,
     1e-3,
     {.name = "antimetal_disk_read_time_seconds_total",
      .prom = "node_disk_read_time_seconds_total",
      .help = "Time spent on reads.",
      .unit = "s",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_WRITES,
     1,
     {.name = "antimetal_disk_writes_completed_total",
      .prom = "node_disk_writes_completed_total",
      .help = "Writes completed.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_WRITES_MERGED,
     1,
     {.name = "antimetal_disk_writes_merged_total",
      .prom = "node_disk_writes_merged_total",
      .help = "Writes merged.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_SECTORS_WRITTEN,
     512,
     {.name = "antimetal_disk_written_bytes_total",
      .prom = "node_disk_written_bytes_total",
      .help = "Bytes written.",
      .unit = "By",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_MS_WRITE,
     1e-3,
     {.name = "antimetal_disk_write_time_seconds_total",
      .prom = "node_disk_write_time_seconds_total",
      .help = "Time spent on writes.",
      .unit = "s",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_IO_NOW,
     1,
     {.name = "antimetal_disk_io_now",
      .prom = "node_disk_io_now",
      .help = "I/Os in progress.",
      .unit = "{operation}",
      .type = AM_METRIC_GAUGE,
      .labels = {"device"}}},
    {F_MS_IO,
     1e-3,
     {.name = "antimetal_disk_io_time_seconds_total",
      .prom = "node_disk_io_time_seconds_total",
      .help = "Time with I/O in progress.",
      .unit = "s",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_MS_WEIGHTED,
     1e-3,
     {.name = "antimetal_disk_io_time_weighted_seconds_total",
      .prom = "node_disk_io_time_weighted_seconds_total",
      .help = "I/O time weighted by the number of I/Os in progress.",
      .unit = "s",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_DISCARDS,
     1,
     {.name = "antimetal_disk_discards_completed_total",
      .prom = "node_disk_discards_completed_total",
      .help = "Discards completed.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_DISCARDS_MERGED,
     1,
     {.name = "antimetal_disk_discards_merged_total",
      .prom = "node_disk_discards_merged_total",
      .help = "Discards merged.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_SECTORS_DISCARDED,
     1,
     {.name = "antimetal_disk_discarded_sectors_total",
      .prom = "node_disk_discarded_sectors_total",
      .help = "Sectors discarded.",
      .unit = "{sector}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_MS_DISCARD,
     1e-3,
     {.name = "antimetal_disk_discard_time_seconds_total",
      .prom = "node_disk_discard_time_seconds_total",
      .help = "Time spent on discards.",
      .unit = "s",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_FLUSHES,
     1,
     {.name = "antimetal_disk_flush_requests_total",
      .prom = "node_disk_flush_requests_total",
      .help = "Flush requests completed.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_MS_FLUSH,
     1e-3,
     {.name = "antimetal_disk_flush_requests_time_seconds_total",
      .prom = "node_disk_flush_requests_time_seconds_total",
      .help = "Time spent on flush requests.",
      .unit = "s",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
};

static const struct am_metric_desc disk_info = {
    .name = "antimetal_disk_device_info",
    .prom = "node_disk_info",
    .help = "Info of /sys/block/<block_device>.",
    .type = AM_METRIC_INFO,
    .labels = {"device", "major", "minor", "model", "path", "revision", "serial", "wwn"},
};

/* Milliseconds divide by 1000 rather than multiply by 1e-3, so 1234 ms prints as 1.234. */
static double scaled(uint64_t v, double scale)
{
	return scale < 1 ? (double)v / (double)(uint64_t)(1 / scale + 0.5) : (double)v * scale;
}

static int fail(const char **why, const char *msg, struct am_metric_set *out, size_t mark)
{
	if (why)
		*why = msg;
	am_metric_set_truncate(out, mark);
	return -EINVAL;
}

int am_parse_diskstats(const char *text, struct am_metric_set *out, const char **why)
{
	size_t mark = out->n, i;
	const char *line;
	int devices = 0;

	for (line = text; line && *line; line = am_next_line(line)) {
		uint64_t major, minor, f[F_MAX];
		char maj[24], min[24];
		const char *p = line;
		char name[64];
		int n = 0;

		if (am_at_eol(line))
			continue;
		if (am_parse_u64(&p, &major) || am_parse_u64(&p, &minor))
			return fail(why, "expected 'MAJOR MINOR NAME counters...'", out, mark);
		if (!am_next_token(&p, name, sizeof(name)) || strlen(name) != strcspn(name, "\""))
			return fail(why, "missing device name", out, mark);
		while (n < F_MAX && !am_parse_u64(&p, &f[n]))
			n++;
		if (!am_at_eol(p) || (n != 11 && n != 15 && n != 17))
			return fail(why, "expected 11, 15 or 17 counters after the device name",
				    out, mark);
		devices++;
		if (am_disk_ignored(name))
			continue;
		snprintf(maj, sizeof(maj), "%llu", (unsigned long long)major);
		snprintf(min, sizeof(min), "%llu", (unsigned long long)minor);
		/* The udev properties are filled in by the collector (disk_udev), which reads
		 * files; the parser only knows the numbers. */
		am_metric_add(out, &disk_info, 1, "device", name, "major", maj, "minor", min,
			      "model", "", "path", "", "revision", "", "serial", "", "wwn", "",
			      NULL);
		for (i = 0; i < sizeof(disk_metrics) / sizeof(disk_metrics[0]); i++)
			if (disk_metrics[i].field < n)
				am_metric_add(
				    out, &disk_metrics[i].desc,
				    scaled(f[disk_metrics[i].field], disk_metrics[i].scale),
				    "device", name, NULL);
	}
	/* Even a diskless machine lists its ram and loop devices: empty means a broken read. */
	if (!devices)
		return fail(why, "no devices listed", out, mark);
	return 0;
}

struct disk_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_rate_table rates;
	struct am_strbuf udev;
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

		if (m->desc != &disk_info || m->nlabels != 8)
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
			free(m->labels[3 + k].value);
			m->labels[3 + k].value = v;
		}
	}
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
