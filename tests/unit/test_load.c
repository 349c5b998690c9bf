/* load: /proc/loadavg parsed exactly, broken text rejected with a reason. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

Test(load, captured_fixture_exact)
{
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/loadavg");

	cr_assert_eq(am_parse_loadavg(t, &s, NULL), 0);
	cr_assert_eq(s.n, 5);
	cr_assert_eq(VALUE(&s, "antimetal_load1"), 1.05);
	cr_assert_eq(VALUE(&s, "antimetal_load5"), 0.5);
	cr_assert_eq(VALUE(&s, "antimetal_load15"), 0.25);
	cr_assert_eq(VALUE(&s, "antimetal_load_runnable_tasks"), 4);
	cr_assert_eq(VALUE(&s, "antimetal_load_tasks"), 103);
	am_metric_set_free(&s);
	free(t);
}

Test(load, collector_reads_the_procfs_root)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_load, FIXTURES "/proc/real", NULL, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_load1"), 1.05);
	am_metric_set_free(&s);
}

Test(load, missing_file_is_an_error)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_load, FIXTURES "/nonexistent", NULL, NULL, &s),
		     -ENOENT);
	cr_assert_eq(s.n, 0);
}

Test(load, malformed_lines_rejected)
{
	static const char *const bad[] = {"",
					  "1.0 2.0\n",
					  "1.0 2.0 3.0 4 5\n",
					  "1.0 2.0 3.0 4/5\n",
					  "a b c 1/2 3\n",
					  "1.0 2.0 3.0 1/2 3 extra\n",
					  "1. 2.0 3.0 1/2 3\n"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct am_metric_set s = {0};
		const char *why = NULL;

		cr_assert_eq(am_parse_loadavg(bad[i], &s, &why), -EINVAL, "accepted '%s'", bad[i]);
		cr_assert_not_null(why);
		cr_assert_eq(s.n, 0);
	}
}
