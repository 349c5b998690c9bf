/* disk: /proc/diskstats per whole device in bytes and seconds; node_exporter's device filter;
 * rates between cycles. */
#include <criterion/criterion.h>
#include <unistd.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

Test(disk, captured_fixture_exact)
{
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/diskstats");

	cr_assert_eq(am_parse_diskstats(t, &s, NULL), 0);
	/* loop0..7 are filtered out, zram0 kept, as node_exporter 1.5 does. */
	cr_assert_eq(count_metric(&s, "antimetal_disk_read_bytes_total"), 2);
	cr_assert_eq(VALUE(&s, "node_disk_reads_completed_total", "device", "vda"), 97221);
	cr_assert_eq(VALUE(&s, "antimetal_disk_reads_completed_total", "device", "vda"), 97221);
	cr_assert_eq(VALUE(&s, "antimetal_disk_reads_merged_total", "device", "vda"), 11553);
	cr_assert_eq(VALUE(&s, "antimetal_disk_read_bytes_total", "device", "vda"),
		     5364594.0 * 512);
	cr_assert_eq(VALUE(&s, "antimetal_disk_read_time_seconds_total", "device", "vda"), 99.065);
	cr_assert_eq(VALUE(&s, "antimetal_disk_writes_completed_total", "device", "vda"), 28074);
	cr_assert_eq(VALUE(&s, "antimetal_disk_written_bytes_total", "device", "vda"),
		     4253752.0 * 512);
	cr_assert_eq(VALUE(&s, "antimetal_disk_write_time_seconds_total", "device", "vda"), 13.66);
	cr_assert_eq(VALUE(&s, "antimetal_disk_io_now", "device", "vda"), 0);
	cr_assert_eq(VALUE(&s, "antimetal_disk_io_time_seconds_total", "device", "vda"), 26.42);
	cr_assert_eq(VALUE(&s, "antimetal_disk_io_time_weighted_seconds_total", "device", "vda"),
		     113.882);
	cr_assert_eq(VALUE(&s, "antimetal_disk_discards_completed_total", "device", "vda"), 7349);
	/* node_exporter counts discards in sectors, unlike reads and writes. */
	cr_assert_eq(VALUE(&s, "node_disk_discarded_sectors_total", "device", "vda"), 849064.0);
	cr_assert_eq(VALUE(&s, "antimetal_disk_flush_requests_total", "device", "vda"), 2094);
	cr_assert_eq(VALUE(&s, "antimetal_disk_flush_requests_time_seconds_total", "device", "vda"),
		     0.119);
	am_metric_set_free(&s);
	free(t);
}

Test(disk, eleven_field_kernel_has_no_discard_metrics)
{
	struct am_metric_set s = {0};

	cr_assert_eq(am_parse_diskstats("   8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n", &s, NULL), 0);
	cr_assert_eq(VALUE(&s, "antimetal_disk_io_time_weighted_seconds_total", "device", "sda"),
		     0.011);
	cr_assert_eq(count_metric(&s, "antimetal_disk_discards_completed_total"), 0);
	am_metric_set_free(&s);
}

Test(disk, device_filter_matches_node_exporter)
{
	static const char *const ignored[] = {"sda1",  "vda2",	 "hdb3", "xvda1", "nvme0n1p1",
					      "loop0", "loop12", "ram0", "fd0"};
	static const char *const kept[] = {"sda",  "vda",     "xvda",  "nvme0n1", "md0",
					   "dm-0", "mmcblk0", "sdaa1", "loop",	  "zram0"};
	size_t i;

	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		cr_assert(am_disk_ignored(ignored[i]), "%s should be ignored", ignored[i]);
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		cr_assert(!am_disk_ignored(kept[i]), "%s should be kept", kept[i]);
}

Test(disk, malformed_rejected)
{
	static const char *const bad[] = {"8 0 sda 1 2 3\n", "8 0 sda 1 2 3 4 5 6 7 8 9 10 x\n",
					  "x 0 sda 1 2 3 4 5 6 7 8 9 10 11\n", "8 0\n",
					  "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12\n"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct am_metric_set s = {0};
		const char *why = NULL;

		cr_assert_eq(am_parse_diskstats(bad[i], &s, &why), -EINVAL, "accepted '%s'",
			     bad[i]);
		cr_assert_not_null(why);
		cr_assert_eq(s.n, 0);
	}
}

Test(disk, rates_from_the_second_cycle)
{
	char *dir = am_test_mkdtemp("disk");
	struct test_clock clk = {1000000000ull};
	struct am_collect_roots roots = {
	    .procfs = dir, .clock_ns = test_clock_ns, .clock_ctx = &clk};
	struct am_metric_set s = {0};
	const char *a = " 8 0 sda 10 0 100 5 10 0 100 5 0 1000 10\n";
	const char *b = " 8 0 sda 20 0 2100 5 10 0 100 5 0 1500 10\n";
	char path[512];
	double r;
	void *st;

	snprintf(path, sizeof(path), "%s/diskstats", dir);
	cr_assert_eq(am_test_write_file(path, a, strlen(a)), 0);
	cr_assert_eq(am_collector_disk.init(&st, &roots), 0);
	cr_assert_eq(am_collector_disk.collect(st, &s), 0);
	cr_assert_eq(count_metric(&s, "antimetal_disk_read_bytes_per_second"), 0);
	clk.ns += 2000000000ull;
	cr_assert_eq(am_test_write_file(path, b, strlen(b)), 0);
	am_metric_set_reset(&s);
	cr_assert_eq(am_collector_disk.collect(st, &s), 0);
	/* 2000 sectors = 1024000 bytes over exactly 2 s. */
	r = VALUE(&s, "antimetal_disk_read_bytes_per_second", "device", "sda");
	cr_assert_float_eq(r, 512000.0, 1e-6, "rate %f", r);
	cr_assert_eq(VALUE(&s, "antimetal_disk_written_bytes_per_second", "device", "sda"), 0);
	/* 500 ms of I/O time in 2 s. */
	r = VALUE(&s, "antimetal_disk_io_utilization_ratio", "device", "sda");
	cr_assert_float_eq(r, 0.25, 1e-9, "utilisation %f", r);
	am_collector_disk.destroy(st);
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}
