/* hwmon against node_exporter 1.5 on the same fixture trees: Debian's prometheus-node-exporter
 * with only its hwmon collector and --path.sysfs at the fixture, and `collect hwmon --sysfs` of
 * the agent, compared series by series, value by value, HELP and TYPE
 * (fixture_compat.py). tests/fixtures/sys/hwmon has chips named by device path, by name file
 * and by neither, labels, alarms, faults, beeps, fans, voltages, power, energy, current,
 * humidity, a sensor in the device directory, and values node_exporter refuses to parse. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "testutil.h"

#define AGENT  AM_TEST_BUILD_DIR "/antimetal-agent"
#define SCRIPT AM_TEST_SRC_DIR "/tests/integration/fixture_compat.py"

static void compare(const char *sysfs)
{
	char *argv[] = {"/usr/bin/python3",
			SCRIPT,
			AGENT,
			"hwmon",
			"hwmon",
			(char *)sysfs,
			AM_TEST_SRC_DIR "/tests/fixtures/proc/real",
			NULL};
	struct am_strbuf out = {0};
	int st = am_test_node_exporter_compare(argv, &out);

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hwmon differs from node_exporter's on %s",
		  sysfs);
	am_strbuf_free(&out);
}

Test(hwmon_compat, every_series_of_the_hwmon_fixture_equals_node_exporters, .timeout = 60)
{
	compare(AM_TEST_SRC_DIR "/tests/fixtures/sys/hwmon");
}

Test(hwmon_compat, synthetic_tree_equals_node_exporters, .timeout = 60)
{
	compare(AM_TEST_SRC_DIR "/tests/fixtures/sys/synthetic");
}
