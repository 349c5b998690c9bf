/* The agent attacked as a hostile user or host would (issue 16): FIFOs where files are
 * expected, deeply nested YAML, idle connections held against /metrics, a disk that fills up,
 * symbolic links planted where outputs go, and SIGKILL during start-up. Each test failed before
 * the fix it guards (a hang, a stall, a half line, a write through a link), except the SIGKILL
 * one, which guards a promise already kept. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "export/jsonl.h"
#include "http_get.h"
#include "json_check.h"
#include "testutil.h"
#include "util/output_file.h"

#define AGENT AM_TEST_BUILD_DIR "/antimetal-agent"

static char *dir;
static pid_t agent_pid = -1;

static void setup(void)
{
	dir = am_test_mkdtemp("adversarial");
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	if (agent_pid > 0) {
		kill(agent_pid, SIGKILL);
		waitpid(agent_pid, NULL, 0);
		agent_pid = -1;
	}
	am_test_rmtree(dir);
	free(dir);
}

static void path_in(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", dir, rel);
}

static void make_fifo(const char *rel)
{
	char p[512], parent[512], *slash;

	path_in(p, sizeof(p), rel);
	snprintf(parent, sizeof(parent), "%s", p);
	slash = strrchr(parent, '/');
	*slash = '\0';
	cr_assert_eq(am_test_write_file(p, "", 0), 0); /* creates the parents */
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(mkfifo(p, 0600), 0, "mkfifo %s: %s", p, strerror(errno));
}

/* Start ARGV with stdout and stderr to DIR/out.txt, DIR/err.txt, ENV (NAME=VALUE or NULL) set. */
static pid_t spawn_env(char *const argv[], const char *env)
{
	pid_t pid = fork();

	if (pid == 0) {
		char out[512], err[512];
		int fo, fe, dn = open("/dev/null", O_RDONLY);

		path_in(out, sizeof(out), "out.txt");
		path_in(err, sizeof(err), "err.txt");
		fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fo < 0 || fe < 0 || dn < 0)
			_exit(126);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (env)
			putenv((char *)env);
		dup2(dn, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	return pid;
}

/* Wait for PID up to MS; a process still running then is killed and -ETIMEDOUT returned. */
static int wait_deadline(pid_t pid, int ms, long long *took)
{
	long long t0 = am_test_now_ms();
	int status;

	while (am_test_now_ms() - t0 < ms) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			*took = am_test_now_ms() - t0;
			return status;
		}
		am_test_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	*took = am_test_now_ms() - t0;
	return -ETIMEDOUT;
}

static const char *stderr_text(struct am_strbuf *b)
{
	char p[512];

	path_in(p, sizeof(p), "err.txt");
	am_strbuf_reset(b);
	am_test_read_file(p, b);
	if (!b->data)
		am_strbuf_puts(b, "");
	return b->data;
}

/* Run ARGV to completion within 5 s (a hang fails the test); returns the wait status. */
static int run_bounded(char *const argv[], const char *env)
{
	struct am_strbuf e = {0};
	long long took;
	int status = wait_deadline(spawn_env(argv, env), 5000, &took);

	cr_assert_neq(status, -ETIMEDOUT, "%s %s hung (killed after %lld ms); stderr: %s", argv[1],
		      argv[2], took, stderr_text(&e));
	am_strbuf_free(&e);
	return status;
}

Test(adversarial, a_fifo_in_the_procfs_tree_hangs_no_collector, .init = setup, .fini = teardown,
     .timeout = 120)
{
	static const char *const fifos[] = {
	    "proc/loadavg",	   "proc/stat",		"proc/meminfo",	  "proc/vmstat",
	    "proc/diskstats",	   "proc/pressure/cpu", "proc/1/net/dev", "proc/1/net/snmp",
	    "proc/self/mountinfo", "proc/cpuinfo",	"proc/1/stat",	  "dev/kmsg",
	};
	static const char *const names[] = {"load",    "cpu",  "memory",   "disk",
					    "network", "tcp",  "pressure", "processes",
					    "cgroup",  "kmsg", "hardware"};
	char procfs[512], devfs[512], sysfs[512];
	struct am_strbuf e = {0};
	size_t i;

	for (i = 0; i < sizeof(fifos) / sizeof(fifos[0]); i++)
		make_fifo(fifos[i]);
	path_in(procfs, sizeof(procfs), "proc");
	path_in(devfs, sizeof(devfs), "dev");
	path_in(sysfs, sizeof(sysfs), "proc"); /* no sysfs: hardware must still finish */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *argv[] = {AGENT,	   "collect", (char *)names[i], "--procfs", procfs,
				"--devfs", devfs,     "--sysfs",	sysfs,	    NULL};

		run_bounded(argv, NULL);
	}
	/* The failure names the file and says what is wrong with it. */
	{
		char *argv[] = {AGENT, "collect", "load", "--procfs", procfs, NULL};

		run_bounded(argv, NULL);
		cr_assert_not_null(strstr(stderr_text(&e), "not a regular file"), "stderr: %s",
				   e.data);
	}
	am_strbuf_free(&e);
}

Test(adversarial, a_fifo_as_config_or_bpf_object_is_refused_at_once, .init = setup,
     .fini = teardown, .timeout = 60)
{
	char cfg[512], bpfdir[512], env[600];
	struct am_strbuf e = {0};
	int status;

	make_fifo("config.yaml");
	path_in(cfg, sizeof(cfg), "config.yaml");
	{
		char *argv[] = {AGENT, "run", "--config", cfg, "--check-config", NULL};

		status = run_bounded(argv, NULL);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
		cr_assert_not_null(strstr(stderr_text(&e), "not a regular file"), "%s", e.data);
	}
	make_fifo("bpf/execsnoop.bpf.o");
	path_in(bpfdir, sizeof(bpfdir), "bpf");
	snprintf(env, sizeof(env), "ANTIMETAL_BPF_PATH=%s", bpfdir);
	{
		char *argv[] = {AGENT, "execsnoop", "-d", "1", NULL};

		status = run_bounded(argv, env);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "status %d", status);
	}
	am_strbuf_free(&e);
}

static int start_daemon(const char *extra_flag, const char *extra_value)
{
	int port = am_http_free_port();
	char listen[64], *argv[16];
	int n = 0;

	cr_assert_gt(port, 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	argv[n++] = AGENT;
	argv[n++] = "run";
	argv[n++] = "--config";
	argv[n++] = "/dev/null";
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--no-execsnoop";
	argv[n++] = "--no-profiler";
	if (extra_flag) {
		argv[n++] = (char *)extra_flag;
		argv[n++] = (char *)extra_value;
	}
	argv[n] = NULL;
	agent_pid = spawn_env(argv, NULL);
	return port;
}

/* GET /metrics until it answers 200 (5 s at most); returns how long the last GET took. */
static long long scrape_ms(int port, int timeout_ms)
{
	long long deadline = am_test_now_ms() + timeout_ms, t0;
	struct am_http_response r = {0};
	struct am_strbuf e = {0};
	int err;

	for (;;) {
		t0 = am_test_now_ms();
		err = am_http_get("127.0.0.1", port, "/metrics", timeout_ms, &r);
		if (!err && r.status == 200)
			break;
		am_http_response_free(&r);
		cr_assert_lt(am_test_now_ms(), deadline, "no /metrics within %d ms; stderr: %s",
			     timeout_ms, stderr_text(&e));
		am_test_sleep_ms(20);
	}
	am_http_response_free(&r);
	am_strbuf_free(&e);
	return am_test_now_ms() - t0;
}

Test(adversarial, the_daemon_serves_and_stops_with_fifos_in_its_trees, .init = setup,
     .fini = teardown, .timeout = 60)
{
	char procfs[512];
	long long took;
	int port, status;

	make_fifo("proc/loadavg");
	make_fifo("proc/stat");
	make_fifo("proc/1/stat");
	path_in(procfs, sizeof(procfs), "proc");
	port = start_daemon("--procfs", procfs);
	scrape_ms(port, 5000);
	cr_assert_lt(scrape_ms(port, 2000), 1000);
	kill(agent_pid, SIGTERM);
	status = wait_deadline(agent_pid, 3000, &took);
	agent_pid = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d after %lld ms", status,
		  took);
}

static void write_deep_yaml(const char *rel, size_t depth)
{
	char *text = malloc(2 * depth + 16), p[512];
	size_t i, n = 0;

	cr_assert_not_null(text);
	n += (size_t)sprintf(text, "hostname: ");
	for (i = 0; i < depth; i++)
		text[n++] = '[';
	for (i = 0; i < depth; i++)
		text[n++] = ']';
	text[n++] = '\n';
	path_in(p, sizeof(p), rel);
	cr_assert_eq(am_test_write_file(p, text, n), 0);
	free(text);
}

/* Depth 40,000 took 2-4 s in libyaml's loader; a reload does it on the loop, so every scrape
 * waited that long. */
Test(adversarial, deeply_nested_yaml_costs_no_time, .init = setup, .fini = teardown, .timeout = 60)
{
	char cfg[512];
	long long took, t0;
	int status, port;

	write_deep_yaml("deep.yaml", 40000);
	path_in(cfg, sizeof(cfg), "deep.yaml");
	{
		char *argv[] = {AGENT, "run", "--config", cfg, "--check-config", NULL};

		status = wait_deadline(spawn_env(argv, NULL), 5000, &took);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
		cr_assert_lt(took, 500, "--check-config took %lld ms", took);
	}
	/* The same file on SIGHUP: the reload is refused and scrapes do not wait for it. */
	write_deep_yaml("ok.yaml", 0);
	path_in(cfg, sizeof(cfg), "ok.yaml");
	{
		char listen[64];
		char *argv[] = {AGENT,	    "run",  "--config",	      cfg,
				"--listen", listen, "--no-execsnoop", "--no-profiler",
				NULL};

		port = am_http_free_port();
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
		cr_assert_eq(am_test_write_file(cfg, "log_level: info\n", 16), 0);
		agent_pid = spawn_env(argv, NULL);
	}
	scrape_ms(port, 5000);
	write_deep_yaml("ok.yaml", 40000);
	t0 = am_test_now_ms();
	kill(agent_pid, SIGHUP);
	took = scrape_ms(port, 10000);
	cr_log_info("scrape right after a SIGHUP with depth 40,000: %lld ms", took);
	cr_assert_lt(am_test_now_ms() - t0, 500, "the scrape after SIGHUP took %lld ms",
		     am_test_now_ms() - t0);
}

static long rss_kib(pid_t pid)
{
	char p[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	f = fopen(p, "re");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* With 32 slots, 40 idle connections made a scrape wait 10 s (Prometheus' scrape timeout);
 * node_exporter answers in 30 ms with 500. Loopback only, and the connections are closed at
 * the end of the test. */
Test(adversarial, a_thousand_idle_connections_do_not_delay_a_scrape, .init = setup,
     .fini = teardown, .timeout = 120)
{
	enum { IDLE = 1000 };
	static int fds[IDLE];
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct rlimit rl;
	long rss0, rss1;
	long long took;
	int port, i, held = 0;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max < IDLE + 64)
		cr_skip_test("skipped: the descriptor hard limit (%llu) is below %d",
			     (unsigned long long)rl.rlim_max, IDLE + 64);
	rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	port = start_daemon(NULL, NULL);
	scrape_ms(port, 5000);
	rss0 = rss_kib(agent_pid);
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < IDLE; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert_geq(fds[i], 0);
		if (connect(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0)
			held++;
	}
	cr_assert_eq(held, IDLE);
	/* Half of them send a partial request, as a slow client would. */
	for (i = 0; i < IDLE; i += 2)
		(void)!write(fds[i], "GET /metrics HTTP/1.1\r\nX-Slow: ", 31);
	am_test_sleep_ms(300);
	took = scrape_ms(port, 15000);
	rss1 = rss_kib(agent_pid);
	cr_log_info("scrape with %d idle connections held: %lld ms; agent RSS %ld -> %ld KiB", IDLE,
		    took, rss0, rss1);
	cr_assert_lt(took, 500, "a scrape with %d idle connections took %lld ms", IDLE, took);
	cr_assert_lt(rss1 - rss0, 64 * 1024, "RSS grew by %ld KiB", rss1 - rss0);
	for (i = 0; i < IDLE; i++)
		close(fds[i]);
	cr_assert_lt(scrape_ms(port, 5000), 500);
}

/* Fill a 64 KiB tmpfs with JSON lines: after ENOSPC the file must still end at a line boundary
 * (before the fix it held half a line, and the next write ran on from it), and every lost line
 * is counted. */
Test(adversarial, a_full_disk_leaves_only_whole_json_lines, .init = setup, .fini = teardown)
{
	char mnt[512], path[600], line[800];
	struct am_strbuf b = {0};
	struct am_jsonl w;
	const char *p, *eol;
	int i, ok = 0, failed = 0, n = 0;

	if (geteuid() != 0)
		cr_skip_test("skipped: mounting a tmpfs needs root");
	path_in(mnt, sizeof(mnt), "tmpfs");
	cr_assert_eq(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k"))
		cr_skip_test("skipped: cannot mount a tmpfs here: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/out.jsonl", mnt);
	cr_assert_eq(am_jsonl_open(&w, path, 1ull << 30, 0), 0);
	for (i = 0; i < 200; i++) {
		int len = snprintf(line, sizeof(line), "{\"i\":%d,\"pad\":\"%0700d\"}\n", i, 0);

		if (am_jsonl_write(&w, line, (size_t)len))
			failed++;
		else
			ok++;
	}
	cr_assert_gt(failed, 0, "the tmpfs never filled");
	cr_assert_eq((uint64_t)failed, w.errors);
	am_jsonl_close(&w);
	cr_assert_eq(am_test_read_file(path, &b), 0);
	for (p = b.data; p && *p; p = eol + 1) {
		eol = strchr(p, '\n');
		cr_assert_not_null(eol, "the file ends in half a line: %.40s...", p);
		cr_assert(am_test_json_valid(p, (size_t)(eol - p)), "invalid line %d", n + 1);
		n++;
	}
	cr_assert_eq(n, ok, "%d whole lines in the file, %d writes succeeded", n, ok);
	am_strbuf_free(&b);
	umount2(mnt, MNT_DETACH);
}

/* A link planted where an output goes (the agent runs as root; /tmp is shared) must not make
 * it write, append or create through the link. */
Test(adversarial, planted_symlinks_are_refused, .init = setup, .fini = teardown, .timeout = 30)
{
	char victim[512], link[512], target[512], linkdir[512];
	struct am_strbuf b = {0}, e = {0};
	int status;

	path_in(victim, sizeof(victim), "victim");
	cr_assert_eq(am_test_write_file(victim, "precious\n", 9), 0);
	path_in(link, sizeof(link), "out.jsonl");
	cr_assert_eq(symlink(victim, link), 0);
	{
		char *argv[] = {AGENT,
				"run",
				"--config",
				"/dev/null",
				"--no-http",
				"--no-execsnoop",
				"--no-profiler",
				"--once",
				"--jsonl",
				link,
				NULL};

		status = run_bounded(argv, NULL);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d, stderr %s",
			  status, stderr_text(&e));
		cr_assert_not_null(strstr(stderr_text(&e), "symbolic link"), "%s", e.data);
	}
	/* A dangling link must not create its target either. */
	path_in(target, sizeof(target), "created-through-link");
	path_in(link, sizeof(link), "dangling.jsonl");
	cr_assert_eq(symlink(target, link), 0);
	{
		struct am_jsonl w;

		cr_assert_eq(am_jsonl_open(&w, link, 1 << 20, 1), -AM_ELINKED);
		am_jsonl_close(&w);
		cr_assert_neq(access(target, F_OK), 0, "the link's target was created");
	}
	/* profile -o and the daemon's pprof windows go through am_output_replace. */
	path_in(link, sizeof(link), "profile.pb.gz");
	cr_assert_eq(symlink(victim, link), 0);
	cr_assert_eq(am_output_replace(link, "x", 1), -AM_ELINKED);
	cr_assert_eq(am_output_replace("/dev/null", "x", 1), 0);
	/* profile -o checks its outputs before profiling: the same refusals, nothing created. */
	cr_assert_eq(am_output_check(link), -AM_ELINKED);
	cr_assert_eq(am_output_check(dir), -EISDIR);
	cr_assert_eq(am_output_check("/dev/null"), 0);
	path_in(target, sizeof(target), "not-yet.pb.gz");
	cr_assert_eq(am_output_check(target), 0);
	cr_assert_neq(access(target, F_OK), 0, "checking an output created it");
	cr_assert_eq(am_output_check("/nonexistent-antimetal/dir/x"), -ENOENT);
	/* A symlinked or non-directory profile directory is a configuration error. */
	path_in(linkdir, sizeof(linkdir), "profiles");
	cr_assert_eq(symlink("/tmp", linkdir), 0);
	{
		char set[600];
		char *argv[] = {AGENT,	 "run", "--config",	  "/dev/null",
				"--set", set,	"--check-config", NULL};

		snprintf(set, sizeof(set), "profiler.output_dir=%s", linkdir);
		status = run_bounded(argv, NULL);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
		snprintf(set, sizeof(set), "profiler.output_dir=%s", victim);
		status = run_bounded(argv, NULL);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
	}
	cr_assert_eq(am_test_read_file(victim, &b), 0);
	cr_assert_str_eq(b.data, "precious\n");
	am_strbuf_free(&b);
	am_strbuf_free(&e);
}

/* Our programs loaded now, by name as bpftool lists them (names are cut at 15 characters). */
static int our_programs(void)
{
	char *argv[] = {"/usr/sbin/bpftool", "prog", "show", NULL};
	struct am_strbuf out = {0};
	const char *p;
	int n = 0;

	am_test_run(argv, &out, NULL);
	for (p = out.data; p && (p = strstr(p, " name ")); p += 6)
		if (!strncmp(p + 6, "execsnoop_", 10) || !strncmp(p + 6, "profile_sample", 14))
			n++;
	am_strbuf_free(&out);
	return n;
}

Test(adversarial, sigkill_during_start_up_leaves_nothing_loaded, .init = setup, .fini = teardown,
     .timeout = 180)
{
	static const int delays_ms[] = {0, 20, 50, 100, 150, 250, 400, 700};
	char profiles[512];
	int before, after = 0, i;
	long long deadline;

	AM_REQUIRE_BPF();
	if (access("/usr/sbin/bpftool", X_OK))
		cr_skip_test("skipped: bpftool is not installed");
	path_in(profiles, sizeof(profiles), "profiles");
	before = our_programs();
	for (i = 0; i < (int)(sizeof(delays_ms) / sizeof(delays_ms[0])); i++) {
		char set[600];
		char *argv[] = {AGENT,	     "run",   "--config", "/dev/null",
				"--no-http", "--set", set,	  NULL};

		snprintf(set, sizeof(set), "profiler.output_dir=%s", profiles);
		agent_pid = spawn_env(argv, NULL);
		am_test_sleep_ms(delays_ms[i]);
		kill(agent_pid, SIGKILL);
		waitpid(agent_pid, NULL, 0);
		agent_pid = -1;
	}
	/* Once more, killed only when its programs are seen loaded, so that at least one kill
	 * leaves something to clean up. */
	{
		char set[600];
		char *argv[] = {AGENT,	     "run",   "--config", "/dev/null",
				"--no-http", "--set", set,	  NULL};

		snprintf(set, sizeof(set), "profiler.output_dir=%s", profiles);
		agent_pid = spawn_env(argv, NULL);
		deadline = am_test_now_ms() + 20000;
		while (am_test_now_ms() < deadline && our_programs() <= before)
			am_test_sleep_ms(20);
		kill(agent_pid, SIGKILL);
		waitpid(agent_pid, NULL, 0);
		agent_pid = -1;
		cr_assert_lt(am_test_now_ms(), deadline, "the agent never loaded its programs");
	}
	/* The kernel frees programs once their last descriptor closes, shortly after exit. */
	deadline = am_test_now_ms() + 5000;
	while (am_test_now_ms() < deadline && (after = our_programs()) > before)
		am_test_sleep_ms(100);
	cr_assert_leq(after, before, "%d of our programs before, %d left after %zu SIGKILLs",
		      before, after, sizeof(delays_ms) / sizeof(delays_ms[0]) + 1);
}
