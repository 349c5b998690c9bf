/* self: the agent's own process, as every Prometheus client library reports it (process_*). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/log.h"

enum { P_CPU, P_RSS, P_VSZ, P_VSZ_MAX, P_OPEN, P_MAX_FDS, P_START, P_N };

static const struct am_metric_desc proc[P_N] = {
    [P_CPU] = {.prom = "process_cpu_seconds_total",
	       .otel = "process.cpu.time",
	       .help = "Total user and system CPU time spent in seconds.",
	       .unit = "s",
	       .type = AM_METRIC_COUNTER},
    [P_RSS] = {.prom = "process_resident_memory_bytes",
	       .otel = "process.memory.usage",
	       .otel_updown = 1,
	       .help = "Resident memory size in bytes.",
	       .unit = "By",
	       .type = AM_METRIC_GAUGE},
    [P_VSZ] = {.prom = "process_virtual_memory_bytes",
	       .otel = "process.memory.virtual",
	       .otel_updown = 1,
	       .help = "Virtual memory size in bytes.",
	       .unit = "By",
	       .type = AM_METRIC_GAUGE},
    [P_VSZ_MAX] = {.prom = "process_virtual_memory_max_bytes",
		   .help = "Maximum amount of virtual memory available in bytes.",
		   .unit = "By",
		   .type = AM_METRIC_GAUGE},
    [P_OPEN] = {.prom = "process_open_fds",
		.otel = "process.open_file_descriptor.count",
		.otel_updown = 1,
		.help = "Number of open file descriptors.",
		.unit = "{file_descriptor}",
		.type = AM_METRIC_GAUGE},
    [P_MAX_FDS] = {.prom = "process_max_fds",
		   .help = "Maximum number of open file descriptors.",
		   .type = AM_METRIC_GAUGE},
    [P_START] = {.prom = "process_start_time_seconds",
		 .help = "Start time of the process since unix epoch in seconds.",
		 .unit = "s",
		 .type = AM_METRIC_GAUGE},
};

/* Field 23 of /proc/self/stat (vsize, bytes): am_parse_pid_stat stops before it. */
static int vsize(const char *stat, uint64_t *v)
{
	const char *p = strrchr(stat, ')');
	char tok[32];
	int field;

	if (!p)
		return -EINVAL;
	p++;
	for (field = 3; field < 23; field++)
		if (!am_next_token(&p, tok, sizeof(tok)))
			return -EINVAL;
	return am_parse_u64(&p, v);
}

static int open_fds(const char *procfs)
{
	char path[600];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/self/fd", procfs);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory stream's own descriptor */
}

static double rlim(int resource)
{
	struct rlimit r;

	if (getrlimit(resource, &r))
		return -1;
	return r.rlim_cur == RLIM_INFINITY ? 18446744073709551615.0 : (double)r.rlim_cur;
}

static int self_collect(void *state, struct am_metric_set *out)
{
	struct am_simple_state *st = state;
	double hz = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE), btime;
	struct am_pid_stat ps;
	const char *why = "", *p;
	uint64_t vsz = 0;
	int err, fds;

	err = am_procfs_read_logged(st->roots.procfs, "stat", &st->buf, "self", &st->warned);
	if (err)
		return err;
	p = strstr(st->buf.data, "\nbtime ");
	if (!p || (p += 7, am_parse_fixed(&p, &btime)))
		btime = -1;
	err = am_procfs_read_logged(st->roots.procfs, "self/stat", &st->buf, "self", &st->warned);
	if (err)
		return err;
	err = am_parse_pid_stat(st->buf.data, &ps, &why);
	if (err || vsize(st->buf.data, &vsz)) {
		am_warn("self: %s/self/stat: %s", st->roots.procfs, err ? why : "no vsize field");
		return -EINVAL;
	}
	am_metric_add(out, &proc[P_CPU], (double)(ps.utime + ps.stime) / hz, NULL);
	am_metric_add(out, &proc[P_RSS], (double)ps.rss_pages * page, NULL);
	am_metric_add(out, &proc[P_VSZ], (double)vsz, NULL);
	am_metric_add(out, &proc[P_VSZ_MAX], rlim(RLIMIT_AS), NULL);
	fds = open_fds(st->roots.procfs);
	if (fds >= 0)
		am_metric_add(out, &proc[P_OPEN], fds, NULL);
	am_metric_add(out, &proc[P_MAX_FDS], rlim(RLIMIT_NOFILE), NULL);
	if (btime >= 0)
		am_metric_add(out, &proc[P_START], btime + (double)ps.starttime / hz, NULL);
	return 0;
}

const struct am_collector am_collector_self = {
    .name = "self",
    .init = am_simple_init,
    .collect = self_collect,
    .destroy = am_simple_destroy,
};
