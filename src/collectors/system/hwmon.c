/* hwmon: /sys/class/hwmon as node_exporter 1.5's hwmon collector serves it. Each chip directory
 * (and its device directory, older drivers keep sensors there) holds files named
 * <type><number>[_<property>] ("temp1_input", "fan2_min", "beep_enable"); the sensor is
 * <type><number> ("temp1"), the chip is named after its device's path ("platform_coretemp_0"),
 * else its name file, else its hwmonN directory. Metric names come from the file names
 * (node_hwmon_<type>[_<property>]<unit>), values are scaled to base units, and labels go to
 * node_hwmon_sensor_label, chip names to node_hwmon_chip_names. Names are made at run time, so
 * the descriptors are made per cycle and handed to the metric set. Two series of one name with
 * different help (a chip with both "in2" and "in2_input" files) are a conflict node_exporter's
 * registry resolves by dropping the later one; so does this collector. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/system/simple.h"
#include "util/log.h"

#define MAX_ENTRIES 512 /* sensor files per chip kept */
#define MAX_DESCS   128 /* metric names per cycle */

/* One sensor file's value: SENSOR "temp1", TYPE "temp", PROP "input" ("" for the bare file). */
struct entry {
	char sensor[48], type[24], prop[40], value[128];
};

struct chip {
	struct entry e[MAX_ENTRIES];
	size_t n;
	size_t dropped; /* files past MAX_ENTRIES */
};

struct hwmon_state {
	struct am_simple_state base;
	struct chip chip;
	const struct am_metric_desc *descs[MAX_DESCS]; /* this cycle's, owned by the set */
	size_t ndescs;
	bool warned;
};

static const struct am_metric_desc chip_names = {
    .prom = "node_hwmon_chip_names",
    .help = "Annotation metric for human-readable chip names",
    .type = AM_METRIC_GAUGE,
    .labels = {"chip", "chip_name"},
};
static const struct am_metric_desc sensor_label = {
    .prom = "node_hwmon_sensor_label",
    .help = "Label for given chip and sensor",
    .type = AM_METRIC_GAUGE,
    .labels = {"chip", "label", "sensor"},
};

static const char *const sensor_types[] = {
    "vrm",  "beep_enable", "update_interval", "in",	"cpu",	    "fan",	"pwm",
    "temp", "curr",	   "power",	      "energy", "humidity", "intrusion"};

/* node_exporter's cleanMetricName: lower case, [^a-z0-9:_] to '_', '_' trimmed at both ends. */
static void clean(const char *in, char *out, size_t len)
{
	size_t n = 0, start;

	for (; *in && n + 1 < len; in++) {
		char c = *in >= 'A' && *in <= 'Z' ? (char)(*in - 'A' + 'a') : *in;

		out[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' ? c : '_';
	}
	while (n && out[n - 1] == '_')
		n--;
	out[n] = '\0';
	for (start = 0; out[start] == '_'; start++)
		;
	memmove(out, out + start, n - start + 1);
}

/* Split FILE into type, number and property as node_exporter's ^([^0-9]+)([0-9]*)(_(.+))?$
 * does (the type takes every leading non-digit). Returns 0, or -1 when FILE is no sensor file. */
static int explode(const char *file, char *type, size_t tlen, long *num, char *prop, size_t plen)
{
	const char *p = file, *d;
	char *end;

	while (*p && (*p < '0' || *p > '9'))
		p++;
	if (p == file || (size_t)(p - file) >= tlen)
		return -1;
	memcpy(type, file, (size_t)(p - file));
	type[p - file] = '\0';
	d = p;
	while (*p >= '0' && *p <= '9')
		p++;
	*num = 0;
	if (p > d) {
		errno = 0;
		*num = strtol(d, &end, 10);
		if (errno || *num > INT_MAX)
			return -1;
	}
	if (*p && (*p != '_' || !p[1]))
		return -1;
	if (snprintf(prop, plen, "%s", *p ? p + 1 : "") >= (int)plen)
		return -1;
	return 0;
}

static bool is_sensor_type(const char *t)
{
	size_t i;

	for (i = 0; i < sizeof(sensor_types) / sizeof(sensor_types[0]); i++)
		if (!strcmp(sensor_types[i], t))
			return true;
	return false;
}

/* The file NAME under DIRFD, its newlines trimmed at both ends (node_exporter keeps spaces).
 * Returns 0 or -1. */
static int read_value(int dirfd, const char *name, char *out, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	ssize_t n;
	size_t s = 0;

	if (fd < 0)
		return -1;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	while (n > 0 && out[n - 1] == '\n')
		n--;
	out[n] = '\0';
	while (out[s] == '\n')
		s++;
	memmove(out, out + s, (size_t)n - s + 1);
	return 0;
}

static struct entry *find(struct chip *c, const char *sensor, const char *prop)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->e[i].sensor, sensor) && !strcmp(c->e[i].prop, prop))
			return &c->e[i];
	return NULL;
}

/* Every sensor file of directory DIR into C; a later directory's value replaces an earlier
 * one's (the device directory after the chip's, as node_exporter merges them). */
static void read_sensors(struct chip *c, const char *dir)
{
	char type[24], prop[40], sensor[48], value[128];
	struct dirent *de;
	struct entry *e;
	DIR *d = opendir(dir);
	long num;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    explode(de->d_name, type, sizeof(type), &num, prop, sizeof(prop)) ||
		    !is_sensor_type(type))
			continue;
		snprintf(sensor, sizeof(sensor), "%s%d", type, (int)num);
		if (read_value(dirfd(d), de->d_name, value, sizeof(value)))
			continue; /* a directory ("power"), or a file the driver refuses */
		e = find(c, sensor, prop);
		if (!e && c->n == MAX_ENTRIES) {
			c->dropped++;
			continue;
		}
		if (!e) {
			e = &c->e[c->n++];
			snprintf(e->sensor, sizeof(e->sensor), "%s", sensor);
			snprintf(e->type, sizeof(e->type), "%s", type);
			snprintf(e->prop, sizeof(e->prop), "%s", prop);
		}
		snprintf(e->value, sizeof(e->value), "%s", value);
	}
	closedir(d);
}

/* The chip's label: "<device type>_<device name>" from where its device link points, else its
 * name file, else the hwmonN directory, each cleaned. Returns 0 or -1. */
static int chip_label(const char *dir, const char *name, char *out, size_t len)
{
	char link[1300], real[PATH_MAX], devname[256], devtype[256], *slash;

	snprintf(link, sizeof(link), "%s/device", dir);
	if (realpath(link, real)) {
		slash = strrchr(real, '/');
		clean(slash ? slash + 1 : real, devname, sizeof(devname));
		if (slash) {
			*slash = '\0';
			slash = strrchr(real, '/');
			clean(slash ? slash + 1 : real, devtype, sizeof(devtype));
		} else {
			devtype[0] = '\0';
		}
		if (*devtype && *devname) {
			snprintf(out, len, "%s_%s", devtype, devname);
			return 0;
		}
		if (*devname) {
			snprintf(out, len, "%s", devname);
			return 0;
		}
	}
	if (*name) {
		snprintf(out, len, "%s", name);
		return 0;
	}
	if (!realpath(dir, real))
		return -1;
	slash = strrchr(real, '/');
	clean(slash ? slash + 1 : real, out, len);
	return *out ? 0 : -1;
}

/* The descriptor of NAME made this cycle, made now when new; NULL when NAME already has one of
 * a different help (node_exporter drops such a series) or there is no room. */
static const struct am_metric_desc *desc_of(struct hwmon_state *st, struct am_metric_set *out,
					    const char *name, const char *help,
					    enum am_metric_type type)
{
	size_t i, nl = strlen(name) + 1, hl = strlen(help) + 1;
	struct am_metric_desc *d;
	char *s;

	for (i = 0; i < st->ndescs; i++)
		if (!strcmp(st->descs[i]->prom, name))
			return strcmp(st->descs[i]->help, help) || st->descs[i]->type != type
				   ? NULL
				   : st->descs[i];
	if (st->ndescs == MAX_DESCS || !(d = calloc(1, sizeof(*d) + nl + hl)))
		return NULL;
	s = (char *)(d + 1);
	memcpy(s, name, nl);
	memcpy(s + nl, help, hl);
	d->prom = s;
	d->help = s + nl;
	d->type = type;
	d->labels[0] = "chip";
	d->labels[1] = "sensor";
	if (!(d = (struct am_metric_desc *)am_metric_set_own_desc(out, d)))
		return NULL;
	st->descs[st->ndescs++] = d;
	return d;
}

static void add(struct hwmon_state *st, struct am_metric_set *out, const char *chip,
		const char *sensor, const char *name, const char *help, enum am_metric_type type,
		double v)
{
	const struct am_metric_desc *d = desc_of(st, out, name, help, type);

	if (d)
		am_metric_add(out, d, v, "chip", chip, "sensor", sensor, NULL);
}

/* Go's strconv.ParseFloat, near enough for sysfs: the whole text one number, no blanks. */
static int parse(const char *s, double *v)
{
	char *end;

	if (!*s || *s == ' ' || *s == '\t')
		return -1;
	*v = strtod(s, &end);
	return *end ? -1 : 0;
}

/* The sensors whose one file is their value: beep_enable, vrm, update_interval. */
static bool single_valued(struct hwmon_state *st, struct am_metric_set *out, const char *chip,
			  const struct entry *e)
{
	const struct entry *bare = find(&st->chip, e->sensor, "");
	double v;

	if (!strcmp(e->type, "beep_enable"))
		add(st, out, chip, e->sensor, "node_hwmon_beep_enabled", "Hardware beep enabled",
		    AM_METRIC_GAUGE, bare && !strcmp(bare->value, "1"));
	else if (!strcmp(e->type, "vrm") && bare && !parse(bare->value, &v))
		add(st, out, chip, e->sensor, "node_hwmon_voltage_regulator_version",
		    "Hardware voltage regulator", AM_METRIC_GAUGE, v);
	else if (!strcmp(e->type, "update_interval") && bare && !parse(bare->value, &v))
		add(st, out, chip, e->sensor, "node_hwmon_update_interval_seconds",
		    "Hardware monitor update interval", AM_METRIC_GAUGE, v * 0.001);
	return !strcmp(e->type, "beep_enable") || !strcmp(e->type, "vrm") ||
	       !strcmp(e->type, "update_interval");
}

/* One property E of a sensor, with node_exporter's name, unit and scale for its type. */
static void property(struct hwmon_state *st, struct am_metric_set *out, const char *chip,
		     const struct entry *e)
{
	const char *t = e->type, *p = e->prop;
	char name[160], help[300], cp[64];
	double v;

	if (parse(e->value, &v))
		return;
	snprintf(name, sizeof(name), "node_hwmon_%s", t);
	clean(p, cp, sizeof(cp));
	if (!strcmp(p, "input")) {
		if (find(&st->chip, e->sensor, ""))
			strcat(name, "_input");
	} else if (*p) {
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "_%s", cp);
	}
#define ADD(suffix, fmt, type, value)                                                              \
	do {                                                                                       \
		strcat(name, suffix);                                                              \
		snprintf(help, sizeof(help), fmt, p);                                              \
		add(st, out, chip, e->sensor, name, help, type, value);                            \
		return;                                                                            \
	} while (0)
	if (!strcmp(p, "fault") || !strcmp(p, "alarm")) {
		snprintf(help, sizeof(help), "Hardware sensor %s status (%s)", p, t);
		add(st, out, chip, e->sensor, name, help, AM_METRIC_GAUGE, v);
		return;
	}
	if (!strcmp(p, "beep"))
		ADD("_enabled", "Hardware monitor sensor has beeping enabled%.0s", AM_METRIC_GAUGE,
		    v);
	if (!strcmp(t, "in") || !strcmp(t, "cpu"))
		ADD("_volts", "Hardware monitor for voltage (%s)", AM_METRIC_GAUGE, v * 0.001);
	if (!strcmp(t, "temp") && strcmp(p, "type"))
		ADD("_celsius", "Hardware monitor for temperature (%s)", AM_METRIC_GAUGE,
		    v * 0.001);
	if (!strcmp(t, "curr"))
		ADD("_amps", "Hardware monitor for current (%s)", AM_METRIC_GAUGE, v * 0.001);
	if (!strcmp(t, "energy"))
		ADD("_joule_total", "Hardware monitor for joules used so far (%s)",
		    AM_METRIC_COUNTER, v / 1000000.0);
	if (!strcmp(t, "power") && !strcmp(p, "accuracy"))
		ADD("", "Hardware monitor power meter accuracy, as a ratio%.0s", AM_METRIC_GAUGE,
		    v / 1000000.0);
	if (!strcmp(t, "power") &&
	    (!strcmp(p, "average_interval") || !strcmp(p, "average_interval_min") ||
	     !strcmp(p, "average_interval_max")))
		ADD("_seconds", "Hardware monitor power usage update interval (%s)",
		    AM_METRIC_GAUGE, v * 0.001);
	if (!strcmp(t, "power"))
		ADD("_watt", "Hardware monitor for power usage in watts (%s)", AM_METRIC_GAUGE,
		    v / 1000000.0);
	if (!strcmp(t, "humidity"))
		ADD("",
		    "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the "
		    "humidity as a percentage) (%s)",
		    AM_METRIC_GAUGE, v / 1000000.0);
	if (!strcmp(t, "fan") &&
	    (!strcmp(p, "input") || !strcmp(p, "min") || !strcmp(p, "max") || !strcmp(p, "target")))
		ADD("_rpm", "Hardware monitor for fan revolutions per minute (%s)", AM_METRIC_GAUGE,
		    v);
#undef ADD
	snprintf(help, sizeof(help), "Hardware monitor %s element %s", t, p);
	add(st, out, chip, e->sensor, name, help, AM_METRIC_GAUGE, v);
}

static void one_chip(struct hwmon_state *st, const char *dir, struct am_metric_set *out)
{
	char raw[128], name[128], chip[600], devdir[1300];
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct chip *c = &st->chip;
	size_t i;

	name[0] = '\0';
	if (dirfd >= 0) {
		if (!read_value(dirfd, "name", raw, sizeof(raw)))
			clean(raw, name, sizeof(name));
		close(dirfd);
	}
	if (chip_label(dir, name, chip, sizeof(chip)))
		return;
	c->n = 0;
	read_sensors(c, dir);
	snprintf(devdir, sizeof(devdir), "%s/device", dir);
	read_sensors(c, devdir);
	if (c->dropped && !st->warned) {
		am_warn("hwmon: %s: more than %d sensor files, the rest left out", dir,
			MAX_ENTRIES);
		st->warned = true;
	}
	if (*name)
		am_metric_add(out, &chip_names, 1, "chip", chip, "chip_name", name, NULL);
	for (i = 0; i < c->n; i++) {
		const struct entry *e = &c->e[i];

		if (!strcmp(e->prop, "label")) {
			am_metric_add(out, &sensor_label, 1, "chip", chip, "label", e->value,
				      "sensor", e->sensor, NULL);
			continue;
		}
		if (single_valued(st, out, chip, e))
			continue;
		property(st, out, chip, e);
	}
}

static int hwmon_init(void **state, const struct am_collect_roots *roots)
{
	struct hwmon_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->base.roots, roots);
	*state = st;
	return 0;
}

static int hwmon_collect(void *state, struct am_metric_set *out)
{
	struct hwmon_state *st = state;
	char dir[600], chipdir[1200];
	struct dirent *de;
	struct stat sb;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/class/hwmon", st->base.roots.sysfs);
	st->ndescs = 0;
	d = opendir(dir);
	if (!d) {
		if (!st->base.warned)
			am_info("hwmon: no %s (%s): no hardware monitors", dir, strerror(errno));
		st->base.warned = true;
		return 0;
	}
	st->base.warned = false;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(chipdir, sizeof(chipdir), "%s/%s", dir, de->d_name);
		if (stat(chipdir, &sb) || !S_ISDIR(sb.st_mode))
			continue;
		st->chip.dropped = 0;
		one_chip(st, chipdir, out);
	}
	closedir(d);
	return 0;
}

static void hwmon_destroy(void *state)
{
	struct hwmon_state *st = state;

	if (!st)
		return;
	am_strbuf_free(&st->base.buf);
	free(st);
}

const struct am_collector am_collector_hwmon = {
    .name = "hwmon",
    .init = hwmon_init,
    .collect = hwmon_collect,
    .destroy = hwmon_destroy,
    .node = {"hwmon"},
};
