/* Collectors that exist for node_exporter compatibility, over fixture trees captured from a
 * real host (tests/fixtures/sys/node) and over the live system where the value is the
 * system's own (uname, time, timex, self). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <time.h>

#include "collector_testlib.h"

#define NODE_SYS FIXTURES "/sys/node"

Test(node_collectors, edac_counts_per_controller_and_csrow)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_edac, NULL, NODE_SYS, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "node_edac_correctable_errors_total", "controller", "0"), 3);
	cr_assert_eq(VALUE(&s, "node_edac_uncorrectable_errors_total", "controller", "0"), 0);
	cr_assert_eq(
	    VALUE(&s, "node_edac_csrow_correctable_errors_total", "controller", "0", "csrow", "0"),
	    2);
	cr_assert_eq(VALUE(&s, "node_edac_csrow_correctable_errors_total", "controller", "0",
			   "csrow", "unknown"),
		     1);
	am_metric_set_free(&s);
	cr_assert_eq(collect_once(&am_collector_edac, NULL, FIXTURES "/sys/none", NULL, &s), 0,
		     "no EDAC is not an error");
	cr_assert_eq(s.n, 0);
	am_metric_set_free(&s);
}

Test(node_collectors, netclass_properties_as_node_exporter_names_them)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_netclass, NULL, NODE_SYS, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "node_network_mtu_bytes", "device", "eth0"), 1400);
	cr_assert_eq(VALUE(&s, "node_network_flags", "device", "eth0"), 4099, "hex 0x1003");
	cr_assert_eq(VALUE(&s, "node_network_speed_bytes", "device", "eth0"), -125000,
		     "speed -1 (unknown) scaled as node_exporter does");
	cr_assert_eq(VALUE(&s, "node_network_up", "device", "eth0"), 1);
	cr_assert_eq(VALUE(&s, "node_network_up", "device", "ifb0"), 0);
	cr_assert_not_null(find_metric(&s, "node_network_info", "device", "eth0", "operstate", "up",
				       "address", "02:fc:00:00:00:01", "duplex", "unknown", NULL));
	cr_assert_null(find_metric(&s, "node_network_carrier", "device", "ifb0", NULL),
		       "an attribute the kernel refuses is left out");
	am_metric_set_free(&s);
}

Test(node_collectors, uname_time_timex_filefd_self_from_the_live_system)
{
	struct am_metric_set s = {0};
	struct utsname u;
	double now = (double)time(NULL);

	cr_assert_eq(uname(&u), 0);
	cr_assert_eq(collect_once(&am_collector_uname, NULL, NULL, NULL, &s), 0);
	cr_assert_not_null(find_metric(&s, "node_uname_info", "release", u.release, "nodename",
				       u.nodename, "machine", u.machine, NULL));
	cr_assert_eq(collect_once(&am_collector_time, NULL, NULL, NULL, &s), 0);
	cr_assert_float_eq(VALUE(&s, "node_time_seconds"), now, 5);
	cr_assert_eq(collect_once(&am_collector_timex, NULL, NULL, NULL, &s), 0);
	cr_assert_eq(count_metric(&s, "node_timex_sync_status"), 1);
	cr_assert_gt(VALUE(&s, "node_timex_tick_seconds"), 0);
	cr_assert_eq(collect_once(&am_collector_filefd, NULL, NULL, NULL, &s), 0);
	cr_assert_gt(VALUE(&s, "node_filefd_maximum"), VALUE(&s, "node_filefd_allocated"));
	cr_assert_eq(collect_once(&am_collector_self, NULL, NULL, NULL, &s), 0);
	cr_assert_gt(VALUE(&s, "process_resident_memory_bytes"), 1 << 20);
	cr_assert_gt(VALUE(&s, "process_open_fds"), 2);
	cr_assert_float_eq(VALUE(&s, "process_start_time_seconds"), now, 600);
	am_metric_set_free(&s);
}

/* process_open_fds counts what /proc/self/fd lists, with hundreds of descriptors open
 * (the size of /proc/self/fd on Linux 6.2+, a listing before). */
Test(node_collectors, open_fds_equal_the_listing_with_many_open)
{
	struct am_metric_set s = {0};
	int fds[500], i, listed = 0;
	struct dirent *de;
	DIR *d;

	for (i = 0; i < 500; i++)
		cr_assert_geq(fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
	d = opendir("/proc/self/fd");
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		listed += de->d_name[0] != '.';
	closedir(d);
	cr_assert_eq(collect_once(&am_collector_self, NULL, NULL, NULL, &s), 0);
	/* The listing's own descriptor aside; the collector itself holds its two kept files. */
	cr_assert_geq(VALUE(&s, "process_open_fds"), listed - 1);
	cr_assert_leq(VALUE(&s, "process_open_fds"), listed + 2, "%g open, %d listed",
		      VALUE(&s, "process_open_fds"), listed);
	for (i = 0; i < 500; i++)
		close(fds[i]);
	am_metric_set_free(&s);
}
