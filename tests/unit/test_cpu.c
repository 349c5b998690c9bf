/* cpu: /proc/stat counters in seconds per CPU and mode, and utilisation from deltas. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

Test(cpu, captured_fixture_exact)
{
	struct am_stat_sample st = {0};
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/stat");

	cr_assert_eq(am_parse_stat(t, &st, NULL), 0);
	cr_assert_eq(st.ncpus, 2);
	am_stat_emit(&st, NULL, 100, &s);
	cr_assert_eq(VALUE(&s, "antimetal_cpu_seconds_total", "cpu", "0", "mode", "user"), 89.74);
	cr_assert_eq(VALUE(&s, "antimetal_cpu_seconds_total", "cpu", "0", "mode", "system"), 37.98);
	cr_assert_eq(VALUE(&s, "antimetal_cpu_seconds_total", "cpu", "0", "mode", "idle"), 837.67);
	cr_assert_eq(VALUE(&s, "antimetal_cpu_seconds_total", "cpu", "1", "mode", "iowait"), 18.92);
	cr_assert_eq(VALUE(&s, "antimetal_cpu_seconds_total", "cpu", "1", "mode", "steal"), 0.6);
	cr_assert_eq(VALUE(&s, "antimetal_cpu_host_seconds_total", "mode", "user"), 190.33);
	cr_assert_eq(count_metric(&s, "antimetal_cpu_seconds_total"), 16);
	cr_assert_eq(count_metric(&s, "antimetal_cpu_guest_seconds_total"), 4);
	cr_assert_eq(VALUE(&s, "antimetal_context_switches_total"), 1565169);
	cr_assert_eq(VALUE(&s, "antimetal_intr_total"), 560705);
	cr_assert_eq(VALUE(&s, "antimetal_forks_total"), 15618);
	cr_assert_eq(VALUE(&s, "antimetal_boot_time_seconds"), 1795612557);
	cr_assert_eq(VALUE(&s, "antimetal_procs_running"), 3);
	cr_assert_eq(VALUE(&s, "antimetal_procs_blocked"), 0);
	/* One sample: no utilisation yet. */
	cr_assert_eq(count_metric(&s, "antimetal_cpu_busy_ratio"), 0);
	am_metric_set_free(&s);
	am_stat_sample_free(&st);
	free(t);
}

Test(cpu, utilisation_from_two_samples)
{
	struct am_stat_sample a = {0}, b = {0};
	struct am_metric_set s = {0};

	cr_assert_eq(am_parse_stat("cpu  100 0 100 700 100 0 0 0 0 0\n"
				   "cpu0 100 0 100 700 100 0 0 0 0 0\n"
				   "cpu1 50 0 50 500 0 0 0 0 0 0\n",
				   &a, NULL),
		     0);
	/* cpu0: 100 user + 50 system + 150 idle; cpu1's idle steps back (NO_HZ noise). */
	cr_assert_eq(am_parse_stat("cpu  200 0 150 850 100 0 0 0 0 0\n"
				   "cpu0 200 0 150 850 100 0 0 0 0 0\n"
				   "cpu1 150 0 50 400 0 0 0 0 0 0\n",
				   &b, NULL),
		     0);
	am_stat_emit(&b, &a, 100, &s);
	cr_assert_float_eq(VALUE(&s, "antimetal_cpu_busy_ratio", "cpu", "0"), 0.5, 1e-12);
	cr_assert_float_eq(VALUE(&s, "antimetal_cpu_busy_ratio", "cpu", "1"), 1.0, 1e-12);
	cr_assert_float_eq(VALUE(&s, "antimetal_cpu_host_busy_ratio"), 0.5, 1e-12);
	cr_assert_float_eq(VALUE(&s, "antimetal_cpu_host_mode_ratio", "mode", "user"), 1.0 / 3,
			   1e-12);
	cr_assert_float_eq(VALUE(&s, "antimetal_cpu_host_mode_ratio", "mode", "idle"), 0.5, 1e-12);
	am_metric_set_free(&s);
	am_stat_sample_free(&a);
	am_stat_sample_free(&b);
}

Test(cpu, old_kernel_four_fields_accepted)
{
	struct am_stat_sample a = {0};

	cr_assert_eq(am_parse_stat("cpu 1 2 3 4\ncpu0 1 2 3 4\n", &a, NULL), 0);
	cr_assert_eq(a.cpus[0].ticks[AM_CPU_IDLE], 4);
	cr_assert_eq(a.cpus[0].ticks[AM_CPU_STEAL], 0);
	am_stat_sample_free(&a);
}

Test(cpu, malformed_rejected)
{
	static const char *const bad[] = {"",
					  "intr 5\n",
					  "cpu 1 2 3\n",
					  "cpu 1 2 3 4 x\n",
					  "cpu 1 2 3 4\ncpuX 1 2 3 4\n",
					  "cpu 1 2 3 4\ncpu 1 2 3 4\n",
					  "cpu 1 2 3 4\nctxt\n",
					  "cpu 1 2 3 4 5 6 7 8 9 10 11\n"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct am_stat_sample a = {0};
		const char *why = NULL;

		cr_assert_eq(am_parse_stat(bad[i], &a, &why), -EINVAL, "accepted '%s'", bad[i]);
		cr_assert_not_null(why);
		am_stat_sample_free(&a);
	}
}

Test(cpu, collector_emits_ratios_from_the_second_cycle)
{
	struct am_collect_roots roots = {FIXTURES "/proc/real", NULL, NULL};
	struct am_metric_set s = {0};
	void *st;

	cr_assert_eq(am_collector_cpu.init(&st, &roots), 0);
	cr_assert_eq(am_collector_cpu.collect(st, &s), 0);
	cr_assert_eq(count_metric(&s, "antimetal_cpu_busy_ratio"), 0);
	am_metric_set_reset(&s);
	/* Same file twice: no time passed, so no ratio rather than a division by zero. */
	cr_assert_eq(am_collector_cpu.collect(st, &s), 0);
	cr_assert_eq(count_metric(&s, "antimetal_cpu_busy_ratio"), 0);
	cr_assert_eq(count_metric(&s, "antimetal_cpu_seconds_total"), 16);
	am_collector_cpu.destroy(st);
	am_metric_set_free(&s);
}
