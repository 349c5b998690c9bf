/* kmsg: record parsing, per-severity counts, sequence gaps, and the recent-records accessor. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/system/kmsg.h"
#include "collectors/parse/parsers.h"
#include "core/capabilities.h"

Test(kmsg, record_fields)
{
	static const char rec[] = "30,16,1234567,-;clocksource: kvm-clock\n SUBSYSTEM=acpi\n";
	struct am_kmsg_record r;

	cr_assert_eq(am_parse_kmsg_record(rec, sizeof(rec) - 1, &r, NULL), 0);
	cr_assert_eq(r.severity, 6);
	cr_assert_eq(r.facility, 3);
	cr_assert_eq(r.seq, 16);
	cr_assert_eq(r.ts_usec, 1234567);
	cr_assert_str_eq(r.msg, "clocksource: kvm-clock");
	cr_assert_str_eq(am_kmsg_severity_name(r.severity), "info");
}

Test(kmsg, record_not_terminated_and_long_message)
{
	char rec[2000];
	struct am_kmsg_record r;

	memset(rec, 'a', sizeof(rec));
	memcpy(rec, "3,1,2,c;", 8);
	cr_assert_eq(am_parse_kmsg_record(rec, sizeof(rec), &r, NULL), 0);
	cr_assert_eq(strlen(r.msg), sizeof(r.msg) - 1);
	cr_assert_eq(r.severity, 3);
}

Test(kmsg, malformed_rejected)
{
	static const char *const bad[] = {"",	       "no semicolon", "6,1,2;msg",
					  "x,1,2,-;m", "6,1,2,;m",     "99999999999,1,2,-;m",
					  "6,,2,-;m"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct am_kmsg_record r;
		const char *why = NULL;

		cr_assert_eq(am_parse_kmsg_record(bad[i], strlen(bad[i]), &r, &why), -EINVAL,
			     "accepted '%s'", bad[i]);
		cr_assert_not_null(why);
	}
}

Test(kmsg, captured_records_counted_per_severity)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_kmsg, NULL, NULL, FIXTURES "/dev/real", &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_records_total", "severity", "warning"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_records_total", "severity", "notice"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_records_total", "severity", "info"), 26);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_records_total", "severity", "debug"), 2);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_records_total", "severity", "emerg"), 0);
	cr_assert_eq(count_metric(&s, "antimetal_kmsg_records_total"), 8);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_lost_records_total"), 0);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_malformed_records_total"), 0);
	am_metric_set_free(&s);
}

Test(kmsg, gaps_continuations_and_recent_records)
{
	static const char text[] = "6,10,100,-;first\n SUBSYSTEM=pci\n DEVICE=+pci:0000\n"
				   "3,11,200,-;second\n"
				   "garbage line\n"
				   "12,15,300,-;user message\n";
	char *dir = am_test_mkdtemp("kmsg");
	struct am_collect_roots roots = {.devfs = dir};
	struct am_kmsg_record out[8];
	struct am_metric_set s = {0};
	char path[512];
	void *st;

	snprintf(path, sizeof(path), "%s/kmsg", dir);
	cr_assert_eq(am_test_write_file(path, text, sizeof(text) - 1), 0);
	cr_assert_eq(am_collector_kmsg.init(&st, &roots), 0);
	cr_assert_eq(am_collector_kmsg.collect(st, &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_records_total", "severity", "err"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_records_total", "severity", "warning"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_records_total", "severity", "info"), 1);
	/* 12..14 never seen. */
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_lost_records_total"), 3);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_malformed_records_total"), 1);
	cr_assert_eq(am_kmsg_recent(st, 0, out, 8), 3);
	cr_assert_str_eq(out[0].msg, "first");
	cr_assert_str_eq(out[2].msg, "user message");
	cr_assert_eq(out[2].facility, 1);
	cr_assert_eq(am_kmsg_recent(st, 11, out, 8), 1);
	cr_assert_eq(out[0].seq, 15);
	cr_assert_eq(am_kmsg_recent(st, 0, out, 2), 2);
	/* A file is read once: a second cycle does not count it twice. */
	am_metric_set_reset(&s);
	cr_assert_eq(am_collector_kmsg.collect(st, &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_kmsg_records_total", "severity", "err"), 1);
	am_collector_kmsg.destroy(st);
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}

Test(kmsg, missing_device_fails_init)
{
	void *st = NULL;
	struct am_collect_roots roots = {.devfs = FIXTURES "/nonexistent"};

	cr_assert_eq(am_collector_kmsg.init(&st, &roots), -ENOENT);
}

/* A refused open of /dev/kmsg names its true cause: the capability when it is missing, the
 * device cgroup when the capability is held (a container that is not privileged). */
Test(kmsg, refusal_names_the_capability_or_the_device_cgroup)
{
	const int errs[] = {-EPERM, -EACCES};
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *held = am_kmsg_refusal_hint(errs[i], 1);

		cr_assert_str_eq(am_kmsg_refusal_hint(errs[i], 0), " (needs CAP_SYSLOG)");
		cr_assert(strstr(held, "CAP_SYSLOG is held"), "%s", held);
		cr_assert(strstr(held, "device cgroup refuses /dev/kmsg"), "%s", held);
		cr_assert(strstr(held, "privileged container"), "%s", held);
		cr_assert_null(strstr(held, "needs CAP_SYSLOG"), "%s", held);
		cr_assert(strstr(am_kmsg_refusal_hint(errs[i], -EPERM), "device cgroup"));
	}
	/* Other errors carry no hint: the device is missing, not refused. */
	cr_assert_str_eq(am_kmsg_refusal_hint(-ENOENT, 0), "");
	cr_assert_str_eq(am_kmsg_refusal_hint(-ENOENT, 1), "");
	cr_assert_str_eq(am_kmsg_refusal_hint_self(-ENXIO), "");
}
