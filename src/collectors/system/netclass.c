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

#include "collectors/parse/kept_file.h"
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

/* The text attributes of node_network_info, then props[]: each has a slot in struct iface. */
static const char *const info_attrs[] = {"address", "broadcast", "duplex", "ifalias", "operstate"};
#define NINFO  (sizeof(info_attrs) / sizeof(info_attrs[0]))
#define NPROPS (sizeof(props) / sizeof(props[0]))
#define NATTRS (NINFO + NPROPS)

/* An interface's attribute files, kept open between cycles (collectors/parse/kept_file.h): ~22
 * files per interface re-read with one pread each instead of an open, a read and a close. An
 * interface removed (and perhaps made again under its name) fails its reads and is opened
 * afresh. */
struct iface {
	char name[256];
	int fd[NATTRS];
	bool seen;
};

struct netclass_state {
	struct am_simple_state base;
	struct am_strbuf val;
	struct iface *ifs;
	size_t n, cap;
};

/* An interface's directory, opened when first needed: a descriptor of /sys/class/net and the
 * interface's, or -1; GONE when it could not be opened (the interface went away). */
struct ifdir {
	int parent, fd;
	bool keep, gone;
};

/* Read attribute I of interface F (directory D) through its kept descriptor into OUT, trailing
 * blanks cut; "" when unreadable. Returns 0 when read. openat() from the interface's directory
 * spares the path walk through /sys/class/net's symbolic links. */
static int attr(struct netclass_state *st, struct iface *f, struct ifdir *d, size_t i, char *out,
		size_t len)
{
	const char *name = i < NINFO ? info_attrs[i] : props[i - NINFO].attr;
	int err = -ENOENT;
	size_t n;

	*out = '\0';
	if (f->fd[i] >= 0) {
		err = am_kept_pread(f->fd[i], false, &st->val);
		if (am_kept_gone(err)) {
			close(f->fd[i]);
			f->fd[i] = -1;
		}
	}
	if (f->fd[i] < 0) {
		/* The directory is opened only for a file not kept (yet). */
		if (d->fd < 0 && !d->gone)
			d->fd = openat(d->parent, f->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		d->gone = d->fd < 0;
		if (d->gone)
			return -1;
		err = am_kept_read(&f->fd[i], d->fd, name, d->keep, &st->val);
	}
	if (err)
		return -1;
	n = st->val.len < len - 1 ? st->val.len : len - 1;
	while (n > 0 && (st->val.data[n - 1] == '\n' || st->val.data[n - 1] == ' '))
		n--;
	memcpy(out, st->val.data, n);
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

static void iface(struct netclass_state *st, struct iface *f, struct ifdir *d,
		  struct am_metric_set *out)
{
	char text[NINFO][256], val[64];
	size_t i;
	double v;

	for (i = 0; i < NINFO; i++)
		attr(st, f, d, i, text[i], sizeof(text[i]));
	if (d->gone)
		return; /* removed since the listing */
	am_metric_add(out, &info, 1, "address", text[0], "broadcast", text[1], "device", f->name,
		      "duplex", text[2], "ifalias", text[3], "operstate", text[4], NULL);
	am_metric_add(out, &up, !strcmp(text[4], "up"), "device", f->name, NULL);
	for (i = 0; i < NPROPS; i++) {
		if (attr(st, f, d, NINFO + i, val, sizeof(val)) || number(val, props[i].hex, &v))
			continue;
		am_metric_add(out, &props[i].desc, v * props[i].scale, "device", f->name, NULL);
	}
}

static void iface_close(struct iface *f)
{
	size_t i;

	for (i = 0; i < NATTRS; i++)
		if (f->fd[i] >= 0)
			close(f->fd[i]);
}

/* The kept entry of interface NAME, made when new; NULL without memory. */
static struct iface *iface_of(struct netclass_state *st, const char *name)
{
	struct iface *f;
	size_t i;

	for (i = 0; i < st->n; i++)
		if (!strcmp(st->ifs[i].name, name))
			return &st->ifs[i];
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 8;

		if (!(f = realloc(st->ifs, cap * sizeof(*f))))
			return NULL;
		st->ifs = f;
		st->cap = cap;
	}
	f = &st->ifs[st->n++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	for (i = 0; i < NATTRS; i++)
		f->fd[i] = -1;
	return f;
}

/* Interfaces not listed this cycle are gone: their descriptors closed. */
static void forget_unseen(struct netclass_state *st)
{
	size_t i, k = 0;

	for (i = 0; i < st->n; i++) {
		if (!st->ifs[i].seen) {
			iface_close(&st->ifs[i]);
			continue;
		}
		st->ifs[i].seen = false;
		st->ifs[k++] = st->ifs[i];
	}
	st->n = k;
}

static int netclass_init(void **state, const struct am_collect_roots *roots)
{
	struct netclass_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->base.roots, roots);
	*state = st;
	return 0;
}

static int netclass_collect(void *state, struct am_metric_set *out)
{
	struct netclass_state *st = state;
	char dir[600];
	struct dirent *de;
	struct iface *f;
	bool keep;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/class/net", st->base.roots.sysfs);
	d = opendir(dir);
	if (!d) {
		int err = -errno;

		if (!st->base.warned)
			am_warn("netclass: cannot open %s: %s", dir, strerror(-err));
		st->base.warned = true;
		return err;
	}
	st->base.warned = false;
	/* sysfs attributes are formatted anew on every read; a fixture's files are not kept. */
	keep = am_kept_pseudo_fs(dirfd(d));
	while ((de = readdir(d))) {
		struct ifdir dir = {dirfd(d), -1, keep, false};

		if (de->d_name[0] == '.' || !(f = iface_of(st, de->d_name)))
			continue;
		f->seen = true;
		iface(st, f, &dir, out);
		if (dir.fd >= 0)
			close(dir.fd);
	}
	closedir(d);
	forget_unseen(st);
	return 0;
}

static void netclass_destroy(void *state)
{
	struct netclass_state *st = state;
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->n; i++)
		iface_close(&st->ifs[i]);
	free(st->ifs);
	am_strbuf_free(&st->val);
	am_strbuf_free(&st->base.buf);
	free(st);
}

const struct am_collector am_collector_netclass = {
    .name = "netclass",
    .init = netclass_init,
    .collect = netclass_collect,
    .destroy = netclass_destroy,
    .node = {"netclass"},
};
