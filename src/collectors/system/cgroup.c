/* cgroup: cgroup v2 CPU, memory and pressure per cgroup, labelled with the container id the
 * path names. The cgroup2 mount is found through <procfs>/self/mountinfo (it may be a hybrid
 * mount such as /sys/fs/cgroup/unified); a mount under /sys is read under the sysfs root, so
 * fixture trees work. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "collectors/parse/rate.h"
#include "util/container_id.h"
#include "util/clock.h"
#include "util/log.h"

/* Bounds on the walk: a host with more cgroups than this exports the first ones found. */
#define MAX_DEPTH   16
#define MAX_CGROUPS 2000

static const struct {
	const char *key, *name, *help;
	double scale;
} cpu_fields[] = {
    {"usage_usec", "antimetal_cgroup_cpu_usage_seconds_total", "CPU time of the cgroup.", 1e-6},
    {"user_usec", "antimetal_cgroup_cpu_user_seconds_total", "User CPU time of the cgroup.", 1e-6},
    {"system_usec", "antimetal_cgroup_cpu_system_seconds_total", "System CPU time of the cgroup.",
     1e-6},
    {"nr_periods", "antimetal_cgroup_cpu_periods_total", "CFS bandwidth periods elapsed.", 1},
    {"nr_throttled", "antimetal_cgroup_cpu_throttled_periods_total",
     "CFS bandwidth periods in which the cgroup was throttled.", 1},
    {"throttled_usec", "antimetal_cgroup_cpu_throttled_seconds_total",
     "Time the cgroup was throttled.", 1e-6},
};

static const char *const memory_stat_keys[] = {
    "anon", "file",  "kernel",	    "kernel_stack", "slab",
    "sock", "shmem", "file_mapped", "file_dirty",   "file_writeback",
};

static const char *const psi_resources[] = {"cpu", "memory", "io"};

struct cgroup_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_rate_table rates;
	char base[4096]; /* the cgroup2 mount, under the sysfs root */
	int found, warned, walked;
};

static int cgroup_init(void **state, const struct am_collect_roots *roots)
{
	struct cgroup_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	*state = st;
	return 0;
}

static int find_mount(struct cgroup_state *st)
{
	char mnt[4096];
	const char *why = "";
	int err, n;

	err = am_procfs_read(st->roots.procfs, "self/mountinfo", &st->buf);
	if (!err)
		err = am_parse_mountinfo_cgroup2(st->buf.data, mnt, sizeof(mnt), &why);
	if (err) {
		if (!st->warned)
			am_info("cgroup: no cgroup2 mount in %s/self/mountinfo (%s): collector "
				"disabled",
				st->roots.procfs, err == -EINVAL ? why : strerror(-err));
		st->warned = 1;
		return err;
	}
	/* A mount under /sys belongs to the sysfs root the collector was given. */
	if (!strncmp(mnt, "/sys/", 5) && strcmp(st->roots.sysfs, "/sys"))
		n = snprintf(st->base, sizeof(st->base), "%s%s", st->roots.sysfs, mnt + 4);
	else
		n = snprintf(st->base, sizeof(st->base), "%s", mnt);
	if (n < 0 || (size_t)n >= sizeof(st->base))
		return -ENAMETOOLONG;
	st->found = 1;
	st->warned = 0;
	return 0;
}

static void one_cgroup(struct cgroup_state *st, const char *dir, const char *rel,
		       struct am_metric_set *out)
{
	struct am_container_ref ref;
	const char *id;
	uint64_t v;
	size_t i;

	id = am_container_id_from_cgroup(rel, &ref) ? ref.id : "";
	if (!am_procfs_read(dir, "cpu.stat", &st->buf))
		for (i = 0; i < sizeof(cpu_fields) / sizeof(cpu_fields[0]); i++)
			if (!am_parse_flat_keyed(st->buf.data, cpu_fields[i].key, &v))
				am_metric_add(out, cpu_fields[i].name, cpu_fields[i].help,
					      AM_METRIC_COUNTER,
					      cpu_fields[i].scale < 1 ? (double)v / 1e6 : (double)v,
					      "cgroup", rel, "container_id", id, NULL);
	if (!am_procfs_read(dir, "memory.current", &st->buf)) {
		const char *p = st->buf.data;

		if (!am_parse_u64(&p, &v) && am_at_eol(p))
			am_metric_add(out, "antimetal_cgroup_memory_current_bytes",
				      "Memory charged to the cgroup.", AM_METRIC_GAUGE, (double)v,
				      "cgroup", rel, "container_id", id, NULL);
	}
	if (!am_procfs_read(dir, "memory.stat", &st->buf))
		for (i = 0; i < sizeof(memory_stat_keys) / sizeof(memory_stat_keys[0]); i++)
			if (!am_parse_flat_keyed(st->buf.data, memory_stat_keys[i], &v))
				am_metric_add(out, "antimetal_cgroup_memory_stat_bytes",
					      "Memory of the cgroup by type (memory.stat).",
					      AM_METRIC_GAUGE, (double)v, "cgroup", rel,
					      "container_id", id, "type", memory_stat_keys[i],
					      NULL);
	for (i = 0; i < 3; i++) {
		char file[32];
		struct am_psi psi;

		snprintf(file, sizeof(file), "%s.pressure", psi_resources[i]);
		if (am_procfs_read(dir, file, &st->buf) || am_parse_psi(st->buf.data, &psi, NULL))
			continue;
		am_metric_add(out, "antimetal_cgroup_pressure_waiting_seconds_total",
			      "Time some task of the cgroup was stalled on the resource.",
			      AM_METRIC_COUNTER, (double)psi.some_total_us / 1e6, "cgroup", rel,
			      "container_id", id, "resource", psi_resources[i], NULL);
		if (psi.has_full)
			am_metric_add(out, "antimetal_cgroup_pressure_stalled_seconds_total",
				      "Time all tasks of the cgroup were stalled on the resource.",
				      AM_METRIC_COUNTER, (double)psi.full_total_us / 1e6, "cgroup",
				      rel, "container_id", id, "resource", psi_resources[i], NULL);
	}
}

static void walk(struct cgroup_state *st, char *dir, size_t dirlen, char *rel, size_t rellen,
		 int depth, struct am_metric_set *out)
{
	struct dirent *de;
	DIR *d;

	if (st->walked++ >= MAX_CGROUPS)
		return;
	one_cgroup(st, dir, rellen ? rel : "/", out);
	if (depth >= MAX_DEPTH || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (dirlen + 1 + n >= 4096 || rellen + 1 + n >= 4096)
			continue;
		dir[dirlen] = '/';
		memcpy(dir + dirlen + 1, de->d_name, n + 1);
		if (de->d_type == DT_UNKNOWN) {
			struct stat sb;

			if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
				continue;
		}
		rel[rellen] = '/';
		memcpy(rel + rellen + 1, de->d_name, n + 1);
		walk(st, dir, dirlen + 1 + n, rel, rellen + 1 + n, depth + 1, out);
	}
	closedir(d);
	dir[dirlen] = '\0';
	rel[rellen] = '\0';
}

static int cgroup_collect(void *state, struct am_metric_set *out)
{
	struct cgroup_state *st = state;
	char dir[4096], rel[4096] = "";
	size_t mark = out->n;
	uint64_t now;

	if (!st->found && find_mount(st))
		return 0;
	now = am_clock_ns(CLOCK_MONOTONIC);
	snprintf(dir, sizeof(dir), "%s", st->base);
	st->walked = 0;
	walk(st, dir, strlen(dir), rel, 0, 0, out);
	am_rate_cycle(&st->rates);
	am_rate_emit(&st->rates, out, mark, "antimetal_cgroup_cpu_usage_seconds_total",
		     "antimetal_cgroup_cpu_usage_ratio",
		     "CPUs used by the cgroup since the last cycle.", now, 1e6);
	return 0;
}

static void cgroup_destroy(void *state)
{
	struct cgroup_state *st = state;

	if (!st)
		return;
	am_strbuf_free(&st->buf);
	am_rate_free(&st->rates);
	free(st);
}

const struct am_collector am_collector_cgroup = {
    .name = "cgroup",
    .init = cgroup_init,
    .collect = cgroup_collect,
    .destroy = cgroup_destroy,
};
