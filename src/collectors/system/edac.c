/* edac: memory controller error counters (/sys/devices/system/edac/mc/mcN), where the machine
 * has EDAC; nothing (and no error) where it has none. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collectors/system/simple.h"

static const struct am_metric_desc mc[2] = {
    {.prom = "node_edac_correctable_errors_total",
     .help = "Total correctable memory errors.",
     .type = AM_METRIC_COUNTER,
     .labels = {"controller"}},
    {.prom = "node_edac_uncorrectable_errors_total",
     .help = "Total uncorrectable memory errors.",
     .type = AM_METRIC_COUNTER,
     .labels = {"controller"}},
};
static const struct am_metric_desc csrow[2] = {
    {.prom = "node_edac_csrow_correctable_errors_total",
     .help = "Total correctable memory errors for this csrow.",
     .type = AM_METRIC_COUNTER,
     .labels = {"controller", "csrow"}},
    {.prom = "node_edac_csrow_uncorrectable_errors_total",
     .help = "Total uncorrectable memory errors for this csrow.",
     .type = AM_METRIC_COUNTER,
     .labels = {"controller", "csrow"}},
};

static int number(const char *root, const char *rel, double *v)
{
	uint64_t x;

	if (am_procfs_read_u64(root, rel, &x))
		return -1;
	*v = (double)x;
	return 0;
}

static void controller(struct am_simple_state *st, const char *name, struct am_metric_set *out)
{
	static const char *const counts[2] = {"ce_count", "ue_count"};
	static const char *const noinfo[2] = {"ce_noinfo_count", "ue_noinfo_count"};
	char rel[1200], id[32], dir[1200];
	struct dirent *de;
	double v;
	DIR *d;
	int k;

	snprintf(id, sizeof(id), "%s", name + 2);
	for (k = 0; k < 2; k++) {
		snprintf(rel, sizeof(rel), "devices/system/edac/mc/%s/%s", name, counts[k]);
		if (!number(st->roots.sysfs, rel, &v))
			am_metric_add(out, &mc[k], v, "controller", id, NULL);
		snprintf(rel, sizeof(rel), "devices/system/edac/mc/%s/%s", name, noinfo[k]);
		if (!number(st->roots.sysfs, rel, &v))
			am_metric_add(out, &csrow[k], v, "controller", id, "csrow", "unknown",
				      NULL);
	}
	snprintf(dir, sizeof(dir), "%s/devices/system/edac/mc/%s", st->roots.sysfs, name);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "csrow", 5) || !de->d_name[5])
			continue;
		for (k = 0; k < 2; k++) {
			snprintf(rel, sizeof(rel), "devices/system/edac/mc/%s/%s/%s", name,
				 de->d_name, counts[k]);
			if (!number(st->roots.sysfs, rel, &v))
				am_metric_add(out, &csrow[k], v, "controller", id, "csrow",
					      de->d_name + 5, NULL);
		}
	}
	if (d)
		closedir(d);
}

static int edac_collect(void *state, struct am_metric_set *out)
{
	struct am_simple_state *st = state;
	char dir[600];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/devices/system/edac/mc", st->roots.sysfs);
	d = opendir(dir);
	if (!d)
		return 0; /* no EDAC on this machine */
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "mc", 2) && de->d_name[2] >= '0' && de->d_name[2] <= '9')
			controller(st, de->d_name, out);
	closedir(d);
	return 0;
}

const struct am_collector am_collector_edac = {
    .name = "edac",
    .init = am_simple_init,
    .collect = edac_collect,
    .destroy = am_simple_destroy,
    .node = {"edac"},
};
