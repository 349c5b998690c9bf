/* Every parser against the empty, truncated and garbled variants of the captured fixtures
 * (tests/fixtures/proc/bad, made by tests/fixtures/make_variants.py): no crash (the sanitizer
 * build runs this too), a clear error, nothing half-added to the output. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

typedef int (*parse_fn)(const char *text, struct am_metric_set *out, const char **why);

static int p_sockstat(const char *t, struct am_metric_set *o, const char **w)
{
	return am_parse_sockstat(t, 4096, o, w);
}

static int p_psi(const char *t, struct am_metric_set *o, const char **w)
{
	struct am_psi p;

	(void)o;
	return am_parse_psi(t, &p, w);
}

static int p_stat(const char *t, struct am_metric_set *o, const char **w)
{
	struct am_stat_sample s = {0};
	int err = am_parse_stat(t, &s, w);

	if (!err)
		am_stat_emit(&s, NULL, 100, o);
	am_stat_sample_free(&s);
	return err;
}

static int p_pid_stat(const char *t, struct am_metric_set *o, const char **w)
{
	struct am_pid_stat p;

	(void)o;
	return am_parse_pid_stat(t, &p, w);
}

static int p_mountinfo(const char *t, struct am_metric_set *o, const char **w)
{
	char mnt[4096];
	int err = am_parse_mountinfo_cgroup2(t, mnt, sizeof(mnt), w);

	(void)o;
	if (err == -ENOENT && w)
		*w = "no cgroup2 mount";
	return err;
}

static int p_kmsg(const char *t, struct am_metric_set *o, const char **w)
{
	struct am_kmsg_record r;

	(void)o;
	return am_parse_kmsg_record(t, strlen(t), &r, w);
}

static int p_file_nr(const char *t, struct am_metric_set *o, const char **w)
{
	uint64_t a, m;

	(void)o;
	return am_parse_file_nr(t, &a, &m, w);
}

static int p_softnet(const char *t, struct am_metric_set *o, const char **w)
{
	struct am_softnet_cpu c[64];
	size_t n;

	(void)o;
	return am_parse_softnet(t, c, 64, &n, w);
}

static int p_conntrack(const char *t, struct am_metric_set *o, const char **w)
{
	static const char *const names[2] = {"found", "drop"};
	uint64_t sums[2], present;

	(void)o;
	return am_parse_conntrack_stat(t, names, 2, sums, &present, w);
}

static int p_udp(const char *t, struct am_metric_set *o, const char **w)
{
	uint64_t tx, rx;

	(void)o;
	return am_parse_udp_queues(t, &tx, &rx, w);
}

static int p_mounts(const char *t, struct am_metric_set *o, const char **w)
{
	struct am_mount *m = NULL;
	size_t n;
	int err = am_parse_mounts(t, &m, &n, w);

	(void)o;
	if (!err && !n) {
		err = -EINVAL;
		if (w)
			*w = "no mounts";
	}
	free(m);
	return err;
}

static const struct {
	const char *file;
	parse_fn fn;
} parsers[] = {
    {"loadavg", am_parse_loadavg},
    {"stat", p_stat},
    {"meminfo", am_parse_meminfo},
    {"vmstat", am_parse_vmstat},
    {"diskstats", am_parse_diskstats},
    {"1/net/dev", am_parse_net_dev},
    {"1/net/snmp", am_parse_net_snmp},
    {"1/net/netstat", am_parse_net_snmp},
    {"1/net/sockstat", p_sockstat},
    {"pressure/cpu", p_psi},
    {"pressure/memory", p_psi},
    {"pressure/io", p_psi},
    {"cpuinfo", am_parse_cpuinfo},
    {"self/mountinfo", p_mountinfo},
    {"1/stat", p_pid_stat},
    {"kmsg", p_kmsg},
    {"sys/fs/file-nr", p_file_nr},
    {"net/softnet_stat", p_softnet},
    {"net/stat/nf_conntrack", p_conntrack},
    {"1/net/udp", p_udp},
    {"1/mounts", p_mounts},
};

static void run_variant(const char *variant, int must_fail)
{
	size_t i;

	for (i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
		struct am_metric_set s = {0};
		const char *why = NULL;
		char rel[256], *t;
		int err;

		snprintf(rel, sizeof(rel), "proc/bad/%s/%s", variant, parsers[i].file);
		t = fixture(rel);
		err = parsers[i].fn(t, &s, &why);
		if (must_fail)
			cr_expect_lt(err, 0, "%s: %s parsed", variant, parsers[i].file);
		if (err < 0) {
			cr_expect_not_null(why, "%s: %s failed without a reason", variant,
					   parsers[i].file);
			cr_expect_eq(s.n, 0, "%s: %s left %zu metrics after failing", variant,
				     parsers[i].file, s.n);
		}
		am_metric_set_free(&s);
		free(t);
	}
}

Test(parsers_bad, empty_files_fail_cleanly)
{
	run_variant("empty", 1);
}

Test(parsers_bad, garbled_files_fail_cleanly)
{
	run_variant("garbled", 1);
}

Test(parsers_bad, truncated_files_never_crash_or_half_parse)
{
	run_variant("truncated", 0);
}

Test(parsers_bad, captured_originals_all_parse)
{
	size_t i;

	for (i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
		struct am_metric_set s = {0};
		char rel[256], *t;

		snprintf(rel, sizeof(rel), "%s/%s",
			 strcmp(parsers[i].file, "kmsg") ? "proc/real" : "dev/real",
			 parsers[i].file);
		t = fixture(rel);
		cr_expect_eq(parsers[i].fn(t, &s, NULL), 0, "%s did not parse", rel);
		am_metric_set_free(&s);
		free(t);
	}
}
