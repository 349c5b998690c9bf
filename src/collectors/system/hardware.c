/* hardware: inventory as info-style gauges (value 1, facts in labels): CPUs from
 * /proc/cpuinfo, memory and NUMA nodes from /sys/devices/system/node, disks from /sys/block,
 * network interfaces from /sys/class/net, and hwmon, DMI and thermal zones where the machine
 * has them. An absent part is reported as antimetal_hardware_present{component} 0, not an
 * error (VMs commonly have no hwmon, DMI or thermal zones). The inventory is re-read every five
 * minutes; temperatures and NUMA free memory every cycle. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/log.h"

/* The inventory changes rarely (hotplug) and costs hundreds of sysfs reads: it is re-read
 * every INVENTORY_REFRESH_S and replayed from a copy in between; sensors are read every cycle. */
#define INVENTORY_REFRESH_S 300

struct hardware_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_metric_set inventory;
	int64_t inventory_at; /* CLOCK_MONOTONIC seconds; -1 = never */
	int warned_cpuinfo;
};

static int hardware_init(void **state, const struct am_collect_roots *roots)
{
	struct hardware_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	st->inventory_at = -1;
	*state = st;
	return 0;
}

static void present(struct am_metric_set *out, const char *component, int yes)
{
	am_metric_add(out, "antimetal_hardware_present",
		      "Whether the machine exposes this part of the inventory (1) or not (0).",
		      AM_METRIC_GAUGE, yes ? 1 : 0, "component", component, NULL);
}

/* Read ROOT/DIR/NAME/ATTR into VAL ("" when unreadable). */
static void attr(const char *root, const char *dir, const char *name, const char *a, char *val,
		 size_t len)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "%s/%s/%s", dir, name, a);
	if (am_procfs_read_line(root, rel, val, len))
		val[0] = '\0';
}

static int numbered(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(name, prefix, n) && name[n] &&
	       strspn(name + n, "0123456789") == strlen(name + n);
}

/* The inventory part (INVENTORY: info, total memory, presence) or the changing part (free
 * memory). */
static void numa_nodes(struct hardware_state *st, struct am_metric_set *out, int inventory)
{
	char dir[600];
	struct dirent *de;
	int nodes = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/devices/system/node", st->roots.sysfs);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char rel[300], cpulist[256];
		const char *node = de->d_name + 4, *line;

		if (!numbered(de->d_name, "node"))
			continue;
		nodes++;
		if (inventory) {
			attr(st->roots.sysfs, "devices/system/node", de->d_name, "cpulist", cpulist,
			     sizeof(cpulist));
			am_metric_add(out, "antimetal_numa_node_info", "NUMA node and its CPUs.",
				      AM_METRIC_GAUGE, 1, "node", node, "cpulist", cpulist, NULL);
		}
		snprintf(rel, sizeof(rel), "devices/system/node/%s/meminfo", de->d_name);
		if (am_procfs_read(st->roots.sysfs, rel, &st->buf))
			continue;
		/* "Node 0 MemTotal:  4942040 kB" */
		for (line = st->buf.data; line && *line; line = am_next_line(line)) {
			const char *p = strchr(line, ':'), *nl = strchr(line, '\n');
			/* Search this line only: the buffer holds the whole file. */
			size_t len = nl ? (size_t)(nl - line) : strlen(line);
			int total = !!memmem(line, len, " MemTotal:", 10),
			    free_ = !!memmem(line, len, " MemFree:", 9);
			uint64_t kb;

			if (!p || (nl && p > nl) || (inventory ? !total : !free_))
				continue;
			p++;
			if (am_parse_u64(&p, &kb) || kb > (UINT64_MAX >> 10))
				continue;
			am_metric_add(out,
				      total ? "antimetal_numa_node_memory_total_bytes"
					    : "antimetal_numa_node_memory_free_bytes",
				      total ? "Memory of the NUMA node."
					    : "Free memory of the NUMA node.",
				      AM_METRIC_GAUGE, (double)(kb << 10), "node", node, NULL);
		}
	}
	if (d)
		closedir(d);
	if (inventory)
		present(out, "numa", nodes > 0);
}

static void disks(struct hardware_state *st, struct am_metric_set *out)
{
	char dir[600], size[32], model[128], vendor[64], rot[8], rem[8];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/block", st->roots.sysfs);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		const char *p = size;
		uint64_t sectors;

		if (de->d_name[0] == '.' || am_disk_ignored(de->d_name))
			continue;
		attr(st->roots.sysfs, "block", de->d_name, "size", size, sizeof(size));
		attr(st->roots.sysfs, "block", de->d_name, "device/model", model, sizeof(model));
		attr(st->roots.sysfs, "block", de->d_name, "device/vendor", vendor, sizeof(vendor));
		attr(st->roots.sysfs, "block", de->d_name, "queue/rotational", rot, sizeof(rot));
		attr(st->roots.sysfs, "block", de->d_name, "removable", rem, sizeof(rem));
		am_metric_add(out, "antimetal_disk_info", "Block device inventory (/sys/block).",
			      AM_METRIC_GAUGE, 1, "device", de->d_name, "model", model, "vendor",
			      vendor, "rotational", rot, "removable", rem, NULL);
		if (!am_parse_u64(&p, &sectors) && am_at_eol(p))
			am_metric_add(out, "antimetal_disk_size_bytes", "Block device capacity.",
				      AM_METRIC_GAUGE, (double)sectors * 512, "device", de->d_name,
				      NULL);
	}
	if (d)
		closedir(d);
}

static void interfaces(struct hardware_state *st, struct am_metric_set *out)
{
	char dir[600], address[64], operstate[32], duplex[16], mtu[16], speed[16];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/class/net", st->roots.sysfs);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		const char *p;
		int64_t v;

		if (de->d_name[0] == '.')
			continue;
		attr(st->roots.sysfs, "class/net", de->d_name, "address", address, sizeof(address));
		attr(st->roots.sysfs, "class/net", de->d_name, "operstate", operstate,
		     sizeof(operstate));
		/* duplex and speed fail with EINVAL on virtual and down links. */
		attr(st->roots.sysfs, "class/net", de->d_name, "duplex", duplex, sizeof(duplex));
		attr(st->roots.sysfs, "class/net", de->d_name, "mtu", mtu, sizeof(mtu));
		attr(st->roots.sysfs, "class/net", de->d_name, "speed", speed, sizeof(speed));
		am_metric_add(out, "antimetal_network_info",
			      "Network interface inventory (/sys/class/net).", AM_METRIC_GAUGE, 1,
			      "device", de->d_name, "address", address, "operstate", operstate,
			      "duplex", duplex, NULL);
		p = mtu;
		if (!am_parse_i64(&p, &v) && am_at_eol(p))
			am_metric_add(out, "antimetal_network_mtu_bytes", "Interface MTU.",
				      AM_METRIC_GAUGE, (double)v, "device", de->d_name, NULL);
		p = speed;
		if (!am_parse_i64(&p, &v) && am_at_eol(p) && v > 0)
			am_metric_add(out, "antimetal_network_speed_bytes",
				      "Link speed in bytes per second.", AM_METRIC_GAUGE,
				      (double)v * 125000.0, "device", de->d_name, NULL);
	}
	if (d)
		closedir(d);
}

static void hwmon(struct hardware_state *st, struct am_metric_set *out)
{
	char dir[600], sub[900], chip[64], label[64], val[32];
	struct dirent *de, *fe;
	int sensors = 0;
	DIR *d, *f;

	snprintf(dir, sizeof(dir), "%s/class/hwmon", st->roots.sysfs);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (!numbered(de->d_name, "hwmon"))
			continue;
		attr(st->roots.sysfs, "class/hwmon", de->d_name, "name", chip, sizeof(chip));
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		f = opendir(sub);
		while (f && (fe = readdir(f))) {
			size_t n = strlen(fe->d_name);
			const char *p = val;
			char base[64], lbl[80];
			int64_t milli;

			if (strncmp(fe->d_name, "temp", 4) || n < 10 || n >= sizeof(base) ||
			    strcmp(fe->d_name + n - 6, "_input"))
				continue;
			attr(st->roots.sysfs, "class/hwmon", de->d_name, fe->d_name, val,
			     sizeof(val));
			if (am_parse_i64(&p, &milli) || !am_at_eol(p))
				continue;
			memcpy(base, fe->d_name, n - 6);
			base[n - 6] = '\0';
			/* tempN_label names the sensor where the driver knows it ("Tctl"). */
			snprintf(lbl, sizeof(lbl), "%s_label", base);
			attr(st->roots.sysfs, "class/hwmon", de->d_name, lbl, label, sizeof(label));
			if (!label[0])
				snprintf(label, sizeof(label), "%s", base);
			am_metric_add(out, "antimetal_hwmon_temp_celsius",
				      "Temperature sensor reading (hwmon).", AM_METRIC_GAUGE,
				      (double)milli / 1000.0, "chip", chip[0] ? chip : de->d_name,
				      "sensor", label, NULL);
			sensors++;
		}
		if (f)
			closedir(f);
	}
	if (d)
		closedir(d);
	present(out, "hwmon", sensors > 0);
}

static void dmi(struct hardware_state *st, struct am_metric_set *out)
{
	static const char *const keys[] = {"sys_vendor",   "product_name", "product_version",
					   "board_vendor", "board_name",   "bios_vendor",
					   "bios_version", "bios_date"};
	char vals[8][128];
	int i, any = 0;

	for (i = 0; i < 8; i++) {
		attr(st->roots.sysfs, "class/dmi", "id", keys[i], vals[i], sizeof(vals[i]));
		any |= vals[i][0] != '\0';
	}
	if (any)
		am_metric_add(out, "antimetal_dmi_info", "Machine identity from DMI/SMBIOS.",
			      AM_METRIC_GAUGE, 1, keys[0], vals[0], keys[1], vals[1], keys[2],
			      vals[2], keys[3], vals[3], keys[4], vals[4], keys[5], vals[5],
			      keys[6], vals[6], keys[7], vals[7], NULL);
	present(out, "dmi", any);
}

static void thermal(struct hardware_state *st, struct am_metric_set *out)
{
	char dir[600], type[64], val[32];
	struct dirent *de;
	int zones = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/class/thermal", st->roots.sysfs);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		const char *p = val;
		int64_t milli;

		if (!numbered(de->d_name, "thermal_zone"))
			continue;
		attr(st->roots.sysfs, "class/thermal", de->d_name, "type", type, sizeof(type));
		attr(st->roots.sysfs, "class/thermal", de->d_name, "temp", val, sizeof(val));
		if (am_parse_i64(&p, &milli) || !am_at_eol(p))
			continue;
		am_metric_add(out, "antimetal_thermal_zone_temp_celsius",
			      "Thermal zone temperature.", AM_METRIC_GAUGE, (double)milli / 1000.0,
			      "zone", de->d_name + 12, "type", type, NULL);
		zones++;
	}
	if (d)
		closedir(d);
	present(out, "thermal", zones > 0);
}

static void read_inventory(struct hardware_state *st, struct am_metric_set *inv)
{
	const char *why = "";

	am_metric_set_reset(inv);
	if (!am_procfs_read_logged(st->roots.procfs, "cpuinfo", &st->buf, "hardware",
				   &st->warned_cpuinfo) &&
	    am_parse_cpuinfo(st->buf.data, inv, &why)) {
		if (!st->warned_cpuinfo)
			am_warn("hardware: %s/cpuinfo: %s", st->roots.procfs, why);
		st->warned_cpuinfo = 1;
	}
	numa_nodes(st, inv, 1);
	disks(st, inv);
	interfaces(st, inv);
	dmi(st, inv);
}

static int hardware_collect(void *state, struct am_metric_set *out)
{
	struct hardware_state *st = state;
	struct timespec ts;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (st->inventory_at < 0 || ts.tv_sec - st->inventory_at >= INVENTORY_REFRESH_S) {
		read_inventory(st, &st->inventory);
		st->inventory_at = ts.tv_sec;
	}
	for (i = 0; i < st->inventory.n; i++)
		am_metric_add_copy(out, &st->inventory.items[i], st->inventory.items[i].value);
	numa_nodes(st, out, 0);
	hwmon(st, out);
	thermal(st, out);
	return 0;
}

static void hardware_destroy(void *state)
{
	struct hardware_state *st = state;

	if (!st)
		return;
	am_strbuf_free(&st->buf);
	am_metric_set_free(&st->inventory);
	free(st);
}

const struct am_collector am_collector_hardware = {
    .name = "hardware",
    .init = hardware_init,
    .collect = hardware_collect,
    .destroy = hardware_destroy,
};
