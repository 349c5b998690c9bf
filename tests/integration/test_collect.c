/* `antimetal-agent collect` end to end on this machine: the exposition passes promtool, live
 * figures agree with /proc read directly around the run, a broken file disables only its
 * collector, and the kmsg, cgroup and processes collectors see real kernel activity. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "promtool_lint.h"

#include "collectors/system/collector.h"
#include "collectors/system/kmsg.h"
#include "collectors/parse/parsers.h"
#include "json_check.h"
#include "testutil.h"

#define AGENT	 AM_TEST_BUILD_DIR "/antimetal-agent"
#define FIXTURES AM_TEST_SRC_DIR "/tests/fixtures"

static int run_agent(char *const argv[], struct am_strbuf *out, struct am_strbuf *err)
{
	int st = am_test_run(argv, out, err);

	cr_assert_neq(st, -1, "could not run the agent");
	cr_assert(WIFEXITED(st), "agent died: status %d; stderr: %s", st,
		  err && err->data ? err->data : "");
	return WEXITSTATUS(st);
}

/* The value of the first sample line starting with PREFIX ("name{labels} "), or NAN. */
static double sample(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	while (p && *p) {
		if (!strncmp(p, prefix, n))
			return strtod(p + n, NULL);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NAN;
}

static unsigned long long proc_value(const char *file, const char *key)
{
	struct am_strbuf b = {0};
	unsigned long long v = 0;
	const char *p;

	cr_assert_eq(am_test_read_file(file, &b), 0);
	p = strstr(b.data, key);
	cr_assert_not_null(p, "%s has no %s", file, key);
	v = strtoull(p + strlen(key), NULL, 10);
	am_strbuf_free(&b);
	return v;
}

Test(collect, all_passes_promtool)
{
	char *argv[] = {AGENT, "collect", "--all", NULL};
	struct am_strbuf out = {0}, err = {0}, chk = {0};
	char *dir = am_test_mkdtemp("collect"), path[512], cmd[1024];
	int rc;

	if (access("/usr/bin/promtool", X_OK))
		cr_skip_test("skipped: promtool (Debian package prometheus) not installed");
	rc = run_agent(argv, &out, &err);
	cr_assert_eq(rc, 0, "collect --all failed: %s", err.data ? err.data : "");
	cr_assert_gt(out.len, 1000);
	snprintf(path, sizeof(path), "%s/all.prom", dir);
	cr_assert_eq(am_test_write_file(path, out.data, out.len), 0);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s/lint.txt 2>&1", path, dir);
	rc = system(cmd);
	snprintf(path, sizeof(path), "%s/lint.txt", dir);
	am_test_read_file(path, &chk);
	cr_assert(WIFEXITED(rc), "promtool did not run");
	cr_assert(lint_only_node_exporter_names(chk.data ? chk.data : ""),
		  "promtool found something to fix: %s", chk.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	am_strbuf_free(&chk);
	am_test_rmtree(dir);
	free(dir);
}

Test(collect, live_values_match_proc)
{
	char *argv[] = {AGENT, "collect", "memory", "cpu", "disk", "network", "load", NULL};
	struct am_strbuf out = {0};
	unsigned long long ctxt0, ctxt1, btime, memtotal, lo0, lo1;
	struct am_strbuf dev = {0};
	double v;

	ctxt0 = proc_value("/proc/stat", "\nctxt ");
	am_test_read_file("/proc/1/net/dev", &dev);
	lo0 = strtoull(strstr(dev.data, "lo:") + 3, NULL, 10);
	cr_assert_eq(run_agent(argv, &out, NULL), 0);
	ctxt1 = proc_value("/proc/stat", "\nctxt ");
	am_strbuf_reset(&dev);
	am_test_read_file("/proc/1/net/dev", &dev);
	lo1 = strtoull(strstr(dev.data, "lo:") + 3, NULL, 10);
	btime = proc_value("/proc/stat", "\nbtime ");
	memtotal = proc_value("/proc/meminfo", "MemTotal:");

	cr_assert_eq(sample(out.data, "node_memory_MemTotal_bytes "), (double)memtotal * 1024);
	cr_assert_eq(sample(out.data, "node_boot_time_seconds "), (double)btime);
	v = sample(out.data, "node_context_switches_total ");
	cr_assert(v >= (double)ctxt0 && v <= (double)ctxt1, "ctxt %f not in [%llu, %llu]", v, ctxt0,
		  ctxt1);
	v = sample(out.data, "node_network_receive_bytes_total{device=\"lo\"} ");
	cr_assert(v >= (double)lo0 && v <= (double)lo1, "lo rx %f not in [%llu, %llu]", v, lo0,
		  lo1);
	cr_assert(sample(out.data, "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} ") > 0);
	cr_assert(sample(out.data, "node_load1 ") >= 0);
	am_strbuf_free(&out);
	am_strbuf_free(&dev);
}

Test(collect, json_is_valid_and_interval_gives_rates)
{
	char *argv[] = {AGENT, "collect", "cpu", "--format", "json", "--interval", "300", NULL};
	struct am_strbuf out = {0};
	const char *p;
	double busy;

	cr_assert_eq(run_agent(argv, &out, NULL), 0);
	cr_assert(am_test_json_valid(out.data, out.len), "invalid JSON: %s", out.data);
	p = strstr(out.data, "\"name\":\"antimetal_cpu_host_busy_ratio\"");
	cr_assert_not_null(p, "no utilisation after --interval");
	p = strstr(p, "\"value\":");
	cr_assert_not_null(p);
	busy = strtod(p + 8, NULL);
	cr_assert(busy >= 0 && busy <= 1, "busy ratio %f", busy);
	am_strbuf_free(&out);
}

Test(collect, unknown_collector_is_a_usage_error)
{
	char *argv[] = {AGENT, "collect", "nosuch", NULL};
	char *argv2[] = {AGENT, "collect", NULL};
	char *argv3[] = {AGENT, "collect", "cpu", "--format", "xml", NULL};
	struct am_strbuf err = {0};

	cr_assert_eq(run_agent(argv, NULL, &err), 2);
	cr_assert_not_null(strstr(err.data, "unknown collector 'nosuch'"), "%s", err.data);
	cr_assert_not_null(strstr(err.data, "load, cpu, memory"), "%s", err.data);
	cr_assert_eq(run_agent(argv2, NULL, NULL), 2);
	cr_assert_eq(run_agent(argv3, NULL, NULL), 2);
	am_strbuf_free(&err);
}

Test(collect, broken_file_disables_only_its_collector)
{
	char *dir = am_test_mkdtemp("collect-bad"), cmd[1024];
	char *argv[] = {AGENT,
			"collect",
			"--all",
			"--procfs",
			dir,
			"--sysfs",
			FIXTURES "/sys/real",
			"--devfs",
			FIXTURES "/dev/real",
			NULL};
	struct am_strbuf out = {0}, err = {0};

	snprintf(cmd, sizeof(cmd), "cp -r %s/proc/real/. %s/ && cp %s/proc/bad/garbled/meminfo %s/",
		 FIXTURES, dir, FIXTURES, dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(run_agent(argv, &out, &err), 1);
	cr_assert_not_null(strstr(err.data, "meminfo"), "error does not name the file: %s",
			   err.data);
	cr_assert_null(strstr(out.data, "node_memory_MemTotal_bytes "));
	cr_assert_eq(sample(out.data, "node_load1 "), 1.05);
	/* vmstat belongs to the memory collector, which stopped at meminfo. */
	cr_assert(isnan(sample(out.data, "node_vmstat_pgfault ")));
	cr_assert_not_null(strstr(out.data, "node_cpu_seconds_total{cpu=\"1\""));
	cr_assert_not_null(strstr(out.data, "antimetal_kmsg_records_total{severity=\"info\"} 26"));
	cr_assert_not_null(strstr(out.data, "antimetal_hardware_present{component=\"numa\"} 1"));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	am_test_rmtree(dir);
	free(dir);
}

Test(collect, kmsg_sees_a_record_written_now)
{
	struct am_collect_roots roots = {.procfs = "/proc", .sysfs = "/sys", .devfs = "/dev"};
	struct am_metric_set s = {0};
	struct am_kmsg_record rec[AM_KMSG_RECENT];
	char msg[128], want[96];
	size_t n, i;
	void *st;
	bool found = false;
	int fd;

	if (geteuid())
		cr_skip_test("skipped: writing and reading /dev/kmsg needs root");
	cr_assert_eq(am_collector_kmsg.init(&st, &roots), 0);
	cr_assert_eq(am_collector_kmsg.collect(st, &s), 0); /* drain the backlog */
	snprintf(want, sizeof(want), "antimetal-collect-test-%d-%ld", getpid(), (long)time(NULL));
	/* The newline finalises the record; without it the kernel keeps it open for continuation.
	 */
	snprintf(msg, sizeof(msg), "<4>%s\n", want);
	fd = open("/dev/kmsg", O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
	close(fd);
	am_metric_set_reset(&s);
	cr_assert_eq(am_collector_kmsg.collect(st, &s), 0);
	n = am_kmsg_recent(st, 0, rec, AM_KMSG_RECENT);
	for (i = 0; i < n; i++) {
		if (strstr(rec[i].msg, want)) {
			found = true;
			cr_assert_eq(rec[i].severity, 4);
			cr_assert_eq(rec[i].facility, 1, "userspace writes are LOG_USER");
		}
	}
	cr_assert(found, "record '%s' not among the %zu recent ones", want, n);
	am_collector_kmsg.destroy(st);
	am_metric_set_free(&s);
}

/* The root cgroup's CPU usage in microseconds from the file the collector reads: v1
 * cpuacct.usage (ns) where cpuacct is on v1, else the unified cpu.stat's usage_usec. */
static uint64_t root_usage_usec(const struct am_cgroup_layout *l)
{
	const char *v1 = am_cgroup_layout_v1(l, "cpuacct");
	struct am_strbuf b = {0};
	char path[512];
	uint64_t v = 0;

	snprintf(path, sizeof(path), "%s/%s", v1 ? v1 : l->v2_mount,
		 v1 ? "cpuacct.usage" : "cpu.stat");
	cr_assert_eq(am_test_read_file(path, &b), 0, "read %s", path);
	if (v1)
		cr_assert_eq(am_parse_cgroup_value(b.data, &v, NULL), 0);
	else
		cr_assert_eq(am_parse_flat_keyed(b.data, "usage_usec", &v), 0);
	am_strbuf_free(&b);
	return v1 ? v / 1000 : v;
}

Test(collect, cgroup_root_matches_cpu_stat)
{
	struct am_collect_roots roots = {.procfs = "/proc", .sysfs = "/sys", .devfs = "/dev"};
	struct am_cgroup_layout l;
	struct am_strbuf mi = {0};
	struct am_metric_set s = {0};
	uint64_t before, after;
	size_t i;
	void *st;
	bool found = false;

	cr_assert_eq(am_test_read_file("/proc/self/mountinfo", &mi), 0);
	cr_assert_eq(am_parse_cgroup_layout(mi.data, &l, NULL), 0);
	if (l.mode == AM_CGROUP_NONE)
		cr_skip_test("skipped: no cgroup mount on this machine");
	if (!am_cgroup_layout_v1(&l, "cpuacct") && !l.v2_mount[0])
		cr_skip_test("skipped: neither a v1 cpuacct nor a cgroup2 hierarchy");
	before = root_usage_usec(&l);
	cr_assert_eq(am_collector_cgroup.init(&st, &roots), 0);
	cr_assert_eq(am_collector_cgroup.collect(st, &s), 0);
	after = root_usage_usec(&l);
	for (i = 0; i < s.n; i++) {
		const struct am_metric *m = &s.items[i];

		if (strcmp(am_metric_name(m), "antimetal_cgroup_cpu_usage_seconds_total") ||
		    strcmp(m->labels[0].value, "/"))
			continue;
		found = true;
		cr_assert(m->value >= before / 1e6 && m->value <= after / 1e6,
			  "root usage %f not in [%f, %f]", m->value, before / 1e6, after / 1e6);
	}
	cr_assert(found, "no root cgroup usage");
	am_collector_cgroup.destroy(st);
	am_metric_set_free(&s);
	am_strbuf_free(&mi);
}

/* Wait until PID has used N more clock ticks of CPU than now: the second sample then has CPU
 * time to rate, however busy the machine is. */
static void wait_cpu_ticks(pid_t pid, unsigned long long n)
{
	long long deadline = am_test_now_ms() + 20000;
	unsigned long long start = 0, now;
	bool first = true;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (;;) {
		struct am_strbuf b = {0};
		struct am_pid_stat ps;

		cr_assert_eq(am_test_read_file(path, &b), 0);
		cr_assert_eq(am_parse_pid_stat(b.data, &ps, NULL), 0);
		am_strbuf_free(&b);
		now = ps.utime + ps.stime;
		if (first)
			start = now, first = false;
		if (now >= start + n)
			return;
		cr_assert_lt(am_test_now_ms(), deadline, "%d ran %llu ticks in 20 s", pid,
			     now - start);
		am_test_sleep_ms(20); /* re-read the counter: the loop ends on its value */
	}
}

/* The processes collector over a root holding only a symlink to one real /proc/PID: real
 * kernel figures, without competing with whatever else runs on the machine for the top 10. */
Test(collect, processes_measure_a_busy_child)
{
	char *dir = am_test_mkdtemp("processes-live"), link[512], target[64], pid_s[16];
	struct am_collect_roots roots = {.procfs = dir, .sysfs = "/sys", .devfs = "/dev"};
	struct am_metric_set s = {0};
	struct am_strbuf stat = {0};
	struct am_pid_stat ps;
	double hz = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	bool found_cpu = false, found_total = false, found_rss = false;
	int wst;
	size_t i;
	pid_t pid;
	void *st;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		volatile unsigned long x = 0;

		alarm(20);
		for (;;)
			x++;
	}
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	snprintf(link, sizeof(link), "%s/%d", dir, pid);
	snprintf(target, sizeof(target), "/proc/%d", pid);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(am_collector_processes.init(&st, &roots), 0);
	cr_assert_eq(am_collector_processes.collect(st, &s), 0);
	wait_cpu_ticks(pid, 5);
	/* Stopped, its counters are frozen: what the collector reports must equal the kernel's. */
	kill(pid, SIGSTOP);
	cr_assert_eq(waitpid(pid, &wst, WUNTRACED), pid);
	am_metric_set_reset(&s);
	cr_assert_eq(am_collector_processes.collect(st, &s), 0);
	snprintf(target, sizeof(target), "/proc/%d/stat", pid);
	cr_assert_eq(am_test_read_file(target, &stat), 0);
	cr_assert_eq(am_parse_pid_stat(stat.data, &ps, NULL), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (i = 0; i < s.n; i++) {
		const struct am_metric *m = &s.items[i];

		if (m->nlabels < 1 || strcmp(m->labels[0].value, pid_s))
			continue;
		if (!strcmp(am_metric_name(m), "antimetal_process_cpu_ratio")) {
			found_cpu = true;
			/* One spinning thread: more than nothing, at most one CPU (tick jitter). */
			cr_assert(m->value > 0 && m->value < 1.1, "cpu ratio %f", m->value);
		} else if (!strcmp(am_metric_name(m), "antimetal_process_cpu_seconds_total")) {
			found_total = true;
			cr_assert_eq(m->value, (double)(ps.utime + ps.stime) / hz);
		} else if (!strcmp(am_metric_name(m), "antimetal_process_resident_memory_bytes")) {
			found_rss = true;
			cr_assert_eq(m->value, (double)ps.rss_pages * page);
		}
	}
	cr_assert(found_cpu && found_total && found_rss, "child %d missing (%d %d %d)", pid,
		  found_cpu, found_total, found_rss);
	for (i = 0; i < s.n; i++)
		if (!strcmp(am_metric_name(&s.items[i]), "antimetal_processes_state"))
			cr_assert_str_eq(s.items[i].labels[0].value, "T");
	am_collector_processes.destroy(st);
	am_metric_set_free(&s);
	am_strbuf_free(&stat);
	am_test_rmtree(dir);
	free(dir);
}
