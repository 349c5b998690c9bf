/* memory: /proc/meminfo in bytes and /proc/vmstat counters. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

Test(memory, captured_meminfo_exact)
{
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/meminfo");

	cr_assert_eq(am_parse_meminfo(t, &s, NULL), 0);
	cr_assert_eq(VALUE(&s, "antimetal_memory_total_bytes"), 24684096.0 * 1024);
	cr_assert_eq(VALUE(&s, "antimetal_memory_free_bytes"), 23514464.0 * 1024);
	cr_assert_eq(VALUE(&s, "antimetal_memory_available_bytes"), 23858820.0 * 1024);
	cr_assert_eq(VALUE(&s, "antimetal_memory_buffers_bytes"), 2276.0 * 1024);
	cr_assert_eq(VALUE(&s, "antimetal_memory_cached_bytes"), 508212.0 * 1024);
	cr_assert_eq(VALUE(&s, "antimetal_memory_anon_bytes"), 448740.0 * 1024);
	cr_assert_eq(VALUE(&s, "antimetal_memory_hugepage_size_bytes"), 2048.0 * 1024);
	cr_assert_eq(VALUE(&s, "node_memory_MemTotal_bytes"), 24684096.0 * 1024);
	cr_assert_eq(VALUE(&s, "node_memory_Active_anon_bytes"),
		     VALUE(&s, "antimetal_memory_active_anon_bytes"));
	cr_assert_eq(VALUE(&s, "node_memory_HugePages_Total"), 0);
	cr_assert_eq(count_metric(&s, "node_memory_HugePages_Free"), 1);
	/* Every field of this kernel's meminfo has a name. */
	cr_assert_eq(VALUE(&s, "antimetal_memory_unknown_fields"), 0);
	am_metric_set_free(&s);
	free(t);
}

Test(memory, captured_vmstat_exact)
{
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/vmstat");

	cr_assert_eq(am_parse_vmstat(t, &s, NULL), 0);
	cr_assert_eq(VALUE(&s, "antimetal_vmstat_pgfault_total"), 5576369);
	cr_assert_eq(VALUE(&s, "node_vmstat_pgfault"), 5576369);
	cr_assert_eq(VALUE(&s, "antimetal_vmstat_pgmajfault_total"), 2674);
	cr_assert_eq(VALUE(&s, "antimetal_vmstat_pgpgin_total"), 2682297);
	cr_assert_eq(VALUE(&s, "antimetal_vmstat_oom_kill_total"), 0);
	am_metric_set_free(&s);
	free(t);
}

Test(memory, meminfo_errors)
{
	static const char *const bad[] = {"",
					  "MemFree: 5 kB\n",
					  "MemTotal: x kB\n",
					  "MemTotal 5 kB\n",
					  "MemTotal: 5\n",
					  "MemTotal: 5 kB trailing\n",
					  "MemTotal: 99999999999999999999 kB\n"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct am_metric_set s = {0};
		const char *why = NULL;

		am_metric_add(&s, AM_METRIC_DESC(.name = "x", .help = "x", .type = AM_METRIC_GAUGE),
			      1, NULL);
		cr_assert_eq(am_parse_meminfo(bad[i], &s, &why), -EINVAL, "accepted '%s'", bad[i]);
		cr_assert_not_null(why);
		/* A failed parse leaves what was there before. */
		cr_assert_eq(s.n, 1);
		am_metric_set_free(&s);
	}
}

Test(memory, missing_vmstat_keeps_meminfo)
{
	char *dir = am_test_mkdtemp("memory");
	char *t = fixture("proc/real/meminfo");
	struct am_metric_set s = {0};
	char path[512];

	snprintf(path, sizeof(path), "%s/meminfo", dir);
	cr_assert_eq(am_test_write_file(path, t, strlen(t)), 0);
	cr_assert_eq(collect_once(&am_collector_memory, dir, NULL, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_memory_total_bytes"), 24684096.0 * 1024);
	cr_assert_eq(count_metric(&s, "antimetal_vmstat_pgfault_total"), 0);
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
	free(t);
}
