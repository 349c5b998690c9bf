/* The cgroup collector on a cgroup2 hierarchy with controllers: the qemu guests of
 * `make test-kernels` (this machine's v2 hierarchy has none, its controllers being on v1: the
 * tests skip, saying so). cpu, memory, pids and io are enabled at the hierarchy's root and a
 * unit is made under it with memory.max, memory.high, memory.low, memory.min, cpu.max,
 * cpu.weight and pids.max.
 * - A memory user and a throttled spinner in it, read by `antimetal-agent collect cgroup`: the
 *   limits equal what was written; usage, throttling and pressure lie between the file read just
 *   before and just after the collection (the cgroup is live); what stands still (pids, events)
 *   is equal. memory.peak (5.19+) and the cpu "full" pressure line (5.13+) are checked per
 *   kernel: where the kernel lacks the file or line, the series must be absent, not 0.
 * - An OOM kill under `antimetal-agent run`: the JSON event names the victim's pid and the
 *   cgroup, antimetal_oom_kills_total counts it, and /metrics' memory.events, peak and pressure
 *   of the emptied cgroup (now still) equal the files.
 * - Controllers a parent enables and disables between cycles (files kept open) show up and
 *   vanish; memory.low and memory.min written between cycles show in the next.
 * - A program forking past pids.max: pids.events' refusals exported exactly.
 * - An OOM kill of a group (memory.oom.group 1): every task of the cgroup killed, and
 *   memory.events' oom_group_kill (5.13+) and oom_kill exported exactly. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/system/collector.h"
#include "core/cgroup_path.h"
#include "http_get.h"
#include "spawn.h"
#include "testutil.h"

#define AGENT	  AM_TEST_BUILD_DIR "/antimetal-agent"
#define HOT	  AM_TEST_BUILD_DIR "/tests/workloads/hot"
#define HOG	  AM_TEST_BUILD_DIR "/tests/workloads/mem_hog"
#define FORKS	  AM_TEST_BUILD_DIR "/tests/workloads/fork_past"
#define LIMIT	  (64ull << 20)
#define HIGH	  (48ull << 20)
#define LOW	  (8ull << 20)
#define MIN	  (4ull << 20)
#define HOG_MIB	  16
#define OOM_LIMIT (32ull << 20)
#define PIDS_MAX  16
#define WEIGHT	  50
#define ABSENT	  (-1.0)

static char root[256];	/* the cgroup2 mount */
static char cg[512];	/* the test's cgroup directory, "" when not made */
static char name[64];	/* its path below ROOT, as the agent labels it */
static char child[640]; /* a cgroup made under it, "" when none */
static pid_t kids[3] = {-1, -1, -1};
static char *tmp; /* the daemon's configuration and output */

static void teardown(void)
{
	am_test_reap_all(kids, 3);
	if (child[0] && rmdir(child))
		cr_log_warn("rmdir %s: %s", child, strerror(errno));
	child[0] = '\0';
	/* The tasks are gone: the empty cgroup can be removed. */
	if (cg[0] && rmdir(cg))
		cr_log_warn("rmdir %s: %s", cg, strerror(errno));
	if (tmp) {
		am_test_rmtree(tmp);
		free(tmp);
		tmp = NULL;
	}
}

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s), "write '%s' to %s: %s", s, path,
		     strerror(errno));
	close(fd);
}

static void set(const char *file, const char *s)
{
	char path[640];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	write_str(path, s);
}

/* The test cgroup's FILE in B ("" when absent); 0 or -errno. */
static int text_of(const char *file, struct am_strbuf *b)
{
	char path[640];
	int err;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	am_strbuf_reset(b);
	err = am_test_read_file(path, b);
	if (!b->data)
		am_strbuf_puts(b, "");
	return err;
}

/* The line of TEXT that starts with PREFIX, or NULL. */
static const char *line_with(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p;

	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, prefix, n))
			return p;
	return NULL;
}

/* The test cgroup's FILE read by the test itself, not the agent's parsers: one number (KEY
 * NULL), a "KEY N" line, or for *.pressure files the total= of the "some" or "full" line. */
static uint64_t stat_of(const char *file, const char *key)
{
	struct am_strbuf b = {0};
	char prefix[64];
	const char *p;
	uint64_t v;

	cr_assert_eq(text_of(file, &b), 0, "read %s/%s", cg, file);
	snprintf(prefix, sizeof(prefix), "%s ", key ? key : "");
	p = key ? line_with(b.data, prefix) : b.data;
	cr_assert_not_null(p, "no '%s' line in %s/%s:\n%s", key, cg, file, b.data);
	if (strstr(file, ".pressure")) {
		p = strstr(p, "total=");
		cr_assert_not_null(p, "no total= in %s", file);
		p += 6;
	} else if (key) {
		p += strlen(prefix);
	}
	v = strtoull(p, NULL, 10);
	am_strbuf_free(&b);
	return v;
}

static bool has_line(const char *file, const char *prefix)
{
	struct am_strbuf b = {0};
	bool found = !text_of(file, &b) && line_with(b.data, prefix);

	am_strbuf_free(&b);
	return found;
}

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int a = 0, b = 0;

	cr_assert_eq(uname(&u), 0);
	sscanf(u.release, "%d.%d", &a, &b);
	return a > major || (a == major && b >= minor);
}

/* A cgroup2 hierarchy whose root offers cpu, memory, pids and io, enabled for its children; the
 * test's cgroup NAME (/TAG-PID.scope: a unit, selected by default) is made in it. */
static void make_v2_cgroup(const char *tag)
{
	static const char *const want[] = {"cpu", "memory", "pids", "io"};
	struct am_strbuf ctl = {0};
	char path[512], have[256], *save = NULL, *w;
	unsigned found = 0;
	size_t i;

	cg[0] = '\0';
	if (geteuid() != 0)
		cr_skip_test("skipped: needs root to create cgroups");
	if (am_cgroup2_mount(NULL, root, sizeof(root)))
		cr_skip_test("skipped: no cgroup2 hierarchy mounted");
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	am_test_read_file(path, &ctl);
	snprintf(have, sizeof(have), "%s", ctl.data ? ctl.data : "");
	am_strbuf_free(&ctl);
	have[strcspn(have, "\n")] = '\0';
	snprintf(path, sizeof(path), "%s", have);
	for (w = strtok_r(path, " ", &save); w; w = strtok_r(NULL, " ", &save))
		for (i = 0; i < 4; i++)
			found |= (unsigned)!strcmp(w, want[i]) << i;
	if (found != 0xf)
		cr_skip_test(
		    "skipped: the cgroup2 hierarchy at %s offers the controllers '%s', not "
		    "all of cpu, memory, pids and io (here they are on cgroup v1 "
		    "hierarchies; the guests of make test-kernels run this test)",
		    root, have);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	write_str(path, "+cpu +memory +pids +io");
	snprintf(name, sizeof(name), "/%s-%d.scope", tag, getpid());
	snprintf(cg, sizeof(cg), "%s%s", root, name);
	cr_assert_eq(mkdir(cg, 0755), 0, "mkdir %s: %s", cg, strerror(errno));
}

/* Whether the test cgroup has FILE (a controller's, or one this kernel has). */
static bool cg_has(const char *file)
{
	char path[640];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return !access(path, F_OK);
}

/* Fork ARGV into the test cgroup before it execs, so that every page and cycle is charged
 * there. */
static pid_t start_in(char *const argv[])
{
	struct am_test_spawn_opts o = {.cgroup = cg};
	pid_t pid = am_test_spawn_opts(argv, &o);

	cr_assert_gt(pid, 0, "cannot start %s in %s", argv[0], cg);
	return pid;
}

/* Poll up to 20 s for FILE's KEY to reach AT_LEAST while the workload PID runs. */
static void wait_for(pid_t pid, const char *file, const char *key, uint64_t at_least)
{
	int i, status;

	for (i = 0; i < 2000 && stat_of(file, key) < at_least; i++) {
		cr_assert_eq(waitpid(pid, &status, WNOHANG), 0,
			     "workload %d ended (status 0x%x) before %s %s reached %llu", pid,
			     status, file, key ? key : "", (unsigned long long)at_least);
		am_test_sleep_ms(10);
	}
	cr_assert_geq(stat_of(file, key), at_least, "%s/%s %s", cg, file, key ? key : "");
}

/* The value of METRIC for the test cgroup (and LABEL="VAL" when LABEL is set) in the Prometheus
 * exposition TEXT, or ABSENT. */
static double metric(const char *text, const char *metric, const char *label, const char *val)
{
	char head[192], pair[96];
	const char *p, *eol, *close;

	snprintf(head, sizeof(head), "%s{cgroup=\"%s\",", metric, name);
	snprintf(pair, sizeof(pair), ",%s=\"%s\"", label ? label : "", val ? val : "");
	for (p = text; (p = line_with(p, head)) != NULL; p = eol) {
		eol = strchr(p, '\n');
		eol = eol ? eol : p + strlen(p);
		close = memchr(p, '}', (size_t)(eol - p));
		cr_assert_not_null(close, "%.*s", (int)(eol - p), p);
		if (!label || memmem(p, (size_t)(close - p), pair, strlen(pair)))
			return strtod(close + 2, NULL);
	}
	return ABSENT;
}

/* V, the agent's, lies between the file's readings LO and HI taken around the collection. */
#define BETWEEN(what, v, lo, hi)                                                                   \
	cr_assert((v) >= (double)(lo) && (v) <= (double)(hi),                                      \
		  "%s = %.17g, outside [%.17g, %.17g] read from the file around the collection",   \
		  what, (double)(v), (double)(lo), (double)(hi))

/* What moves while the workloads run, read from the files. */
struct snap {
	uint64_t mem, anon, usage, user, sys, periods, throttled, thr_usec, peak;
	uint64_t psi[3][2]; /* cpu, memory, io x some, full (us) */
};

static const char *const psi_file[3] = {"cpu.pressure", "memory.pressure", "io.pressure"};
static const char *const psi_res[3] = {"cpu", "memory", "io"};

static void snap(struct snap *s, bool peak, bool cpu_full)
{
	int i;

	s->mem = stat_of("memory.current", NULL);
	s->anon = stat_of("memory.stat", "anon");
	s->usage = stat_of("cpu.stat", "usage_usec");
	s->user = stat_of("cpu.stat", "user_usec");
	s->sys = stat_of("cpu.stat", "system_usec");
	s->periods = stat_of("cpu.stat", "nr_periods");
	s->throttled = stat_of("cpu.stat", "nr_throttled");
	s->thr_usec = stat_of("cpu.stat", "throttled_usec");
	s->peak = peak ? stat_of("memory.peak", NULL) : 0;
	for (i = 0; i < 3; i++) {
		s->psi[i][0] = stat_of(psi_file[i], "some");
		s->psi[i][1] = i == 0 && !cpu_full ? 0 : stat_of(psi_file[i], "full");
	}
}

/* Every memory.events counter of the test cgroup in T equals the file (they stand still);
 * oom_group_kill (5.13+) is absent where the file lacks it. */
static void check_events(const char *t)
{
	static const char *const events[] = {"low", "high", "max", "oom", "oom_kill"};
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		cr_assert_eq(metric(t, "antimetal_cgroup_memory_events_total", "event", events[i]),
			     (double)stat_of("memory.events", events[i]), "memory.events %s",
			     events[i]);
	cr_assert_eq(has_line("memory.events", "oom_group_kill "), kernel_at_least(5, 13),
		     "memory.events has oom_group_kill from 5.13");
	if (has_line("memory.events", "oom_group_kill "))
		cr_assert_eq(
		    metric(t, "antimetal_cgroup_memory_events_total", "event", "oom_group_kill"),
		    (double)stat_of("memory.events", "oom_group_kill"));
	else
		cr_assert_eq(
		    metric(t, "antimetal_cgroup_memory_events_total", "event", "oom_group_kill"),
		    ABSENT);
}

/* The limits are what was written, exactly. */
static void check_limits(const char *t)
{
	cr_assert_eq(metric(t, "antimetal_cgroup_memory_limit_bytes", NULL, NULL), (double)LIMIT);
	cr_assert_eq(stat_of("memory.max", NULL), LIMIT);
	cr_assert_eq(metric(t, "antimetal_cgroup_memory_high_bytes", NULL, NULL), (double)HIGH);
	cr_assert_eq(stat_of("memory.high", NULL), HIGH);
	cr_assert_eq(metric(t, "antimetal_cgroup_memory_low_bytes", NULL, NULL), (double)LOW);
	cr_assert_eq(stat_of("memory.low", NULL), LOW);
	cr_assert_eq(metric(t, "antimetal_cgroup_memory_min_bytes", NULL, NULL), (double)MIN);
	cr_assert_eq(stat_of("memory.min", NULL), MIN);
	cr_assert_eq(metric(t, "antimetal_cgroup_cpu_quota_cores", NULL, NULL), 0.1);
	cr_assert_eq(metric(t, "antimetal_cgroup_cpu_period_seconds", NULL, NULL), 0.1);
	cr_assert_eq(metric(t, "antimetal_cgroup_cpu_weight", NULL, NULL), (double)WEIGHT);
	cr_assert_eq(metric(t, "antimetal_cgroup_cpu_shares", NULL, NULL), ABSENT, "v1 only");
	cr_assert_eq(metric(t, "antimetal_cgroup_pids_limit", NULL, NULL), (double)PIDS_MAX);
	if (cg_has("memory.swap.max"))
		cr_assert_eq(metric(t, "antimetal_cgroup_memory_swap_limit_bytes", NULL, NULL),
			     0.0);
}

static void check_usage(const char *t, const struct snap *a, const struct snap *b)
{
	double mem = metric(t, "antimetal_cgroup_memory_current_bytes", NULL, NULL);

	BETWEEN("memory.current", mem, a->mem < b->mem ? a->mem : b->mem,
		a->mem > b->mem ? a->mem : b->mem);
	cr_assert(mem >= (double)(HOG_MIB << 20) && mem <= (double)LIMIT, "memory %.0f", mem);
	BETWEEN("memory.stat anon", metric(t, "antimetal_cgroup_memory_stat_bytes", "type", "anon"),
		a->anon < b->anon ? a->anon : b->anon, a->anon > b->anon ? a->anon : b->anon);
	/* memory.stat lags memory.current by the per-CPU batches not yet folded in (5.10: 37
	 * pages short of the hog's 16 MiB). */
	cr_assert_geq(metric(t, "antimetal_cgroup_memory_stat_bytes", "type", "anon"),
		      (double)((HOG_MIB - 1) << 20));
	BETWEEN("usage_usec", metric(t, "antimetal_cgroup_cpu_usage_seconds_total", NULL, NULL),
		(double)a->usage / 1e6, (double)b->usage / 1e6);
	BETWEEN("user_usec", metric(t, "antimetal_cgroup_cpu_user_seconds_total", NULL, NULL),
		(double)a->user / 1e6, (double)b->user / 1e6);
	BETWEEN("system_usec", metric(t, "antimetal_cgroup_cpu_system_seconds_total", NULL, NULL),
		(double)a->sys / 1e6, (double)b->sys / 1e6);
	BETWEEN("nr_periods", metric(t, "antimetal_cgroup_cpu_periods_total", NULL, NULL),
		a->periods, b->periods);
	BETWEEN("nr_throttled",
		metric(t, "antimetal_cgroup_cpu_throttled_periods_total", NULL, NULL), a->throttled,
		b->throttled);
	cr_assert_geq(a->throttled, 2);
	BETWEEN("throttled_usec",
		metric(t, "antimetal_cgroup_cpu_throttled_seconds_total", NULL, NULL),
		(double)a->thr_usec / 1e6, (double)b->thr_usec / 1e6);
	cr_assert_gt(a->thr_usec, 0);
	/* The hog and the spinner, neither of which forks. */
	cr_assert_eq(metric(t, "antimetal_cgroup_pids", NULL, NULL), 2.0);
	cr_assert_eq(stat_of("pids.current", NULL), 2);
	/* Nothing forked: no refusal, as pids.events says. */
	cr_assert_eq(metric(t, "antimetal_cgroup_pids_events_total", "event", "max"),
		     (double)stat_of("pids.events", "max"));
	cr_assert_eq(stat_of("pids.events", "max"), 0);
}

/* memory.peak exists from 5.19: before, no series at all, not a 0. */
static void check_peak(const char *t, bool peak, const struct snap *a, const struct snap *b)
{
	double v = metric(t, "antimetal_cgroup_memory_peak_bytes", NULL, NULL);

	cr_assert_eq(cg_has("memory.peak"), peak, "memory.peak is there from 5.19");
	if (!peak) {
		cr_assert_eq(v, ABSENT, "this kernel has no memory.peak, yet the agent gave %.0f",
			     v);
		return;
	}
	BETWEEN("memory.peak", v, a->peak, b->peak);
	cr_assert(v >= (double)(HOG_MIB << 20) && v <= (double)LIMIT, "peak %.0f", v);
}

/* Pressure per cgroup: some for cpu, memory and io, full for memory and io, and for cpu from
 * 5.13 (absent before); full never above some; the throttled spinner stalls on the CPU. */
static void check_psi(const char *t, bool cpu_full, const struct snap *a, const struct snap *b)
{
	int i;

	for (i = 0; i < 3; i++) {
		double some = metric(t, "antimetal_cgroup_pressure_waiting_seconds_total",
				     "resource", psi_res[i]);
		double full = metric(t, "antimetal_cgroup_pressure_stalled_seconds_total",
				     "resource", psi_res[i]);

		BETWEEN(psi_file[i], some, (double)a->psi[i][0] / 1e6, (double)b->psi[i][0] / 1e6);
		if (i == 0 && !cpu_full) {
			cr_assert_eq(full, ABSENT, "cpu.pressure has no full line before 5.13");
			continue;
		}
		BETWEEN(psi_file[i], full, (double)a->psi[i][1] / 1e6, (double)b->psi[i][1] / 1e6);
		cr_assert_leq(full, some, "%s: full above some", psi_file[i]);
	}
	cr_assert_gt(a->psi[0][0], 0, "a throttled spinner, yet no cpu pressure");
}

/* io.stat per device: there is none to read where the guest has no block device. */
static void check_io(const char *t)
{
	struct am_strbuf b = {0};

	cr_assert_eq(text_of("io.stat", &b), 0);
	if (!b.data[0]) {
		cr_log_info("io per device not checked: io.stat is empty (no block device was "
			    "used; the test-kernels guests have none, their block drivers being "
			    "modules the initramfs does not carry)");
		cr_assert_eq(metric(t, "antimetal_cgroup_io_read_bytes_total", NULL, NULL), ABSENT);
	}
	am_strbuf_free(&b);
}

Test(cgroup_v2, limits_usage_throttling_and_pressure_exact, .fini = teardown, .timeout = 90)
{
	char mib[16], *hog[] = {HOG, mib, NULL}, *hot[] = {HOT, "0", NULL};
	char *argv[] = {AGENT, "collect", "cgroup", "--format", "prom", NULL};
	bool peak = kernel_at_least(5, 19), cpu_full = kernel_at_least(5, 13);
	struct am_strbuf out = {0}, err = {0};
	struct snap a, b;
	char v[32];
	int status;

	cr_assert_eq(access(HOG, X_OK) | access(HOT, X_OK), 0, "build the workloads (make tests)");
	make_v2_cgroup("am-cgv2");
	snprintf(mib, sizeof(mib), "%d", HOG_MIB);
	snprintf(v, sizeof(v), "%llu", LIMIT);
	set("memory.max", v);
	snprintf(v, sizeof(v), "%llu", HIGH);
	set("memory.high", v);
	snprintf(v, sizeof(v), "%llu", LOW);
	set("memory.low", v);
	snprintf(v, sizeof(v), "%llu", MIN);
	set("memory.min", v);
	set("cpu.max", "10000 100000");
	snprintf(v, sizeof(v), "%d", WEIGHT);
	set("cpu.weight", v);
	snprintf(v, sizeof(v), "%d", PIDS_MAX);
	set("pids.max", v);
	if (cg_has("memory.swap.max"))
		set("memory.swap.max", "0");
	cr_assert_eq(has_line("cpu.pressure", "full "), cpu_full, "cpu.pressure's full line");

	kids[0] = start_in(hog);
	kids[1] = start_in(hot);
	wait_for(kids[0], "memory.current", NULL, HOG_MIB << 20);
	/* A spinner at 0.1 CPU is throttled in its first period, and stalls while it is. */
	wait_for(kids[1], "cpu.stat", "nr_throttled", 2);
	wait_for(kids[1], "cpu.pressure", "some", 1);

	snap(&a, peak, cpu_full);
	status = am_test_run(argv, &out, &err);
	snap(&b, peak, cpu_full);
	cr_assert_eq(status, 0, "collect cgroup: status 0x%x\n%s", status, err.data);
	check_limits(out.data);
	check_usage(out.data, &a, &b);
	check_peak(out.data, peak, &a, &b);
	check_psi(out.data, cpu_full, &a, &b);
	check_io(out.data);
	/* Below memory.high and memory.max: no event yet, as the file says. */
	check_events(out.data);
	cr_assert_eq(stat_of("memory.events", "oom_kill"), 0);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* `antimetal-agent run` with the cgroup collector every 200 ms and OOM events, on PORT. */
static pid_t start_agent(int port)
{
	char cfg[512], text[1024];
	char *argv[] = {AGENT, "run", "--config", cfg, NULL};

	tmp = am_test_mkdtemp("cgv2");
	cr_assert_not_null(tmp);
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", tmp);
	snprintf(text, sizeof(text),
		 "hostname: test-host\nhttp:\n  address: 127.0.0.1\n  port: %d\n"
		 "collectors:\n  enabled: false\n  cgroup:\n    enabled: true\n"
		 "    interval: 200ms\nexecsnoop:\n  enabled: false\n"
		 "profiler:\n  enabled: false\noom:\n  enabled: true\n"
		 "jsonl:\n  path: %s/agent.jsonl\n",
		 port, tmp);
	cr_assert_eq(am_test_write_file(cfg, text, strlen(text)), 0);
	return am_test_spawn_log(argv, tmp, "agent");
}

/* /metrics of the agent on PORT into B. */
static void scrape(int port, struct am_strbuf *b)
{
	struct am_http_response r;

	cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 5000, &r), 0);
	cr_assert_eq(r.status, 200);
	am_strbuf_reset(b);
	am_strbuf_puts(b, r.body.data ? r.body.data : "");
	am_http_response_free(&r);
}

/* Scrape until METRIC{LABEL="VAL"} of the test cgroup equals WANT (10 s at most). */
static void scrape_until(int port, struct am_strbuf *b, const char *m, const char *label,
			 const char *val, double want)
{
	long long deadline = am_test_now_ms() + 10000;

	do {
		scrape(port, b);
		if (metric(b->data, m, label, val) == want)
			return;
		am_test_sleep_ms(50);
	} while (am_test_now_ms() < deadline);
	cr_assert_fail("%s{cgroup=\"%s\",%s=\"%s\"} never became %g:\n%s", m, name,
		       label ? label : "", val ? val : "", want, b->data);
}

/* antimetal_oom_kills_total of the test cgroup in TEXT, or ABSENT. */
static double kills_in(const char *text)
{
	char series[192];
	const char *p;

	snprintf(series, sizeof(series),
		 "antimetal_oom_kills_total{cgroup=\"%s\",container_id=\"\"} ", name);
	p = line_with(text, series);
	return p ? strtod(p + strlen(series), NULL) : ABSENT;
}

/* The JSON line of the OOM event for VICTIM in the daemon's output, asserted to name the
 * cgroup and its limit. */
static void check_event(pid_t victim, struct am_strbuf *log)
{
	char path[512], needle[256];
	struct am_strbuf lines = {0};
	const char *line;
	size_t len;

	snprintf(path, sizeof(path), "%s/agent.jsonl", tmp);
	snprintf(needle, sizeof(needle), "\"pid\":%d,", victim);
	cr_assert(am_test_wait_file_text(path, needle, 10000, kids[2]),
		  "no OOM event for pid %d; agent log:\n%s", victim,
		  am_test_log_of(tmp, "agent", log));
	cr_assert_eq(am_test_read_file(path, &lines), 0);
	len = am_test_line_with(lines.data, needle, &line);
	cr_log_info("%.*s", (int)len, line);
	am_test_line_has(line, len, "\"source\":\"oom\",\"event\":{");
	snprintf(needle, sizeof(needle), "\"cgroup\":\"%s\"", name);
	am_test_line_has(line, len, needle);
	snprintf(needle, sizeof(needle), "\"memory_limit_bytes\":%llu", OOM_LIMIT);
	am_test_line_has(line, len, needle);
	am_test_line_has(line, len, "\"comm\":\"mem_hog\"");
	am_strbuf_free(&lines);
}

/* The emptied cgroup stands still: every memory event, the peak and the pressure totals on
 * /metrics equal the files. */
static void check_after_kill(const char *t)
{
	bool peak = kernel_at_least(5, 19);

	check_events(t);
	cr_assert_eq(stat_of("memory.events", "oom_kill"), 1);
	cr_assert_geq(stat_of("memory.events", "oom"), 1);
	cr_assert_geq(stat_of("memory.events", "max"), 1);
	cr_assert_eq(metric(t, "antimetal_cgroup_pids", NULL, NULL), 0.0);
	cr_assert_eq(cg_has("memory.peak"), peak, "memory.peak is there from 5.19");
	if (peak) {
		cr_assert_eq(metric(t, "antimetal_cgroup_memory_peak_bytes", NULL, NULL),
			     (double)stat_of("memory.peak", NULL));
		cr_assert(stat_of("memory.peak", NULL) > OOM_LIMIT / 2 &&
			      stat_of("memory.peak", NULL) <= OOM_LIMIT,
			  "peak %llu", (unsigned long long)stat_of("memory.peak", NULL));
	} else {
		cr_assert_eq(metric(t, "antimetal_cgroup_memory_peak_bytes", NULL, NULL), ABSENT);
	}
	cr_assert_eq(
	    metric(t, "antimetal_cgroup_pressure_waiting_seconds_total", "resource", "memory"),
	    (double)stat_of("memory.pressure", "some") / 1e6);
	cr_assert_eq(
	    metric(t, "antimetal_cgroup_pressure_stalled_seconds_total", "resource", "memory"),
	    (double)stat_of("memory.pressure", "full") / 1e6);
	/* Reclaim ran, in vain, before the kill: a stall. */
	cr_assert_gt(stat_of("memory.pressure", "some"), 0);
}

Test(cgroup_v2, oom_kill_event_counter_and_memory_events_exact, .fini = teardown, .timeout = 90)
{
	char *hog[] = {HOG, "1024", NULL}, v[32], path[512];
	struct am_strbuf t = {0}, log = {0};
	int port = am_http_free_port(), status;
	pid_t victim;

	cr_assert_eq(access(HOG, X_OK), 0, "build the workloads (make tests)");
	make_v2_cgroup("am-cgv2oom");
	snprintf(v, sizeof(v), "%llu", OOM_LIMIT);
	set("memory.max", v);
	/* With swap on, the limit alone would let the hog swap instead of dying. */
	if (cg_has("memory.swap.max"))
		set("memory.swap.max", "0");
	kids[2] = start_agent(port);
	snprintf(path, sizeof(path), "%s/agent.log", tmp);
	cr_assert(am_test_wait_file_text(path, "oom: watching OOM kills", 15000, kids[2]),
		  "agent log:\n%s", am_test_log_of(tmp, "agent", &log));
	scrape_until(port, &t, "antimetal_cgroup_memory_limit_bytes", NULL, NULL,
		     (double)OOM_LIMIT);
	cr_assert_eq(metric(t.data, "antimetal_cgroup_memory_events_total", "event", "oom_kill"),
		     0.0);
	cr_assert_eq(kills_in(t.data), ABSENT, "a kill counted before any happened");

	victim = kids[0] = start_in(hog);
	cr_assert_eq(waitpid(victim, &status, 0), victim);
	kids[0] = -1;
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the hog was not OOM-killed (status 0x%x)", status);
	check_event(victim, &log);
	scrape_until(port, &t, "antimetal_cgroup_memory_events_total", "event", "oom_kill", 1.0);
	cr_assert_eq(kills_in(t.data), 1.0);
	/* A cycle after the kill's is wholly after it: the cgroup is empty and still. */
	scrape_until(port, &t, "antimetal_cgroup_pids", NULL, NULL, 0.0);
	check_after_kill(t.data);
	am_strbuf_free(&t);
	am_strbuf_free(&log);
}

/* METRIC of cgroup PATH in S, or ABSENT. */
static double value_in(const struct am_metric_set *s, const char *metric, const char *path)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(am_metric_name(&s->items[i]), metric) && s->items[i].nlabels &&
		    !strcmp(s->items[i].labels[0].name, "cgroup") &&
		    !strcmp(s->items[i].labels[0].value, path))
			return s->items[i].value;
	return ABSENT;
}

/* What one cycle of STATE gives for cgroup PATH. */
struct seen {
	double usage, current, limit, pids_limit, weight, low, min, garbled;
};

static struct seen cycle(void *state, const char *path)
{
	struct am_metric_set s = {0};
	struct seen v;
	size_t i;

	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	v.usage = value_in(&s, "antimetal_cgroup_cpu_usage_seconds_total", path);
	v.current = value_in(&s, "antimetal_cgroup_memory_current_bytes", path);
	v.limit = value_in(&s, "antimetal_cgroup_memory_limit_bytes", path);
	v.pids_limit = value_in(&s, "antimetal_cgroup_pids_limit", path);
	v.weight = value_in(&s, "antimetal_cgroup_cpu_weight", path);
	v.low = value_in(&s, "antimetal_cgroup_memory_low_bytes", path);
	v.min = value_in(&s, "antimetal_cgroup_memory_min_bytes", path);
	v.garbled = ABSENT;
	for (i = 0; i < s.n; i++)
		if (!strcmp(am_metric_name(&s.items[i]), "antimetal_cgroup_files_garbled_total"))
			v.garbled = s.items[i].value;
	am_metric_set_free(&s);
	return v;
}

static void set_in(const char *dir, const char *file, const char *s)
{
	char path[768];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	write_str(path, s);
}

/* A v2 parent decides which controllers its children have, and may change its mind while the
 * collector keeps the child's files open: controllers enabled after a cycle show up in the
 * next, with the limits written since; disabled ones vanish (their kept files dead), and one
 * enabled again starts from its defaults (no limit: no series). No file reads as garbled. */
Test(cgroup_v2, controllers_enabled_and_disabled_between_cycles_are_seen, .fini = teardown,
     .timeout = 60)
{
	char path[160];
	void *state = NULL;
	struct seen v;

	make_v2_cgroup("am-cgv2ctl");
	snprintf(path, sizeof(path), "%s/inner.scope", name);
	snprintf(child, sizeof(child), "%s/inner.scope", cg);
	cr_assert_eq(mkdir(child, 0755), 0, "mkdir %s: %s", child, strerror(errno));
	cr_assert_eq(am_collector_cgroup.init(&state, NULL), 0);
	v = cycle(state, path);
	cr_assert_neq(v.usage, ABSENT, "cpu.stat is a core file: every cgroup has it");
	cr_assert(v.current == ABSENT && v.limit == ABSENT && v.pids_limit == ABSENT &&
		      v.weight == ABSENT,
		  "controllers the parent has not enabled: %g %g %g %g", v.current, v.limit,
		  v.pids_limit, v.weight);

	set("cgroup.subtree_control", "+memory +pids +cpu");
	set_in(child, "memory.max", "8388608");
	set_in(child, "pids.max", "4");
	set_in(child, "cpu.weight", "200");
	v = cycle(state, path);
	cr_assert(v.current >= 0 && v.limit == 8388608.0 && v.pids_limit == 4.0 &&
		      v.weight == 200.0,
		  "enabled after a cycle: %g %g %g %g", v.current, v.limit, v.pids_limit, v.weight);
	set_in(child, "memory.max", "4194304");
	cr_assert_eq(cycle(state, path).limit, 4194304.0, "a kept file must be read anew");
	/* Defaults, then the protections written between two cycles show in the next (they are
	 * read only after a write: inotify's IN_MODIFY) and stand in a cycle without writes. */
	cr_assert(v.low == 0.0 && v.min == 0.0, "default protections: %g %g", v.low, v.min);
	set_in(child, "memory.low", "2097152");
	set_in(child, "memory.min", "1048576");
	v = cycle(state, path);
	cr_assert(v.low == 2097152.0 && v.min == 1048576.0, "written: %g %g", v.low, v.min);
	v = cycle(state, path);
	cr_assert(v.low == 2097152.0 && v.min == 1048576.0, "no write: %g %g", v.low, v.min);
	set_in(child, "memory.low", "max");
	v = cycle(state, path);
	cr_assert(v.low == ABSENT && v.min == 1048576.0, "low max: %g %g", v.low, v.min);

	set("cgroup.subtree_control", "-memory -pids -cpu");
	v = cycle(state, path);
	cr_assert_neq(v.usage, ABSENT);
	cr_assert(v.current == ABSENT && v.limit == ABSENT && v.pids_limit == ABSENT &&
		      v.weight == ABSENT,
		  "disabled: %g %g %g %g", v.current, v.limit, v.pids_limit, v.weight);

	set("cgroup.subtree_control", "+memory");
	v = cycle(state, path);
	cr_assert(v.current >= 0 && v.limit == ABSENT, "enabled again: %g %g", v.current, v.limit);
	cr_assert_eq(v.garbled, 0.0);
	am_collector_cgroup.destroy(state);
}

/* The value of METRIC{cgroup=NAME, event=EVENT} in one cycle of STATE, or ABSENT. */
static double event_now(void *state, const char *metric, const char *event)
{
	struct am_metric_set s = {0};
	double v = ABSENT;
	size_t i;
	int j, hits;

	cr_assert_eq(am_collector_cgroup.collect(state, &s), 0);
	for (i = 0; i < s.n && v == ABSENT; i++) {
		if (strcmp(am_metric_name(&s.items[i]), metric))
			continue;
		for (hits = 0, j = 0; j < s.items[i].nlabels; j++)
			hits += (!strcmp(s.items[i].labels[j].name, "cgroup") &&
				 !strcmp(s.items[i].labels[j].value, name)) ||
				(!strcmp(s.items[i].labels[j].name, "event") &&
				 !strcmp(s.items[i].labels[j].value, event));
		if (hits == 2)
			v = s.items[i].value;
	}
	am_metric_set_free(&s);
	return v;
}

/* pids.max 4 and a program trying 10 forks while holding its children: 3 succeed, 7 are
 * refused. pids.events' max (before 6.12 the refused forks of the cgroup's tasks, from 6.12 the
 * hits of its own limit: 7 either way) and, from 6.12, max.imposed (7) are exported exactly. */
Test(cgroup_v2, pids_limit_refusals_equal_pids_events, .fini = teardown, .timeout = 60)
{
	char *forks[] = {FORKS, "10", NULL};
	void *state = NULL;
	int status;

	cr_assert_eq(access(FORKS, X_OK), 0, "build the workloads (make tests)");
	make_v2_cgroup("am-cgv2pids");
	set("pids.max", "4");
	cr_assert_eq(am_collector_cgroup.init(&state, NULL), 0);
	cr_assert_eq(event_now(state, "antimetal_cgroup_pids_events_total", "max"), 0.0);
	kids[0] = start_in(forks);
	cr_assert_eq(am_test_wait_exit(kids[0], 20000, &status), 0, "fork_past did not end");
	kids[0] = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7,
		  "fork_past: status 0x%x, expected 7 forks refused", status);
	cr_assert_eq(stat_of("pids.events", "max"), 7);
	cr_assert_eq(event_now(state, "antimetal_cgroup_pids_events_total", "max"), 7.0);
	if (has_line("pids.events", "max.imposed ")) {
		cr_assert_eq(stat_of("pids.events", "max.imposed"), 7);
		cr_assert_eq(event_now(state, "antimetal_cgroup_pids_events_total", "max.imposed"),
			     7.0);
	} else {
		cr_assert_eq(event_now(state, "antimetal_cgroup_pids_events_total", "max.imposed"),
			     ABSENT, "this kernel's pids.events has no max.imposed");
	}
	am_collector_cgroup.destroy(state);
}

/* memory.oom.group 1: the OOM killer kills every task of the cgroup, the spinner beside the
 * hog too. memory.events counts one group kill (5.13+) and at least two kills: the group's
 * scan kills the victim again, counted a second time, when it has not yet let go of its memory
 * (oom_kill_memcg_member, 6.1). The exported counters equal the file. */
Test(cgroup_v2, oom_group_kill_counted_exactly, .fini = teardown, .timeout = 60)
{
	char *hog[] = {HOG, "1024", NULL}, *hot[] = {HOT, "0", NULL}, v[32];
	void *state = NULL;
	uint64_t kills;
	int status, i;

	cr_assert_eq(access(HOG, X_OK) | access(HOT, X_OK), 0, "build the workloads (make tests)");
	make_v2_cgroup("am-cgv2grp");
	if (!cg_has("memory.oom.group"))
		cr_skip_test("skipped: no memory.oom.group (kernel before 4.19)");
	snprintf(v, sizeof(v), "%llu", OOM_LIMIT);
	set("memory.max", v);
	if (cg_has("memory.swap.max"))
		set("memory.swap.max", "0");
	set("memory.oom.group", "1");
	set("cpu.max", "10000 100000"); /* the spinner beside the hog, throttled */
	cr_assert_eq(am_collector_cgroup.init(&state, NULL), 0);
	cr_assert_eq(event_now(state, "antimetal_cgroup_memory_events_total", "oom_kill"), 0.0);
	kids[1] = start_in(hot);
	kids[0] = start_in(hog);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
		cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			  "%s was not OOM-killed with its group (status 0x%x)",
			  i ? "hot" : "mem_hog", status);
		kids[i] = -1;
	}
	kills = stat_of("memory.events", "oom_kill");
	cr_log_info("memory.events oom_kill %llu after the group kill", (unsigned long long)kills);
	cr_assert(kills == 2 || kills == 3, "oom_kill %llu: two tasks, the victim perhaps twice",
		  (unsigned long long)kills);
	cr_assert_eq(event_now(state, "antimetal_cgroup_memory_events_total", "oom_kill"),
		     (double)kills);
	cr_assert_eq(stat_of("memory.events", "oom_kill"), kills, "it stands still");
	if (kernel_at_least(5, 13)) {
		cr_assert_eq(stat_of("memory.events", "oom_group_kill"), 1);
		cr_assert_eq(
		    event_now(state, "antimetal_cgroup_memory_events_total", "oom_group_kill"),
		    1.0);
	} else {
		cr_assert_eq(
		    event_now(state, "antimetal_cgroup_memory_events_total", "oom_group_kill"),
		    ABSENT);
	}
	am_collector_cgroup.destroy(state);
}
