/* selinux: whether SELinux is enabled (its file system mounted, as go-selinux decides for
 * node_exporter), and when it is the configured mode (SELINUX= in /etc/selinux/config) and the
 * current one (selinuxfs's enforce): 1 enforcing, 0 permissive, -1 disabled, as node_exporter 1.5
 * serves them. The configuration is read under the root file system the sysfs root belongs to
 * (ROOT/etc/selinux/config for a sysfs root of ROOT/sys, so a host mounted at /host is read
 * whole), else the agent's own /etc. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/file.h"

static const struct am_metric_desc enabled = {
    .name = "antimetal_selinux_enabled",
    .prom = "node_selinux_enabled",
    .help = "SELinux is enabled, 1 is true, 0 is false",
    .type = AM_METRIC_GAUGE,
};
static const struct am_metric_desc config_mode = {
    .prom = "node_selinux_config_mode",
    .help = "Configured SELinux enforcement mode",
    .type = AM_METRIC_GAUGE,
};
static const struct am_metric_desc current_mode = {
    .prom = "node_selinux_current_mode",
    .help = "Current SELinux enforcement mode",
    .type = AM_METRIC_GAUGE,
};

/* The root file system a sysfs root lies in: "" for /sys, "/host" for /host/sys, none (NULL) for
 * a sysfs root not named sys. */
static const char *rootfs_of(const char *sysfs, char *buf, size_t len)
{
	size_t n = strlen(sysfs);

	while (n > 1 && sysfs[n - 1] == '/')
		n--;
	if (n < 4 || strncmp(sysfs + n - 4, "/sys", 4) || n - 4 >= len)
		return NULL;
	memcpy(buf, sysfs, n - 4);
	buf[n - 4] = '\0';
	return buf;
}

static int selinux_collect(void *state, struct am_metric_set *out)
{
	struct am_simple_state *st = state;
	char path[1100], root[600], line[32];
	const char *rootfs = rootfs_of(st->roots.sysfs, root, sizeof(root));
	int mode;

	snprintf(path, sizeof(path), "%s/fs/selinux/enforce", st->roots.sysfs);
	if (access(path, F_OK)) {
		am_metric_add(out, &enabled, 0, NULL);
		return 0;
	}
	am_metric_add(out, &enabled, 1, NULL);
	snprintf(path, sizeof(path), "%s/etc/selinux/config", rootfs ? rootfs : "");
	mode = am_file_read(path, 1 << 16, &st->buf) ? -1 : am_parse_selinux_config(st->buf.data);
	am_metric_add(out, &config_mode, mode, NULL);
	/* An unreadable enforce file is "disabled" to go-selinux too. */
	mode = -1;
	if (!am_procfs_read_line(st->roots.sysfs, "fs/selinux/enforce", line, sizeof(line)))
		mode = !strcmp(line, "1") ? 1 : !strcmp(line, "0") ? 0 : -1;
	am_metric_add(out, &current_mode, mode, NULL);
	return 0;
}

const struct am_collector am_collector_selinux = {
    .name = "selinux",
    .init = am_simple_init,
    .collect = selinux_collect,
    .destroy = am_simple_destroy,
    .node = {"selinux"},
};
