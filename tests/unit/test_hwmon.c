/* hwmon: node_exporter 1.5's series from the fixture tree, exact values (the comparison with
 * node_exporter itself is tests/integration/test_hwmon_compat.c); no hwmon directory is no
 * error and no series. */
#include <criterion/criterion.h>

#include "collector_testlib.h"

#define HW FIXTURES "/sys/hwmon"

Test(hwmon, chips_sensors_units_and_labels)
{
	struct am_metric_set s = {0};
	const char *core = "platform_coretemp_0", *nct = "platform_nct6775_656",
		   *pm = "platform_power_meter";

	cr_assert_eq(collect_once(&am_collector_hwmon, "/proc", HW, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "node_hwmon_temp_celsius", "chip", core, "sensor", "temp1"), 45);
	cr_assert_eq(VALUE(&s, "node_hwmon_temp_crit_celsius", "chip", core, "sensor", "temp1"),
		     100);
	cr_assert_eq(VALUE(&s, "node_hwmon_sensor_label", "chip", core, "label", "Package id 0",
			   "sensor", "temp1"),
		     1);
	cr_assert_eq(VALUE(&s, "node_hwmon_chip_names", "chip", core, "chip_name", "coretemp"), 1);
	/* no device link: the name file names the chip */
	cr_assert_eq(VALUE(&s, "node_hwmon_temp_celsius", "chip", "acpitz", "sensor", "temp1"),
		     27.8);
	/* no name file: the device path, and no chip_names */
	cr_assert_eq(VALUE(&s, "node_hwmon_temp_celsius", "chip", "nvme_nvme0", "sensor", "temp1"),
		     38.85);
	cr_assert_null(find_metric(&s, "node_hwmon_chip_names", "chip", "nvme_nvme0", NULL));
	cr_assert_eq(VALUE(&s, "node_hwmon_fan_rpm", "chip", nct, "sensor", "fan1"), 1200);
	cr_assert_eq(VALUE(&s, "node_hwmon_fan_max_rpm", "chip", nct, "sensor", "fan1"), 2000,
		     "fan1_max lives in the device directory");
	cr_assert_eq(VALUE(&s, "node_hwmon_fan_fault", "chip", nct, "sensor", "fan2"), 1);
	cr_assert_eq(VALUE(&s, "node_hwmon_in_volts", "chip", nct, "sensor", "in0"), 1.024);
	cr_assert_eq(VALUE(&s, "node_hwmon_beep_enabled", "chip", nct, "sensor", "beep_enable0"),
		     1);
	cr_assert_eq(VALUE(&s, "node_hwmon_update_interval_seconds", "chip", nct, "sensor",
			   "update_interval0"),
		     1);
	cr_assert_eq(VALUE(&s, "node_hwmon_pwm", "chip", nct, "sensor", "pwm1"), 128);
	cr_assert_null(
	    find_metric(&s, "node_hwmon_temp_celsius", "chip", nct, "sensor", "temp2", NULL),
	    "' 30000' is not a number to node_exporter");
	cr_assert_eq(VALUE(&s, "node_hwmon_power_watt", "chip", pm, "sensor", "power1"), 15);
	cr_assert_eq(VALUE(&s, "node_hwmon_power_accuracy", "chip", pm, "sensor", "power1"), 0.5);
	cr_assert_eq(VALUE(&s, "node_hwmon_energy_joule_total", "chip", pm, "sensor", "energy1"),
		     123.456789);
	cr_assert_eq(VALUE(&s, "node_hwmon_humidity", "chip", pm, "sensor", "humidity1"), 0.045);
	cr_assert_eq(VALUE(&s, "node_hwmon_curr_amps", "chip", pm, "sensor", "curr1"), 1.5);
	am_metric_set_free(&s);
}

Test(hwmon, no_hwmon_directory_is_no_series)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_hwmon, "/proc", FIXTURES "/sys/real", NULL, &s), 0);
	cr_assert_eq(s.n, 0);
	am_metric_set_free(&s);
}
