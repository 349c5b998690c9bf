/* hardware: inventory info metrics from /proc/cpuinfo and /sys, on the machine's captured tree
 * (no hwmon, DMI or thermal: reported absent, not an error) and on a synthetic tree that has
 * them all. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

Test(hardware, captured_cpuinfo_exact)
{
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/cpuinfo");

	cr_assert_eq(am_parse_cpuinfo(t, &s, NULL), 0);
	cr_assert_eq(count_metric(&s, "antimetal_cpu_info"), 2);
	cr_assert_not_null(find_metric(&s, "antimetal_cpu_info", "cpu", "1", "package", "0", "core",
				       "1", "vendor", "AuthenticAMD", "family", "25", "model", "1",
				       "model_name", "AMD EPYC", "stepping", "1", NULL));
	am_metric_set_free(&s);
	free(t);
}

Test(hardware, captured_tree_reports_absent_parts)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_hardware, FIXTURES "/proc/real",
				  FIXTURES "/sys/real", NULL, &s),
		     0);
	cr_assert_eq(VALUE(&s, "antimetal_hardware_present", "component", "numa"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_hardware_present", "component", "hwmon"), 0);
	cr_assert_eq(VALUE(&s, "antimetal_hardware_present", "component", "dmi"), 0);
	cr_assert_eq(VALUE(&s, "antimetal_hardware_present", "component", "thermal"), 0);
	cr_assert_eq(VALUE(&s, "antimetal_numa_node_memory_total_bytes", "node", "0"),
		     4942040.0 * 1024);
	/* One node: each of its memory series exactly once (a duplicate breaks the exposition). */
	cr_assert_eq(count_metric(&s, "antimetal_numa_node_memory_total_bytes"), 1);
	cr_assert_eq(count_metric(&s, "antimetal_numa_node_memory_free_bytes"), 1);
	cr_assert_not_null(
	    find_metric(&s, "antimetal_numa_node_info", "node", "0", "cpulist", "0-1", NULL));
	/* loop0 is skipped like the disk collector skips it; zram0 is kept (node_exporter 1.5). */
	cr_assert_eq(count_metric(&s, "antimetal_disk_info"), 2);
	cr_assert_eq(VALUE(&s, "antimetal_disk_size_bytes", "device", "vda"), 536870912.0 * 512);
	cr_assert_not_null(find_metric(&s, "antimetal_disk_info", "device", "vda", "vendor",
				       "0x1af4", "rotational", "1", NULL));
	cr_assert_eq(VALUE(&s, "antimetal_network_mtu_bytes", "device", "lo"), 65536);
	cr_assert_eq(VALUE(&s, "antimetal_network_mtu_bytes", "device", "eth0"), 1400);
	cr_assert_not_null(find_metric(&s, "antimetal_network_info", "device", "eth0", "operstate",
				       "up", "address", "02:fc:00:00:00:01", NULL));
	am_metric_set_free(&s);
}

Test(hardware, synthetic_tree_with_every_part)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_hardware, FIXTURES "/proc/synthetic",
				  FIXTURES "/sys/synthetic", NULL, &s),
		     0);
	cr_assert_eq(VALUE(&s, "antimetal_hardware_present", "component", "hwmon"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_hardware_present", "component", "dmi"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_hardware_present", "component", "thermal"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_hwmon_temp_celsius", "chip", "k10temp", "sensor", "Tctl"),
		     45.5);
	cr_assert_eq(
	    VALUE(&s, "antimetal_hwmon_temp_celsius", "chip", "k10temp", "sensor", "temp2"), -2);
	/* hwmon1's reading is not a number: skipped. */
	cr_assert_eq(count_metric(&s, "antimetal_hwmon_temp_celsius"), 2);
	cr_assert_not_null(find_metric(&s, "antimetal_dmi_info", "sys_vendor", "QEMU",
				       "product_name", "Standard PC (Q35 + ICH9, 2009)",
				       "bios_version", "1.16.2-debian-1.16.2-1", "board_name", "",
				       NULL));
	cr_assert_eq(
	    VALUE(&s, "antimetal_thermal_zone_temp_celsius", "zone", "0", "type", "x86_pkg_temp"),
	    51);
	cr_assert_eq(count_metric(&s, "antimetal_thermal_zone_temp_celsius"), 1);
	cr_assert_eq(count_metric(&s, "antimetal_numa_node_info"), 2);
	cr_assert_eq(VALUE(&s, "antimetal_numa_node_memory_free_bytes", "node", "1"),
		     1000000.0 * 1024);
	/* Partitions are not disks. */
	cr_assert_eq(count_metric(&s, "antimetal_disk_info"), 2);
	cr_assert_eq(VALUE(&s, "antimetal_disk_size_bytes", "device", "sda"), 1953525168.0 * 512);
	cr_assert_not_null(find_metric(&s, "antimetal_disk_info", "device", "sda", "model",
				       "ST1000DM010-2EP1", "vendor", "ATA", NULL));
	cr_assert_eq(VALUE(&s, "antimetal_network_speed_bytes", "device", "eth0"), 125000000);
	/* speed -1 (link down) is not a speed. */
	cr_assert_null(find_metric(&s, "antimetal_network_speed_bytes", "device", "wlan0", NULL));
	cr_assert_not_null(find_metric(&s, "antimetal_cpu_info", "cpu", "1", "package", "1", "core",
				       "3", "model_name", "Intel(R) Xeon(R) \"Gold\" 6148", NULL));
	am_metric_set_free(&s);
}

Test(hardware, empty_sysfs_root_is_all_absent_not_an_error)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_hardware, FIXTURES "/proc/real",
				  FIXTURES "/nonexistent", NULL, &s),
		     0);
	cr_assert_eq(VALUE(&s, "antimetal_hardware_present", "component", "numa"), 0);
	cr_assert_eq(count_metric(&s, "antimetal_cpu_info"), 2);
	am_metric_set_free(&s);
}

Test(hardware, cpuinfo_malformed_rejected)
{
	static const char *const bad[] = {"", "vendor_id : x\n", "processor : x\n",
					  "no colon here\n", "processor : 1\n : value\n"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct am_metric_set s = {0};
		const char *why = NULL;

		cr_assert_eq(am_parse_cpuinfo(bad[i], &s, &why), -EINVAL, "accepted '%s'", bad[i]);
		cr_assert_not_null(why);
		cr_assert_eq(s.n, 0);
	}
}

Test(hardware, inventory_replayed_between_refreshes)
{
	struct am_collect_roots roots = {.procfs = FIXTURES "/proc/synthetic",
					 .sysfs = FIXTURES "/sys/synthetic"};
	struct am_metric_set a = {0}, b = {0};
	size_t i;
	void *st;

	cr_assert_eq(am_collector_hardware.init(&st, &roots), 0);
	cr_assert_eq(am_collector_hardware.collect(st, &a), 0);
	cr_assert_eq(am_collector_hardware.collect(st, &b), 0);
	cr_assert_eq(a.n, b.n);
	for (i = 0; i < a.n; i++) {
		cr_assert_str_eq(am_metric_name(&a.items[i]), am_metric_name(&b.items[i]));
		cr_assert_eq(a.items[i].nlabels, b.items[i].nlabels);
		cr_assert_eq(a.items[i].value, b.items[i].value);
	}
	am_collector_hardware.destroy(st);
	am_metric_set_free(&a);
	am_metric_set_free(&b);
}
