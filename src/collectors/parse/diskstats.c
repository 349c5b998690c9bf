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

/* node_exporter's default: ^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$ */
int am_disk_ignored(const char *name)
{
	const char *p = name;

	if (prefixed_digits(name, "ram") || prefixed_digits(name, "zram") ||
	    prefixed_digits(name, "loop") || prefixed_digits(name, "fd"))
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
	const char *name, *help;
	double scale;
	enum am_metric_type type;
} disk_metrics[] = {
    {F_READS, "antimetal_disk_reads_completed_total", "Reads completed.", 1, AM_METRIC_COUNTER},
    {F_READS_MERGED, "antimetal_disk_reads_merged_total", "Reads merged.", 1, AM_METRIC_COUNTER},
    {F_SECTORS_READ, "antimetal_disk_read_bytes_total", "Bytes read.", 512, AM_METRIC_COUNTER},
    {F_MS_READ, "antimetal_disk_read_time_seconds_total", "Time spent on reads.", 1e-3,
     AM_METRIC_COUNTER},
    {F_WRITES, "antimetal_disk_writes_completed_total", "Writes completed.", 1, AM_METRIC_COUNTER},
    {F_WRITES_MERGED, "antimetal_disk_writes_merged_total", "Writes merged.", 1, AM_METRIC_COUNTER},
    {F_SECTORS_WRITTEN, "antimetal_disk_written_bytes_total", "Bytes written.", 512,
     AM_METRIC_COUNTER},
    {F_MS_WRITE, "antimetal_disk_write_time_seconds_total", "Time spent on writes.", 1e-3,
     AM_METRIC_COUNTER},
    {F_IO_NOW, "antimetal_disk_io_now", "I/Os in progress.", 1, AM_METRIC_GAUGE},
    {F_MS_IO, "antimetal_disk_io_time_seconds_total", "Time with I/O in progress.", 1e-3,
     AM_METRIC_COUNTER},
    {F_MS_WEIGHTED, "antimetal_disk_io_time_weighted_seconds_total",
     "I/O time weighted by the number of I/Os in progress.", 1e-3, AM_METRIC_COUNTER},
    {F_DISCARDS, "antimetal_disk_discards_completed_total", "Discards completed.", 1,
     AM_METRIC_COUNTER},
    {F_DISCARDS_MERGED, "antimetal_disk_discards_merged_total", "Discards merged.", 1,
     AM_METRIC_COUNTER},
    {F_SECTORS_DISCARDED, "antimetal_disk_discarded_bytes_total", "Bytes discarded.", 512,
     AM_METRIC_COUNTER},
    {F_MS_DISCARD, "antimetal_disk_discard_time_seconds_total", "Time spent on discards.", 1e-3,
     AM_METRIC_COUNTER},
    {F_FLUSHES, "antimetal_disk_flush_requests_total", "Flush requests completed.", 1,
     AM_METRIC_COUNTER},
    {F_MS_FLUSH, "antimetal_disk_flush_requests_time_seconds_total",
     "Time spent on flush requests.", 1e-3, AM_METRIC_COUNTER},
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
		for (i = 0; i < sizeof(disk_metrics) / sizeof(disk_metrics[0]); i++)
			if (disk_metrics[i].field < n)
				am_metric_add(
				    out, disk_metrics[i].name, disk_metrics[i].help,
				    disk_metrics[i].type,
				    scaled(f[disk_metrics[i].field], disk_metrics[i].scale),
				    "device", name, NULL);
	}
	/* Even a diskless machine lists its ram and loop devices: empty means a broken read. */
	if (!devices)
		return am_parse_fail(why, "no devices listed", out, mark);
	return 0;
}
