/* Parser of /proc/diskstats, whole devices only (am_disk_ignored) (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

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
      .otel = "system.disk.operations",
      .otel_attrs = {{"disk.io.direction", "read"}},
      .otel_labels = {{"device", "system.device"}},
      .help = "Reads completed.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_READS_MERGED,
     1,
     {.name = "antimetal_disk_reads_merged_total",
      .prom = "node_disk_reads_merged_total",
      .otel = "system.disk.merged",
      .otel_attrs = {{"disk.io.direction", "read"}},
      .otel_labels = {{"device", "system.device"}},
      .help = "Reads merged.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_SECTORS_READ,
     512,
     {.name = "antimetal_disk_read_bytes_total",
      .prom = "node_disk_read_bytes_total",
      .otel = "system.disk.io",
      .otel_attrs = {{"disk.io.direction", "read"}},
      .otel_labels = {{"device", "system.device"}},
      .help = "Bytes read.",
      .unit = "By",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_MS_READ,
     1e-3,
     {.name = "antimetal_disk_read_time_seconds_total",
      .prom = "node_disk_read_time_seconds_total",
      .otel = "system.disk.operation_time",
      .otel_attrs = {{"disk.io.direction", "read"}},
      .otel_labels = {{"device", "system.device"}},
      .help = "Time spent on reads.",
      .unit = "s",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_WRITES,
     1,
     {.name = "antimetal_disk_writes_completed_total",
      .prom = "node_disk_writes_completed_total",
      .otel = "system.disk.operations",
      .otel_attrs = {{"disk.io.direction", "write"}},
      .otel_labels = {{"device", "system.device"}},
      .help = "Writes completed.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_WRITES_MERGED,
     1,
     {.name = "antimetal_disk_writes_merged_total",
      .prom = "node_disk_writes_merged_total",
      .otel = "system.disk.merged",
      .otel_attrs = {{"disk.io.direction", "write"}},
      .otel_labels = {{"device", "system.device"}},
      .help = "Writes merged.",
      .unit = "{operation}",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_SECTORS_WRITTEN,
     512,
     {.name = "antimetal_disk_written_bytes_total",
      .prom = "node_disk_written_bytes_total",
      .otel = "system.disk.io",
      .otel_attrs = {{"disk.io.direction", "write"}},
      .otel_labels = {{"device", "system.device"}},
      .help = "Bytes written.",
      .unit = "By",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_MS_WRITE,
     1e-3,
     {.name = "antimetal_disk_write_time_seconds_total",
      .prom = "node_disk_write_time_seconds_total",
      .otel = "system.disk.operation_time",
      .otel_attrs = {{"disk.io.direction", "write"}},
      .otel_labels = {{"device", "system.device"}},
      .help = "Time spent on writes.",
      .unit = "s",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_IO_NOW,
     1,
     {.name = "antimetal_disk_io_now",
      .prom = "node_disk_io_now",
      .otel = "system.disk.pending_operations",
      .otel_labels = {{"device", "system.device"}},
      .otel_updown = 1,
      .help = "I/Os in progress.",
      .unit = "{operation}",
      .type = AM_METRIC_GAUGE,
      .labels = {"device"}}},
    {F_MS_IO,
     1e-3,
     {.name = "antimetal_disk_io_time_seconds_total",
      .prom = "node_disk_io_time_seconds_total",
      .otel = "system.disk.io_time",
      .otel_labels = {{"device", "system.device"}},
      .help = "Time with I/O in progress.",
      .unit = "s",
      .type = AM_METRIC_COUNTER,
      .labels = {"device"}}},
    {F_MS_WEIGHTED,
     1e-3,
     {.name = "antimetal_disk_io_time_weighted_seconds_total",
      .prom = "node_disk_io_time_weighted_seconds_total",
      .otel = "system.disk.weighted_io_time",
      .otel_labels = {{"device", "system.device"}},
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

const struct am_metric_desc am_disk_info_desc = {
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
			return am_parse_fail(why, "expected 'MAJOR MINOR NAME counters...'", out,
					     mark);
		if (!am_next_token(&p, name, sizeof(name)) || strlen(name) != strcspn(name, "\""))
			return am_parse_fail(why, "missing device name", out, mark);
		while (n < F_MAX && !am_parse_u64(&p, &f[n]))
			n++;
		if (!am_at_eol(p) || (n != 11 && n != 15 && n != 17))
			return am_parse_fail(
			    why, "expected 11, 15 or 17 counters after the device name", out, mark);
		devices++;
		if (am_disk_ignored(name))
			continue;
		snprintf(maj, sizeof(maj), "%llu", (unsigned long long)major);
		snprintf(min, sizeof(min), "%llu", (unsigned long long)minor);
		/* The udev properties are filled in by the collector (disk_udev), which reads
		 * files; the parser only knows the numbers. */
		am_metric_add(out, &am_disk_info_desc, 1, "device", name, "major", maj, "minor",
			      min, "model", "", "path", "", "revision", "", "serial", "", "wwn", "",
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
		return am_parse_fail(why, "no devices listed", out, mark);
	return 0;
}
