/* selinux: whether SELinux is enabled (its file system mounted). node_exporter also serves the
 * configured and current modes when it is; the agent does not yet (docs/collectors.md). */
#include <stdio.h>
#include <unistd.h>

#include "collectors/system/simple.h"

static const struct am_metric_desc enabled = {
    .name = "antimetal_selinux_enabled",
    .prom = "node_selinux_enabled",
    .help = "SELinux is enabled, 1 is true, 0 is false",
    .type = AM_METRIC_GAUGE,
};

static int selinux_collect(void *state, struct am_metric_set *out)
{
	struct am_simple_state *st = state;
	char path[600];

	snprintf(path, sizeof(path), "%s/fs/selinux/enforce", st->roots.sysfs);
	am_metric_add(out, &enabled, access(path, F_OK) == 0, NULL);
	return 0;
}

const struct am_collector am_collector_selinux = {
    .name = "selinux",
    .init = am_simple_init,
    .collect = selinux_collect,
    .destroy = am_simple_destroy,
    .node = {"selinux"},
};
