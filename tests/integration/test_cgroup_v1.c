/* The cgroup collector on this machine's cgroup v1 hierarchies: a memory cgroup with a 64 MiB
 * limit holding a 16 MiB memory user, and a cpu cgroup with a quota of 0.1 CPU holding a
 * spinner. The collector's limit, quota and period equal the files; usage and throttling lie
 * between the file read just before and just after the collection (the cgroups are live). A
 * pids cgroup with pids.max 4 and a program forking past it: the refusals exported equal the
 * kernel's pids.events and what the program saw. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/parse/cgroup_read.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "collectors/system/collector.h"
#include "testutil.h"
#include "spawn.h"

#define HOT    AM_TEST_BUILD_DIR "/tests/workloads/hot"
#define HOG    AM_TEST_BUILD_DIR "/tests/workloads/mem_hog"
#define FORKS  AM_TEST_BUILD_DIR "/tests/workloads/fork_past"
#define MEMCG  "/sys/fs/cgroup/memory"
#define CPUCG  "/sys/fs/cgroup/cpu"
#define PIDCG  "/sys/fs/cgroup/pids"
#define ACCTCG "/sys/fs/cgroup/cpuacct"
#define UNICG  "/sys/fs/cgroup/unified"
#define LIMIT  (64ull << 20)

static char name[64]; /* "/am-cgtest-PID.scope": a unit, selected by default */
static char memdir[256], cpudir[256], piddir[256], acctdir[256], unidir[256]; /* "": not made */
static pid_t kids[2] = {-1, -1};
static int nchildren; /* MEMDIR/inner-N.scope made, N from 1 */

static void teardown(void)
{
	char child[320];
	int i;

	for (i = 1; i <= nchildren; i++) {
		snprintf(child, sizeof(child), "%s/inner-%d.scope", memdir, i);
		if (rmdir(child))
			cr_log_warn("rmdir %s: %s", child, strerror(errno));
	}
	nchildren = 0;

	for (i = 0; i < 2; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	/* The tasks are gone: the empty cgroups can be removed. */
	if (memdir[0] && rmdir(memdir))
		cr_log_warn("rmdir %s: %s", memdir, strerror(errno));
	if (cpudir[0] && rmdir(cpudir))
		cr_log_warn("rmdir %s: %s", cpudir, strerror(errno));
	if (piddir[0] && rmdir(piddir))
		cr_log_warn("rmdir %s: %s", piddir, strerror(errno));
	if (acctdir[0] && rmdir(acctdir))
		cr_log_warn("rmdir %s: %s", acctdir, strerror(errno));
	if (unidir[0] && rmdir(unidir))
		cr_log_warn("rmdir %s: %s", unidir, strerror(errno));
	memdir[0] = cpudir[0] = piddir[0] = acctdir[0] = unidir[0] = '\0';
}

static void write_str(const char *dir, const char *file, const char *s)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s), "write %s: %s", path,
		     strerror(errno));
	close(fd);
}

static uint64_t file_key(const char *dir, const char *file, const char *key)
{
	struct am_strbuf b = {0};
	char path[512];
	uint64_t v = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cr_assert_eq(am_test_read_file(path, &b), 0, "read %s", path);
	if (key)
		cr_assert_eq(am_parse_flat_keyed(b.data, key, &v), 0, "%s in %s", key, path);
	else
		v = strtoull(b.data, NULL, 10);
	am_strbuf_free(&b);
	return v;
}

/* Fork ARGV into cgroup DIR before it execs, so that every page and cycle is charged there. */
static pid_t start_in(const char *dir, char *const argv[])
{
	struct am_test_spawn_opts o = {.cgroup = dir};
	pid_t pid = am_test_spawn_opts(argv, &o);

	cr_assert_gt(pid, 0, "cannot start %s in %s", argv[0], dir);
	return pid;
}

static void make(char *dir, size_t len, const char *hierarchy)
{
	snprintf(dir, len, "%s%s", hierarchy, name);
	cr_assert_eq(mkdir(dir, 0755), 0, "mkdir %s: %s", dir, strerror(errno));
}

/* Poll up to 10 s for DIR/FILE (KEY) to reach AT_LEAST while the workload PID runs. */
static void wait_for(pid_t pid, const char *dir, const char *file, const char *key,
		     uint64_t at_least)
{
	int i, status;

	for (i = 0; i < 1000 && file_key(dir, file, key) < at_least; i++) {
		cr_assert_eq(waitpid(pid, &status, WNOHANG), 0,
			     "workload %d ended (status 0x%x) before %s/%s reached %llu", pid,
			     status, dir, file, (unsigned long long)at_least);
		am_test_sleep_ms(10);
	}
	cr_assert_geq(file_key(dir, file, key), at_least, "%s/%s %s", dir, file, key ? key : "");
}

static double value(const struct am_metric_set *s, const char *metric)
{
	size_t i;
	int j;

	for (i = 0; i < s->n; i++) {
		if (strcmp(am_metric_name(&s->items[i]), metric))
			continue;
		for (j = 0; j < s->items[i].nlabels; j++)
			if (!strcmp(s->items[i].labels[j].name, "cgroup") &&
			    !strcmp(s->items[i].labels[j].value, name))
				return s->items[i].value;
	}
	cr_assert_fail("%s{cgroup=\"%s\"} not collected", metric, name);
	return -1;
}

Test(cgroup_v1, limits_usage_and_throttling_exact, .fini = teardown, .timeout = 60)
{
	char *hog[] = {HOG, "16", NULL}, *hot[] = {HOT, "0", NULL}, v[32];
	struct am_metric_set s = {0};
	uint64_t use0, use1, thr0, thr1, tns0, tns1;
	struct stat st;
	void *state = NULL;

	memdir[0] = cpudir[0] = piddir[0] = acctdir[0] = '\0';
	cr_assert_eq(access(HOG, X_OK) | access(HOT, X_OK), 0,
		     "build the workloads first (make tests)");
	if (geteuid() != 0)
		cr_skip_test("skipped: needs root to create cgroups");
	if (stat(MEMCG "/memory.limit_in_bytes", &st) || stat(CPUCG "/cpu.cfs_quota_us", &st))
		cr_skip_test("skipped: no cgroup v1 memory and cpu hierarchies at " MEMCG
			     " and " CPUCG);
	snprintf(name, sizeof(name), "/am-cgtest-%d.scope", getpid());
	make(memdir, sizeof(memdir), MEMCG);
	make(cpudir, sizeof(cpudir), CPUCG);
	snprintf(v, sizeof(v), "%llu", LIMIT);
	write_str(memdir, "memory.limit_in_bytes", v);
	write_str(cpudir, "cpu.cfs_period_us", "100000");
	write_str(cpudir, "cpu.cfs_quota_us", "10000");

	kids[0] = start_in(memdir, hog);
	kids[1] = start_in(cpudir, hot);
	wait_for(kids[0], memdir, "memory.usage_in_bytes", NULL, 16ull << 20);
	/* A spinner at 0.1 CPU is throttled in its first period. */
	wait_for(kids[1], cpudir, "cpu.stat", "nr_throttled", 2);

	cr_assert_eq(am_collector_cgroup.init(&state, NULL), 0);
	use0 = file_key(memdir, "memory.usage_in_bytes", NULL);
	thr0 = file_key(cpudir, "cpu.stat", "nr_throttled");
	tns0 = file_key(cpudir, "cpu.stat", "throttled_time");
	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	use1 = file_key(memdir, "memory.usage_in_bytes", NULL);
	thr1 = file_key(cpudir, "cpu.stat", "nr_throttled");
	tns1 = file_key(cpudir, "cpu.stat", "throttled_time");
	am_collector_cgroup.destroy(state);

	cr_assert_eq(value(&s, "antimetal_cgroup_memory_limit_bytes"), (double)LIMIT);
	cr_assert_eq(value(&s, "antimetal_cgroup_memory_limit_bytes"),
		     (double)file_key(memdir, "memory.limit_in_bytes", NULL));
	cr_assert_geq(value(&s, "antimetal_cgroup_memory_current_bytes"),
		      (double)(use0 < use1 ? use0 : use1));
	cr_assert_leq(value(&s, "antimetal_cgroup_memory_current_bytes"),
		      (double)(use0 > use1 ? use0 : use1));
	cr_assert_geq(value(&s, "antimetal_cgroup_memory_current_bytes"), (double)(16ull << 20));
	cr_assert_eq(value(&s, "antimetal_cgroup_cpu_quota_cores"), 0.1);
	cr_assert_eq(value(&s, "antimetal_cgroup_cpu_period_seconds"), 0.1);
	cr_assert_gt(value(&s, "antimetal_cgroup_cpu_throttled_periods_total"), 0);
	cr_assert_geq(value(&s, "antimetal_cgroup_cpu_throttled_periods_total"), (double)thr0);
	cr_assert_leq(value(&s, "antimetal_cgroup_cpu_throttled_periods_total"), (double)thr1);
	/* throttled_time is in ns, the collector's seconds come from whole microseconds. */
	cr_assert_geq(value(&s, "antimetal_cgroup_cpu_throttled_seconds_total"),
		      (double)(tns0 / 1000) / 1e6);
	cr_assert_leq(value(&s, "antimetal_cgroup_cpu_throttled_seconds_total"),
		      (double)(tns1 / 1000) / 1e6);
	am_metric_set_free(&s);
}

/* Collect once into a fresh set and return the memory limit of the test cgroup. */
static double limit_now(void *state)
{
	struct am_metric_set s = {0};
	double v;

	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	v = value(&s, "antimetal_cgroup_memory_limit_bytes");
	am_metric_set_free(&s);
	return v;
}

/* The start of the tests that need only the memory hierarchy: skipped unless root with cgroup
 * v1 memory at MEMCG; NAME becomes /TAG-PID.scope (not made yet). */
static void memcg_test_start(const char *tag)
{
	struct stat st;

	memdir[0] = cpudir[0] = piddir[0] = acctdir[0] = unidir[0] = '\0';
	if (geteuid() != 0)
		cr_skip_test("skipped: needs root to create cgroups");
	if (stat(MEMCG "/memory.limit_in_bytes", &st))
		cr_skip_test("skipped: no cgroup v1 memory hierarchy at " MEMCG);
	snprintf(name, sizeof(name), "/%s-%d.scope", tag, getpid());
}

/* The collector keeps the cgroup's files open between cycles and re-reads them: a limit
 * written between two cycles is seen, and a cgroup removed and made again under the same path
 * (its kept files now dead) is read afresh, not reported from the old files or dropped. */
Test(cgroup_v1, kept_files_see_new_limits_and_a_remade_cgroup, .fini = teardown, .timeout = 60)
{
	void *state = NULL;

	memcg_test_start("am-cgkept");
	make(memdir, sizeof(memdir), MEMCG);
	write_str(memdir, "memory.limit_in_bytes", "67108864");
	cr_assert_eq(am_collector_cgroup.init(&state, NULL), 0);
	cr_assert_eq(limit_now(state), 67108864.0);
	write_str(memdir, "memory.limit_in_bytes", "33554432");
	cr_assert_eq(limit_now(state), 33554432.0, "a kept descriptor must be read anew");
	cr_assert_eq(rmdir(memdir), 0, "rmdir %s: %s", memdir, strerror(errno));
	cr_assert_eq(mkdir(memdir, 0755), 0, "mkdir %s: %s", memdir, strerror(errno));
	write_str(memdir, "memory.limit_in_bytes", "16777216");
	cr_assert_eq(limit_now(state), 16777216.0, "the remade cgroup must be read afresh");
	am_collector_cgroup.destroy(state);
}

/* This host's cgroup layout, as the collector finds it. */
static void host_layout(struct am_cgroup_layout *l)
{
	struct am_strbuf b = {0};
	const char *why = "";

	cr_assert_eq(am_procfs_read("/proc", "self/mountinfo", &b), 0);
	cr_assert_eq(am_parse_cgroup_layout(b.data, l, &why), 0, "%s", why);
	am_strbuf_free(&b);
}

/* A cgroup whose files are past the descriptor budget keeps its directories and opens its
 * files relative to them. Removed and made again under its path where no watch tells (the
 * reader alone, as behind a refused inotify watch), its kept directories are found dead and it
 * is read afresh: the new cgroup's limit, not its files reported absent. */
Test(cgroup_v1, kept_directories_past_the_budget_see_a_remade_cgroup, .fini = teardown,
     .timeout = 60)
{
	struct am_cgroup_keep keep = {.left = 0, .room = 64, .pseudo = true};
	struct am_cgroup_sample *out = calloc(1, sizeof(*out));
	struct am_strbuf b = {0};
	struct am_cgroup_layout l;
	struct am_cgroup_kept k;

	memcg_test_start("am-cgdirs");
	cr_assert_not_null(out);
	make(memdir, sizeof(memdir), MEMCG);
	write_str(memdir, "memory.limit_in_bytes", "67108864");
	host_layout(&l);
	am_cgroup_kept_init(&k);
	cr_assert_eq(am_cgroup_read_kept(&l, "", name, 100, &b, &k, &keep, out), 0);
	cr_assert_eq(out->mem_limit, 67108864);
	cr_assert_eq(k.n, 0, "no file descriptor was left to keep");
	cr_assert_geq(k.ndirs, 1, "the directories are kept instead");
	cr_assert_eq(keep.dirs, k.ndirs);
	cr_assert_eq(keep.room, 64 - k.ndirs);
	cr_assert_eq(rmdir(memdir), 0, "rmdir %s: %s", memdir, strerror(errno));
	cr_assert_eq(mkdir(memdir, 0755), 0, "mkdir %s: %s", memdir, strerror(errno));
	write_str(memdir, "memory.limit_in_bytes", "33554432");
	cr_assert_eq(am_cgroup_read_kept(&l, "", name, 100, &b, &k, &keep, out), 0);
	cr_assert(out->have & AM_CG_MEM_LIMIT, "the remade cgroup's files were taken as absent");
	cr_assert_eq(out->mem_limit, 33554432, "the remade cgroup must be read afresh");
	cr_assert(out->have & AM_CG_MEM_USAGE);
	keep.left = 64;
	cr_assert_eq(am_cgroup_read_kept(&l, "", name, 100, &b, &k, &keep, out), 0);
	cr_assert_gt(k.n, 0, "with room again its files are kept");
	cr_assert_eq(k.ndirs, 0, "and its directories let go");
	cr_assert_eq(keep.dirs, 0);
	am_cgroup_kept_close(&k, &keep);
	cr_assert_eq(keep.room, 64, "every descriptor given back");
	cr_assert_eq(keep.left, 64);
	am_strbuf_free(&b);
	free(out);
}

/* The value of METRIC without labels in S (the collector's own gauges). */
static double gauge(const struct am_metric_set *s, const char *metric)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(am_metric_name(&s->items[i]), metric) && !s->items[i].nlabels)
			return s->items[i].value;
	cr_assert_fail("%s not collected", metric);
	return -1;
}

/* Under a descriptor limit of 40 the collector keeps at most 20 descriptors (half a limit this
 * low): files up to keep_open (14), then the directories of the cgroups past them; every cgroup
 * is still read, and what it kept is closed when the collector ends. */
Test(cgroup_v1, the_descriptor_budget_holds_under_a_low_limit, .fini = teardown, .timeout = 60)
{
	const struct am_collect_roots roots = {.cgroup_keep_open = 14};
	struct rlimit saved, low = {.rlim_cur = 40};
	struct am_metric_set s = {0};
	char child[320];
	void *state = NULL;
	size_t i;
	int j, seen = 0, fds;

	memcg_test_start("am-cgbudget");
	make(memdir, sizeof(memdir), MEMCG);
	for (nchildren = 0; nchildren < 8;) {
		snprintf(child, sizeof(child), "%s/inner-%d.scope", memdir, nchildren + 1);
		cr_assert_eq(mkdir(child, 0755), 0, "mkdir %s: %s", child, strerror(errno));
		nchildren++;
	}
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low.rlim_max = saved.rlim_max;
	fds = am_test_open_fds();
	cr_assert_gt(fds, 0);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	cr_assert_eq(am_collector_cgroup.init(&state, &roots), 0);
	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	cr_assert_leq(
	    gauge(&s, "antimetal_cgroup_files_kept") + gauge(&s, "antimetal_cgroup_dirs_kept"), 20);
	cr_assert_gt(gauge(&s, "antimetal_cgroup_dirs_kept"), 0, "the cgroups past the files");
	for (i = 0; i < s.n; i++) {
		if (strcmp(am_metric_name(&s.items[i]), "antimetal_cgroup_memory_current_bytes"))
			continue;
		for (j = 0; j < s.items[i].nlabels; j++)
			if (!strcmp(s.items[i].labels[j].name, "cgroup") &&
			    !strncmp(s.items[i].labels[j].value, name, strlen(name)))
				seen++;
	}
	cr_assert_eq(seen, 1 + nchildren, "every cgroup read, kept or not");
	am_metric_set_free(&s);
	am_collector_cgroup.destroy(state);
	cr_assert_eq(am_test_open_fds(), fds, "every descriptor the collector kept is closed");
	/* Under this process's own limit, keep_open 2: two files, and directories at most as
	 * many, whatever room the limit leaves. */
	state = NULL;
	s = (struct am_metric_set){0};
	cr_assert_eq(
	    am_collector_cgroup.init(&state, &(struct am_collect_roots){.cgroup_keep_open = 2}), 0);
	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	cr_assert_eq(gauge(&s, "antimetal_cgroup_files_kept"), 2);
	cr_assert_eq(gauge(&s, "antimetal_cgroup_dirs_kept"), 2);
	am_metric_set_free(&s);
	am_collector_cgroup.destroy(state);
	cr_assert_eq(am_test_open_fds(), fds);
}

/* Whether the last collection of STATE has a series for cgroup PATH. */
static bool has_cgroup(void *state, const char *path)
{
	struct am_metric_set s = {0};
	bool found = false;
	size_t i;
	int j;

	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	for (i = 0; i < s.n && !found; i++)
		for (j = 0; j < s.items[i].nlabels; j++)
			if (!strcmp(s.items[i].labels[j].name, "cgroup") &&
			    !strcmp(s.items[i].labels[j].value, path))
				found = true;
	am_metric_set_free(&s);
	return found;
}

/* Between walks the collector trusts inotify: a cgroup made after a cycle, one made under a
 * cgroup that was a leaf, and their removal all show in the next cycle. */
Test(cgroup_v1, cgroups_made_and_removed_between_cycles_are_seen, .fini = teardown, .timeout = 60)
{
	char child[320], childpath[128];
	void *state = NULL;

	memcg_test_start("am-cgwatch");
	snprintf(childpath, sizeof(childpath), "%s/inner.scope", name);
	cr_assert_eq(am_collector_cgroup.init(&state, NULL), 0);
	cr_assert(!has_cgroup(state, name));
	cr_assert(!has_cgroup(state, name), "a second cycle reuses the walk");
	make(memdir, sizeof(memdir), MEMCG);
	cr_assert(has_cgroup(state, name), "made after the last walk");
	snprintf(child, sizeof(child), "%s/inner.scope", memdir);
	cr_assert_eq(mkdir(child, 0755), 0, "mkdir %s: %s", child, strerror(errno));
	cr_assert(has_cgroup(state, childpath), "made under what was a leaf");
	cr_assert_eq(rmdir(child), 0);
	cr_assert(!has_cgroup(state, childpath), "removed");
	cr_assert(has_cgroup(state, name));
	am_collector_cgroup.destroy(state);
}

/* The limits of the test cgroup in one collection of STATE: memory limit, quota in cores,
 * period, shares, pids limit. */
static void limits_now(void *state, double out[5])
{
	static const char *const names[] = {
	    "antimetal_cgroup_memory_limit_bytes", "antimetal_cgroup_cpu_quota_cores",
	    "antimetal_cgroup_cpu_period_seconds", "antimetal_cgroup_cpu_shares",
	    "antimetal_cgroup_pids_limit"};
	struct am_metric_set s = {0};
	int i;

	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	for (i = 0; i < 5; i++)
		out[i] = value(&s, names[i]);
	am_metric_set_free(&s);
}

static void limits_are(void *state, double mem, double cores, double period, double shares,
		       double pids, const char *when)
{
	double v[5];

	limits_now(state, v);
	cr_assert_eq(v[0], mem, "%s: memory limit %g", when, v[0]);
	cr_assert_eq(v[1], cores, "%s: quota %g cores", when, v[1]);
	cr_assert_eq(v[2], period, "%s: period %g s", when, v[2]);
	cr_assert_eq(v[3], shares, "%s: shares %g", when, v[3]);
	cr_assert_eq(v[4], pids, "%s: pids limit %g", when, v[4]);
}

/* Limit files are read again only after inotify reports a write in the cgroup's directory
 * (vfs_write's IN_MODIFY, which cgroupfs gives like any file system): every v1 limit written
 * between two cycles shows in the next, one written alone too, for a cgroup whose files are
 * kept open, for one past the descriptor budget whose directories are kept (keep_open 1) and
 * for one keeping nothing (keep_open 0). */
Test(cgroup_v1, every_limit_written_between_cycles_shows_in_the_next, .fini = teardown,
     .timeout = 60)
{
	const struct am_collect_roots one = {.cgroup_keep_open = 1}, none = {.cgroup_keep_open = 0};
	const struct am_collect_roots *roots[] = {NULL, &one, &none};
	struct stat st;
	int round;

	memcg_test_start("am-cglimits");
	if (stat(CPUCG "/cpu.cfs_quota_us", &st) || stat(PIDCG "/cgroup.procs", &st))
		cr_skip_test("skipped: no cgroup v1 cpu and pids hierarchies at " CPUCG
			     " and " PIDCG);
	make(memdir, sizeof(memdir), MEMCG);
	make(cpudir, sizeof(cpudir), CPUCG);
	make(piddir, sizeof(piddir), PIDCG);
	for (round = 0; round < 3; round++) {
		void *state = NULL;

		write_str(memdir, "memory.limit_in_bytes", "67108864");
		write_str(cpudir, "cpu.cfs_period_us", "100000");
		write_str(cpudir, "cpu.cfs_quota_us", "50000");
		write_str(cpudir, "cpu.shares", "512");
		write_str(piddir, "pids.max", "100");
		cr_assert_eq(am_collector_cgroup.init(&state, roots[round]), 0);
		limits_are(state, 67108864, 0.5, 0.1, 512, 100, "first cycle");
		limits_are(state, 67108864, 0.5, 0.1, 512, 100, "a cycle without writes");
		write_str(memdir, "memory.limit_in_bytes", "33554432");
		write_str(cpudir, "cpu.cfs_quota_us", "200000");
		write_str(cpudir, "cpu.shares", "2048");
		write_str(piddir, "pids.max", "1000");
		limits_are(state, 33554432, 2, 0.1, 2048, 1000, "all written");
		write_str(cpudir, "cpu.cfs_period_us", "50000");
		limits_are(state, 33554432, 4, 0.05, 2048, 1000, "the period alone written");
		write_str(piddir, "pids.max", "7");
		limits_are(state, 33554432, 4, 0.05, 2048, 7, "pids.max alone written");
		am_collector_cgroup.destroy(state);
	}
}

/* v1 user and system time come from cpuacct.stat (one file, in USER_HZ ticks, scaled by the
 * kernel to add up to the usage): with a spinner in a cpuacct cgroup, the collector's user time
 * lies between the file's just before and just after, and the usage between cpuacct.usage's. */
Test(cgroup_v1, user_and_system_time_from_cpuacct_stat, .fini = teardown, .timeout = 60)
{
	char *hot[] = {HOT, "0", NULL};
	struct am_metric_set s = {0};
	uint64_t u0, u1, n0, n1;
	long hz = sysconf(_SC_CLK_TCK);
	struct stat st;
	void *state = NULL;

	memcg_test_start("am-cgacct");
	cr_assert_eq(access(HOT, X_OK), 0, "build the workloads first (make tests)");
	if (stat(ACCTCG "/cpuacct.stat", &st) || stat(CPUCG "/cpu.shares", &st))
		cr_skip_test("skipped: no cgroup v1 cpu and cpuacct hierarchies at " CPUCG
			     " and " ACCTCG);
	/* In both, as systemd and the runtimes make them: cpuacct is read with cpu. */
	make(cpudir, sizeof(cpudir), CPUCG);
	make(acctdir, sizeof(acctdir), ACCTCG);
	kids[0] = start_in(acctdir, hot);
	wait_for(kids[0], acctdir, "cpuacct.stat", "user", 5);
	cr_assert_eq(am_collector_cgroup.init(&state, NULL), 0);
	u0 = file_key(acctdir, "cpuacct.stat", "user");
	n0 = file_key(acctdir, "cpuacct.usage", NULL);
	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	u1 = file_key(acctdir, "cpuacct.stat", "user");
	n1 = file_key(acctdir, "cpuacct.usage", NULL);
	am_collector_cgroup.destroy(state);
	cr_assert_geq(value(&s, "antimetal_cgroup_cpu_user_seconds_total"), (double)u0 / hz);
	cr_assert_leq(value(&s, "antimetal_cgroup_cpu_user_seconds_total"), (double)u1 / hz);
	cr_assert_geq(value(&s, "antimetal_cgroup_cpu_system_seconds_total"), 0);
	cr_assert_geq(value(&s, "antimetal_cgroup_cpu_usage_seconds_total"),
		      (double)(n0 / 1000) / 1e6);
	cr_assert_leq(value(&s, "antimetal_cgroup_cpu_usage_seconds_total"),
		      (double)(n1 / 1000) / 1e6);
	am_metric_set_free(&s);
}

/* The value of METRIC{cgroup=NAME, event=EVENT} in S, or -1 when there is none. */
static double event_value(const struct am_metric_set *s, const char *metric, const char *event)
{
	size_t i;
	int j, hits;

	for (i = 0; i < s->n; i++) {
		if (strcmp(am_metric_name(&s->items[i]), metric))
			continue;
		for (hits = 0, j = 0; j < s->items[i].nlabels; j++)
			hits += (!strcmp(s->items[i].labels[j].name, "cgroup") &&
				 !strcmp(s->items[i].labels[j].value, name)) ||
				(!strcmp(s->items[i].labels[j].name, "event") &&
				 !strcmp(s->items[i].labels[j].value, event));
		if (hits == 2)
			return s->items[i].value;
	}
	return -1;
}

/* One collection of STATE: the test cgroup's pids.events "max" as exported, asserting it has
 * no "max.imposed" (v2 only). */
static double pids_refusals_now(void *state)
{
	struct am_metric_set s = {0};
	double v;

	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	v = event_value(&s, "antimetal_cgroup_pids_events_total", "max");
	cr_assert_eq(event_value(&s, "antimetal_cgroup_pids_events_total", "max.imposed"), -1);
	am_metric_set_free(&s);
	return v;
}

/* pids.max 4 and a program trying 10 forks while holding its children: 3 succeed (with the
 * program, 4 tasks), 7 are refused. The exported count equals the kernel's pids.events and the
 * program's own count, read through the descriptor kept since the cycle before the forks. */
Test(cgroup_v1, pids_limit_refusals_equal_pids_events, .fini = teardown, .timeout = 60)
{
	char *forks[] = {FORKS, "10", NULL}, path[320];
	struct stat st;
	void *state = NULL;
	int status;

	memdir[0] = cpudir[0] = piddir[0] = acctdir[0] = '\0';
	cr_assert_eq(access(FORKS, X_OK), 0, "build the workloads first (make tests)");
	if (geteuid() != 0)
		cr_skip_test("skipped: needs root to create cgroups");
	if (stat(PIDCG "/cgroup.procs", &st))
		cr_skip_test("skipped: no cgroup v1 pids hierarchy at " PIDCG);
	snprintf(name, sizeof(name), "/am-cgpids-%d.scope", getpid());
	make(piddir, sizeof(piddir), PIDCG);
	snprintf(path, sizeof(path), "%s/pids.events", piddir);
	if (stat(path, &st))
		cr_skip_test("skipped: no pids.events (kernel before 4.8)");
	write_str(piddir, "pids.max", "4");
	cr_assert_eq(am_collector_cgroup.init(&state, NULL), 0);
	cr_assert_eq(pids_refusals_now(state), 0.0);
	cr_assert_eq(file_key(piddir, "pids.events", "max"), 0);
	kids[0] = start_in(piddir, forks);
	cr_assert_eq(am_test_wait_exit(kids[0], 20000, &status), 0, "fork_past did not end");
	kids[0] = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7,
		  "fork_past: status 0x%x, expected 7 forks refused", status);
	cr_assert_eq(file_key(piddir, "pids.events", "max"), 7);
	cr_assert_eq(pids_refusals_now(state), 7.0);
	cr_assert_eq(pids_refusals_now(state), (double)file_key(piddir, "pids.events", "max"));
	am_collector_cgroup.destroy(state);
}

/* A unit that is in the unified hierarchy too (systemd makes every unit there on a hybrid host)
 * takes its usage, user and system time from that hierarchy's cpu.stat, in µs, one file for
 * cpuacct's two: with a spinner in both, stopped so that the counters stand, the collector's
 * figures are the unified file's exactly (cpuacct.stat's user time is in 10 ms ticks). */
Test(cgroup_v1, cpu_time_from_the_unified_hierarchy_on_a_hybrid_host, .fini = teardown,
     .timeout = 60)
{
	char *hot[] = {HOT, "0", NULL};
	struct am_metric_set s = {0};
	struct stat st;
	void *state = NULL;
	char pid[16];

	memcg_test_start("am-cguni");
	cr_assert_eq(access(HOT, X_OK), 0, "build the workloads first (make tests)");
	if (stat(ACCTCG "/cpuacct.stat", &st) || stat(CPUCG "/cpu.shares", &st) ||
	    stat(UNICG "/cgroup.procs", &st) || stat(UNICG "/cpu.stat", &st))
		cr_skip_test("skipped: no hybrid layout (cgroup v1 cpu and cpuacct beside a "
			     "unified hierarchy at " UNICG ")");
	make(cpudir, sizeof(cpudir), CPUCG);
	make(acctdir, sizeof(acctdir), ACCTCG);
	make(unidir, sizeof(unidir), UNICG);
	kids[0] = start_in(acctdir, hot);
	snprintf(pid, sizeof(pid), "%d", kids[0]);
	write_str(unidir, "cgroup.procs", pid);
	write_str(cpudir, "cgroup.procs", pid);
	wait_for(kids[0], unidir, "cpu.stat", "user_usec", 50000);
	cr_assert_eq(kill(kids[0], SIGSTOP), 0);
	am_test_sleep_ms(100);
	cr_assert_eq(am_collector_cgroup.init(&state, NULL), 0);
	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	am_collector_cgroup.destroy(state);
	cr_assert_eq(value(&s, "antimetal_cgroup_cpu_usage_seconds_total"),
		     (double)file_key(unidir, "cpu.stat", "usage_usec") / 1e6);
	cr_assert_eq(value(&s, "antimetal_cgroup_cpu_user_seconds_total"),
		     (double)file_key(unidir, "cpu.stat", "user_usec") / 1e6);
	cr_assert_eq(value(&s, "antimetal_cgroup_cpu_system_seconds_total"),
		     (double)file_key(unidir, "cpu.stat", "system_usec") / 1e6);
	cr_assert_eq(value(&s, "antimetal_cgroup_cpu_periods_total"),
		     (double)file_key(cpudir, "cpu.stat", "nr_periods"), "v1 cpu.stat still read");
	am_metric_set_free(&s);
}
