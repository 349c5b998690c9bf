/* selinux: node_exporter 1.5's three gauges from selinuxfs and /etc/selinux/config under the root
 * the sysfs root belongs to: enforcing, permissive at run time while configured disabled, and
 * SELinux absent (only node_selinux_enabled 0). */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

#define SE FIXTURES "/selinux"

static void collect(const char *sysfs, struct am_metric_set *s)
{
	cr_assert_eq(collect_once(&am_collector_selinux, "/proc", sysfs, NULL, s), 0);
}

Test(selinux, enforcing_host)
{
	struct am_metric_set s = {0};

	collect(SE "/enforcing/sys", &s);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(VALUE(&s, "node_selinux_enabled"), 1);
	cr_assert_eq(VALUE(&s, "node_selinux_config_mode"), 1);
	cr_assert_eq(VALUE(&s, "node_selinux_current_mode"), 1);
	am_metric_set_free(&s);
}

Test(selinux, permissive_now_disabled_in_config)
{
	struct am_metric_set s = {0};

	collect(SE "/permissive/sys/", &s);
	cr_assert_eq(VALUE(&s, "node_selinux_enabled"), 1);
	cr_assert_eq(VALUE(&s, "node_selinux_config_mode"), -1);
	cr_assert_eq(VALUE(&s, "node_selinux_current_mode"), 0);
	am_metric_set_free(&s);
}

Test(selinux, absent_gives_enabled_zero_only)
{
	struct am_metric_set s = {0};

	collect(SE "/disabled/sys", &s);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(VALUE(&s, "node_selinux_enabled"), 0);
	am_metric_set_free(&s);
}

Test(selinux, config_lines_as_go_selinux_reads_them)
{
	cr_assert_eq(am_parse_selinux_config("SELINUX=enforcing\n"), 1);
	cr_assert_eq(am_parse_selinux_config("SELINUX=permissive"), 0);
	cr_assert_eq(am_parse_selinux_config("  SELINUX = \"permissive\"  \n"), 0);
	cr_assert_eq(am_parse_selinux_config("#SELINUX=enforcing\n"), -1);
	cr_assert_eq(am_parse_selinux_config("SELINUXTYPE=enforcing\n"), -1);
	cr_assert_eq(am_parse_selinux_config("SELINUX=enforcing\nSELINUX=permissive\n"), 0);
	cr_assert_eq(am_parse_selinux_config("SELINUX=Enforcing\n"), -1);
	cr_assert_eq(am_parse_selinux_config(""), -1);
}
