/* netclass: network interface properties from /sys/class/net/<iface>/, as node_exporter 1.5's
 * netclass collector. An attribute the kernel refuses to read (carrier of a device that is
 * down: EINVAL) is left out, as node_exporter leaves it out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/parse/parse_util.h"
#include "collectors/system/simple.h"
#include "util/log.h"

struct prop {
	const char *attr; /* file under class/net/<iface>/ */
	int hex;	  /* dev_id and flags are "0x..." */
	double scale;	  /* speed: Mbit/s -> bytes/s */
	struct am_metric_desc desc;
};

#define P(attr, hex, scale, name, kind)                                                            \
	{                                                                                          \
		attr, hex, scale,                                                                  \
		{                                                                                  \
			.prom = "node_network_" name, .help = "Network device property: " name,    \
			.type = kind, .labels = {                                                  \
				"device"                                                           \
			}                                                                          \
		}                                                                                  \
	}
static const struct prop props[] = {
    P("addr_assign_type", 0, 1, "address_assign_type", AM_METRIC_GAUGE),
    P("carrier", 0, 1, "carrier", AM_METRIC_GAUGE),
    P("carrier_changes", 0, 1, "carrier_changes_total", AM_METRIC_COUNTER),
    P("carrier_up_count", 0, 1, "carrier_up_changes_total", AM_METRIC_COUNTER),
    P("carrier_down_count", 0, 1, "carrier_down_changes_total", AM_METRIC_COUNTER),
    P("dev_id", 1, 1, "device_id", AM_METRIC_GAUGE),
    P("dormant", 0, 1, "dormant", AM_METRIC_GAUGE),
    P("flags", 1, 1, "flags", AM_METRIC_GAUGE),
    P("ifindex", 0, 1, "iface_id", AM_METRIC_GAUGE),
    P("iflink", 0, 1, "iface_link", AM_METRIC_GAUGE),
    P("link_mode", 0, 1, "iface_link_mode", AM_METRIC_GAUGE),
    P("mtu", 0, 1, "mtu_bytes", AM_METRIC_GAUGE),
    P("name_assign_type", 0, 1, "name_assign_type", AM_METRIC_GAUGE),
    P("netdev_group", 0, 1, "net_dev_group", AM_METRIC_GAUGE),
    P("speed", 0, 125000, "speed_bytes", AM_METRIC_GAUGE),
    P("tx_queue_len", 0, 1, "transmit_queue_length", AM_METRIC_GAUGE),
    P("type", 0, 1, "protocol_type", AM_METRIC_GAUGE),
};
#undef P

static const struct am_metric_desc info = {
    .prom = "node_network_info",
    .help = "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
    .type = AM_METRIC_INFO,
    .labels = {"address", "broadcast", "device", "duplex", "ifalias", "operstate"},
};
static const struct am_metric_desc up = {
    .prom = "node_network_up",
    .help = "Value is 1 if operstate is 'up', 0 otherwise.",
    .type = AM_METRIC_GAUGE,
    .labels = {"device"},
};

/* Read one attribute of the interface directory DIRFD into OUT, trailing blanks cut; "" when
 * unreadable. Returns 0 when read. openat() from the interface's directory spares the path walk
 * through /sys/class/net's symbolic links for each of the ~25 files. */
static int attr(int dirfd, const char *name, char *out, size_t len)
{
	ssize_t n = -1;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, out, len - 1);
		close(fd);
	}
	if (n < 0) {
		*out = '\0';
		return -1;
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	return 0;
}

static int number(const char *s, int hex, double *v)
{
	char *end;

	if (!*s)
		return -1;
	if (hex) {
		unsigned long long x = strtoull(s, &end, 16);

		*v = (double)x;
	} else {
		long long x = strtoll(s, &end, 10);

		*v = (double)x;
	}
	return *end ? -1 : 0;
}

static void iface(int dirfd, const char *dev, struct am_metric_set *out)
{
	char address[64], broadcast[64], duplex[32], ifalias[256], operstate[32], val[64];
	size_t i;
	double v;

	attr(dirfd, "address", address, sizeof(address));
	attr(dirfd, "broadcast", broadcast, sizeof(broadcast));
	attr(dirfd, "duplex", duplex, sizeof(duplex));
	attr(dirfd, "ifalias", ifalias, sizeof(ifalias));
	attr(dirfd, "operstate", operstate, sizeof(operstate));
	am_metric_add(out, &info, 1, "address", address, "broadcast", broadcast, "device", dev,
		      "duplex", duplex, "ifalias", ifalias, "operstate", operstate, NULL);
	am_metric_add(out, &up, !strcmp(operstate, "up"), "device", dev, NULL);
	for (i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		if (attr(dirfd, props[i].attr, val, sizeof(val)) || number(val, props[i].hex, &v))
			continue;
		am_metric_add(out, &props[i].desc, v * props[i].scale, "device", dev, NULL);
	}
}

static int netclass_collect(void *state, struct am_metric_set *out)
{
	struct am_simple_state *st = state;
	char dir[600];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/class/net", st->roots.sysfs);
	d = opendir(dir);
	if (!d) {
		int err = -errno;

		if (!st->warned)
			am_warn("netclass: cannot open %s: %s", dir, strerror(-err));
		st->warned = true;
		return err;
	}
	st->warned = false;
	while ((de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		iface(fd, de->d_name, out);
		close(fd);
	}
	closedir(d);
	return 0;
}

const struct am_collector am_collector_netclass = {
    .name = "netclass",
    .init = am_simple_init,
    .collect = netclass_collect,
    .destroy = am_simple_destroy,
    .node = {"netclass"},
};
