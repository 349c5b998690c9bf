/* pressure: PSI files parsed exactly; a kernel without PSI disables the collector quietly. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

Test(pressure, captured_fixture_exact)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_pressure, FIXTURES "/proc/real", NULL, NULL, &s),
		     0);
	cr_assert_eq(VALUE(&s, "node_pressure_cpu_waiting_seconds_total"), 26.301597);
	cr_assert_float_eq(
	    VALUE(&s, "antimetal_pressure_waiting_ratio", "resource", "cpu", "window", "10s"),
	    0.1924, 1e-15);
	cr_assert_float_eq(
	    VALUE(&s, "antimetal_pressure_waiting_ratio", "resource", "cpu", "window", "300s"),
	    0.0308, 1e-15);
	cr_assert_eq(VALUE(&s, "antimetal_pressure_io_stalled_seconds_total"), 17.401299);
	cr_assert_eq(VALUE(&s, "antimetal_pressure_io_waiting_seconds_total"), 18.071193);
	cr_assert_eq(VALUE(&s, "antimetal_pressure_memory_waiting_seconds_total"), 0);
	cr_assert_eq(count_metric(&s, "antimetal_pressure_stalled_ratio"), 9);
	am_metric_set_free(&s);
}

Test(pressure, some_only_file_has_no_full_metrics)
{
	struct am_psi p;

	cr_assert_eq(am_parse_psi("some avg10=1.00 avg60=2.00 avg300=3.00 total=42\n", &p, NULL),
		     0);
	cr_assert(p.has_some && !p.has_full);
	cr_assert_eq(p.some_total_us, 42);
	cr_assert_eq(p.some_avg[2], 3.0);
}

Test(pressure, absent_directory_disables_without_error)
{
	struct am_metric_set s = {0};

	cr_assert_eq(
	    collect_once(&am_collector_pressure, FIXTURES "/proc/processes", NULL, NULL, &s), 0);
	cr_assert_eq(s.n, 0);
}

Test(pressure, malformed_rejected)
{
	static const char *const bad[] = {"",
					  "full avg10=0 avg60=0 avg300=0 total=0\n",
					  "some avg10=1 avg60=2 total=3\n",
					  "some avg10=x avg60=0 avg300=0 total=0\n",
					  "some avg10=0 avg60=0 avg300=0 total=0 more\n",
					  "some avg10=0 avg60=0 avg300=0 total=0\nbogus\n"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct am_psi p;
		const char *why = NULL;

		cr_assert_eq(am_parse_psi(bad[i], &p, &why), -EINVAL, "accepted '%s'", bad[i]);
		cr_assert_not_null(why);
	}
}
