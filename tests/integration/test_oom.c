/* OOM kills end to end on a memory cgroup: the v1 memory hierarchy where one is mounted (this
 * machine), else a cgroup2 hierarchy with the memory controller (the qemu guests of
 * `make test-kernels`). A cgroup with a 32 MiB limit, a memory hog in it, and the real
 * `antimetal-agent run`. The kill must come out as a JSON line naming the cgroup, the victim's pid
 * and the limit exactly, and antimetal_oom_kills_total for that cgroup must go from absent to 1:
 * once through the oom:mark_victim tracepoint (BPF), once through the kernel log
 * (ANTIMETAL_OOM_SOURCE=kmsg). */
#include <bpf/btf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cgroup_path.h"
#include "http_get.h"
#include "testutil.h"

#define AGENT AM_TEST_BUILD_DIR "/antimetal-agent"
#define HOG   AM_TEST_BUILD_DIR "/tests/workloads/mem_hog"
#define MEMCG "/sys/fs/cgroup/memory"
#define LIMIT (32u << 20)

static pid_t agent_pid = -1;
static char *dir;
static char cg[384];   /* the test's memory cgroup directory, "" when none */
static char root[256]; /* the hierarchy it is made in */
static bool v2;	       /* ROOT is a cgroup2 hierarchy (memory.max, not memory.limit_in_bytes) */

static void setup(void)
{
	dir = am_test_mkdtemp("oom");
	cr_assert_not_null(dir);
	cg[0] = '\0';
}

static void teardown(void)
{
	if (agent_pid > 0) {
		kill(agent_pid, SIGKILL);
		waitpid(agent_pid, NULL, 0);
		agent_pid = -1;
	}
	/* The victim is reaped by now; the empty cgroup can go. */
	if (cg[0] && rmdir(cg))
		cr_log_warn("rmdir %s: %s", cg, strerror(errno));
	am_test_rmtree(dir);
	free(dir);
}

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s), "write %s: %s", path,
		     strerror(errno));
	close(fd);
}

/* A memory hierarchy to make the test's cgroup in: v1's, else a cgroup2 one whose root offers
 * the memory controller (enabled for its children here). */
static void require_memcg(void)
{
	struct am_strbuf ctl = {0};
	char path[512];
	struct stat st;

	if (geteuid() != 0)
		cr_skip_test("skipped: needs root to create a memory cgroup");
	if (!stat(MEMCG "/memory.limit_in_bytes", &st)) {
		snprintf(root, sizeof(root), MEMCG);
		v2 = false;
		return;
	}
	if (am_cgroup2_mount(NULL, root, sizeof(root)))
		cr_skip_test("skipped: no cgroup v1 memory hierarchy and no cgroup2 mount");
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	if (am_test_read_file(path, &ctl) || !ctl.data || !strstr(ctl.data, "memory")) {
		am_strbuf_free(&ctl);
		cr_skip_test("skipped: no cgroup v1 memory hierarchy, and the cgroup2 hierarchy at "
			     "%s has no memory controller",
			     root);
	}
	am_strbuf_free(&ctl);
	v2 = true;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	write_str(path, "+memory");
}

/* A fresh memory cgroup with the 32 MiB limit; returns its path below the hierarchy. */
static const char *make_cgroup(const char *tag)
{
	char path[448], v[32];

	snprintf(cg, sizeof(cg), "%s/am-oom-%s-%d", root, tag, getpid());
	cr_assert_eq(mkdir(cg, 0755), 0, "mkdir %s: %s", cg, strerror(errno));
	snprintf(v, sizeof(v), "%u", LIMIT);
	snprintf(path, sizeof(path), "%s/%s", cg, v2 ? "memory.max" : "memory.limit_in_bytes");
	write_str(path, v);
	/* With swap on, the limit alone would let the hog swap instead of dying. */
	snprintf(path, sizeof(path), "%s/%s", cg,
		 v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
	if (!access(path, W_OK))
		write_str(path, v2 ? "0" : v);
	return cg + strlen(root);
}

static void start_agent(int port, const char *source)
{
	char cfg[512], text[1024], out[512], err[512];
	char *argv[] = {AGENT, "run", "--config", cfg, NULL};

	snprintf(cfg, sizeof(cfg), "%s/config.yaml", dir);
	snprintf(text, sizeof(text),
		 "hostname: test-host\nhttp:\n  address: 127.0.0.1\n  port: %d\n"
		 "collectors:\n  enabled: false\nexecsnoop:\n  enabled: false\n"
		 "profiler:\n  enabled: false\noom:\n  enabled: true\n"
		 "jsonl:\n  path: %s/agent.jsonl\n",
		 port, dir);
	cr_assert_eq(am_test_write_file(cfg, text, strlen(text)), 0);
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	snprintf(err, sizeof(err), "%s/err.txt", dir);
	agent_pid = fork();
	if (agent_pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fo < 0 || fe < 0)
			_exit(126);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setenv("ANTIMETAL_OOM_SOURCE", source, 1);
		dup2(fo, 1);
		dup2(fe, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	cr_assert_gt(agent_pid, 0);
}

static void read_dir_file(const char *name, struct am_strbuf *b)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	am_strbuf_reset(b);
	am_test_read_file(path, b);
	if (!b->data)
		am_strbuf_puts(b, "");
}

static bool wait_for_text(const char *file, const char *needle, int timeout_ms)
{
	struct am_strbuf b = {0};
	long long deadline = am_test_now_ms() + timeout_ms;
	bool found = false;

	while (!found && am_test_now_ms() < deadline) {
		read_dir_file(file, &b);
		found = strstr(b.data, needle) != NULL;
		if (!found)
			am_test_sleep_ms(50);
	}
	am_strbuf_free(&b);
	return found;
}

/* Run the hog inside the cgroup; returns its pid after it died, asserting SIGKILL. */
static pid_t run_hog(void)
{
	char procs[512], pidtxt[32];
	int status;
	pid_t pid;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	pid = fork();
	if (pid == 0) {
		int fd = open(procs, O_WRONLY);

		snprintf(pidtxt, sizeof(pidtxt), "%d", getpid());
		if (fd < 0 || write(fd, pidtxt, strlen(pidtxt)) < 0)
			_exit(120);
		close(fd);
		execl(HOG, HOG, "1024", (char *)NULL);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the hog was not OOM-killed (status 0x%x)", status);
	return pid;
}

/* Whether this kernel's oom:mark_victim gives memory figures (it has only the pid before they
 * were added, 5.10 among them): the tracepoint path can report them only then. */
static bool mark_victim_has_rss(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_member *m;
	const struct btf_type *t;
	bool found = false;
	int id, i;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "trace_event_raw_mark_victim", BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	for (i = 0, m = t ? btf_members(t) : NULL; t && i < btf_vlen(t) && !found; i++, m++)
		found = !strcmp(btf__name_by_offset(btf, m->name_off), "anon_rss");
	btf__free(btf);
	return found;
}

/* The value of SERIES in the exposition TEXT, or -1 when absent. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

static double kills_of(int port, const char *cgroup)
{
	struct am_http_response r;
	char series[512];
	double v;

	snprintf(series, sizeof(series),
		 "antimetal_oom_kills_total{cgroup=\"%s\",container_id=\"\"}", cgroup);
	cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 5000, &r), 0);
	cr_assert_eq(r.status, 200);
	v = sample(r.body.data, series);
	am_http_response_free(&r);
	return v;
}

static void kill_is_reported(const char *source, const char *origin)
{
	struct am_strbuf err = {0}, lines = {0};
	char ready[64], needle[512];
	const char *rel, *line;
	size_t len;
	int port = am_http_free_port();
	pid_t victim;

	rel = make_cgroup(source);
	start_agent(port, source);
	snprintf(ready, sizeof(ready), "oom: watching OOM kills (%s)", source);
	cr_assert(wait_for_text("err.txt", ready, 15000), "agent stderr:\n%s",
		  (read_dir_file("err.txt", &err), err.data));
	cr_assert_eq(kills_of(port, rel), -1, "a kill counted before any happened");
	victim = run_hog();
	snprintf(needle, sizeof(needle), "\"pid\":%d,", victim);
	cr_assert(wait_for_text("agent.jsonl", needle, 10000),
		  "no OOM event for pid %d; stderr:\n%s", victim,
		  (read_dir_file("err.txt", &err), err.data));
	read_dir_file("agent.jsonl", &lines);
	len = am_test_line_with(lines.data, needle, &line);
	cr_log_info("%.*s", (int)len, line);
	am_test_line_has(line, len, "\"source\":\"oom\",\"event\":{");
	snprintf(needle, sizeof(needle), "\"origin\":\"%s\"", origin);
	am_test_line_has(line, len, needle);
	am_test_line_has(line, len, "\"comm\":\"mem_hog\"");
	snprintf(needle, sizeof(needle), "\"cgroup\":\"%s\"", rel);
	am_test_line_has(line, len, needle);
	snprintf(needle, sizeof(needle), "\"memory_limit_bytes\":%u", LIMIT);
	am_test_line_has(line, len, needle);
	if (strcmp(origin, "tracepoint") || mark_victim_has_rss())
		am_test_line_has(line, len, "\"anon_rss_bytes\":");
	cr_assert_eq(kills_of(port, rel), 1);
	am_strbuf_free(&err);
	am_strbuf_free(&lines);
}

Test(oom, tracepoint_kill_names_cgroup_pid_and_limit, .init = setup, .fini = teardown,
     .timeout = 90)
{
	require_memcg();
	AM_REQUIRE_BPF();
	kill_is_reported("bpf", "tracepoint");
}

Test(oom, kernel_log_kill_names_cgroup_pid_and_limit, .init = setup, .fini = teardown,
     .timeout = 90)
{
	require_memcg();
	kill_is_reported("kmsg", "kmsg");
}
