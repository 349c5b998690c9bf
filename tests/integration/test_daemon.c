/* The real `antimetal-agent run` binary: /metrics and /healthz over HTTP on a free loopback
 * port, SIGHUP reloads (a broken file keeps the running configuration), SIGTERM exits 0 within
 * 4 s (below the 5 s export shutdown timeout), `--once` prints valid JSON lines, bad configurations
 * exit 2 naming line and column, and execsnoop events reach the JSON lines output. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "http_get.h"
#include "json_check.h"
#include "testutil.h"
#include "gunzip.h"

#define AGENT  AM_TEST_BUILD_DIR "/antimetal-agent"
#define PYTHON "/usr/bin/python3"

/* Per test (Criterion forks one process per test): the agent and its scratch directory. */
static pid_t agent_pid = -1;
static char *dir;

static void setup(void)
{
	dir = am_test_mkdtemp("daemon");
	cr_assert_not_null(dir);
}

/* Runs after the test body, failed assertions included: nothing may outlive the test. */
static void teardown(void)
{
	am_test_reap(agent_pid);
	agent_pid = -1;
	am_test_rmtree(dir);
	free(dir);
}

/* Start the agent with ARGV, stdout and stderr to DIR/out.txt and DIR/err.txt, as user UID
 * when it is not 0; it dies with the test process even if the test crashes. */
static pid_t spawn_as(char *const argv[], uid_t uid)
{
	char out[512], err[512];
	struct am_test_spawn_opts o = {.out = out, .err = err, .uid = uid};
	pid_t pid;

	snprintf(out, sizeof(out), "%s/out.txt", dir);
	snprintf(err, sizeof(err), "%s/err.txt", dir);
	pid = am_test_spawn_opts(argv, &o);
	cr_assert_gt(pid, 0, "cannot start %s", argv[0]);
	return pid;
}

static pid_t spawn(char *const argv[])
{
	return spawn_as(argv, 0);
}

static void write_config(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void write_config(const char *name, const char *fmt, ...)
{
	char path[512];
	char *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(am_test_write_file(path, text, (size_t)n), 0);
	free(text);
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

/* The agent's stderr so far, for assertion messages. */
static const char *agent_stderr(struct am_strbuf *b)
{
	read_dir_file("err.txt", b);
	return b->data;
}

/* GET until it answers 200 or TIMEOUT_MS pass. */
static int wait_http(int port, const char *path, int timeout_ms, struct am_http_response *r)
{
	long long deadline = am_test_now_ms() + timeout_ms;
	int status;

	for (;;) {
		int err = am_http_get("127.0.0.1", port, path, 2000, r);

		if (!err && r->status == 200)
			return 0;
		am_http_response_free(r);
		if (waitpid(agent_pid, &status, WNOHANG) == agent_pid) {
			agent_pid = -1;
			return -ECHILD;
		}
		if (am_test_now_ms() > deadline)
			return -ETIMEDOUT;
		am_test_sleep_ms(50); /* the retry period of a wait for the listener, not a guess */
	}
}

/* Wait until FILE in DIR contains NEEDLE (false at once if the agent exits without it). */
static bool wait_for_text(const char *file, const char *needle, int timeout_ms)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return am_test_wait_file_text(path, needle, timeout_ms, agent_pid);
}

/* Every line of TEXT is one valid JSON value; returns the number of lines. */
static int check_json_lines(const char *text)
{
	const char *p = text, *eol;
	int n = 0;

	for (; *p; p = eol + 1) {
		eol = strchr(p, '\n');
		cr_assert_not_null(eol, "unterminated last line: %s", p);
		cr_assert(am_test_json_valid(p, (size_t)(eol - p)), "invalid JSON line %d: %.*s",
			  n + 1, (int)(eol - p), p);
		n++;
	}
	return n;
}

/* A prompt stop waits on nothing: below the 5 s export.shutdown_timeout that a stuck exporter
 * would take, with room for a loaded CI host and a sanitizer build (2.1 s was seen there). */
#define STOP_BOUND_MS 4000

/* SIGTERM the agent; returns its wait status, and the time it took in *MS. */
static int terminate(long long *ms)
{
	long long t0 = am_test_now_ms();
	int status = -1;

	cr_assert_eq(kill(agent_pid, SIGTERM), 0);
	if (!am_test_wait_exit(agent_pid, 10000, &status))
		agent_pid = -1;
	*ms = am_test_now_ms() - t0;
	cr_log_info("SIGTERM to exit: %lld ms", *ms);
	return status;
}

/* A sample line "NAME{LABELS} VALUE" or "NAME VALUE" of the exposition. */
static bool sample_value(const char *text, const char *series, double *v)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ') {
			*v = strtod(p + n + 1, NULL);
			return true;
		}
		p += n;
	}
	return false;
}

static void start_agent(int port, const char *extra_config)
{
	char cfg[512];
	char *argv[] = {AGENT, "run", "--config", cfg, NULL};

	write_config("config.yaml",
		     "hostname: test-host\n"
		     "http:\n  address: 127.0.0.1\n  port: %d\n"
		     "collectors:\n  interval: 1s\n"
		     "%s",
		     port, extra_config);
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", dir);
	agent_pid = spawn(argv);
}

Test(daemon, serves_metrics_and_healthz_then_stops_on_sigterm, .init = setup, .fini = teardown,
     .timeout = 60)
{
	struct am_http_response r;
	struct am_strbuf err = {0}, lines = {0};
	int port = am_http_free_port(), status;
	char ctype[256];
	long long ms;
	double v;
	char extra[600];

	snprintf(extra, sizeof(extra),
		 "execsnoop:\n  enabled: false\nprofiler:\n  enabled: false\n"
		 "jsonl:\n  path: %s/agent.jsonl\n",
		 dir);
	cr_assert_gt(port, 0);
	start_agent(port, extra);
	cr_assert_eq(wait_http(port, "/healthz", 15000, &r), 0, "agent not healthy; stderr:\n%s",
		     agent_stderr(&err));
	cr_assert_not_null(strstr(r.body.data, "ok\n"), "healthz body: %s", r.body.data);
	am_http_response_free(&r);

	/* The first collection runs at start: memory must already be there. */
	cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 5000, &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(am_http_header(&r, "Content-Type", ctype, sizeof(ctype)),
			 "text/plain; version=0.0.4; charset=utf-8");
	cr_assert(sample_value(r.body.data, "node_memory_MemTotal_bytes", &v), "no memory metric");
	cr_assert_gt(v, 0);
	cr_assert(
	    sample_value(r.body.data, "antimetal_agent_collector_up{collector=\"memory\"}", &v));
	cr_assert_eq(v, 1);
	cr_assert_not_null(
	    strstr(r.body.data, "# TYPE antimetal_agent_collector_errors_total counter\n"));
	cr_assert(sample_value(r.body.data, "antimetal_agent_scrapes_total", &v));
	cr_assert_eq(v, 1, "this was the first scrape");
	am_http_response_free(&r);

	cr_assert_eq(am_http_get("127.0.0.1", port, "/nope", 5000, &r), 0);
	cr_assert_eq(r.status, 404);
	am_http_response_free(&r);

	/* Prometheus asks for gzip: the same exposition comes back compressed. */
	cr_assert_eq(
	    am_http_get_with("127.0.0.1", port, "/metrics", "Accept-Encoding: gzip\r\n", 5000, &r),
	    0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(am_http_header(&r, "Content-Encoding", ctype, sizeof(ctype)), "gzip");
	cr_assert_str_eq(am_http_header(&r, "Content-Type", ctype, sizeof(ctype)),
			 "text/plain; version=0.0.4; charset=utf-8");
	{
		struct am_strbuf plain = {0};

		am_test_gunzip(r.body.data, r.body.len, &plain);
		cr_assert_not_null(strstr(plain.data, "# TYPE node_memory_MemTotal_bytes gauge\n"));
		cr_assert_lt(r.body.len * 3, plain.len, "gzip saved too little: %zu of %zu",
			     r.body.len, plain.len);
		am_strbuf_free(&plain);
	}
	am_http_response_free(&r);

	/* A stats line follows every default interval (1 s): wait for one, then stop. */
	cr_assert(wait_for_text("agent.jsonl", "\"type\":\"stats\"", 5000));
	status = terminate(&ms);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d; stderr:\n%s", status,
		  agent_stderr(&err));
	cr_assert_leq(ms, STOP_BOUND_MS, "SIGTERM took %lld ms", ms);
	cr_assert_not_null(strstr(agent_stderr(&err), "shutting down"));

	read_dir_file("agent.jsonl", &lines);
	cr_assert_geq(check_json_lines(lines.data), 3);
	cr_assert_not_null(strstr(lines.data, "{\"type\":\"metric\",\"host\":\"test-host\","));
	cr_assert_not_null(strstr(lines.data, "\"collector\":\"memory\""));
	am_strbuf_free(&lines);
	am_strbuf_free(&err);
}

Test(daemon, sighup_with_broken_config_keeps_running, .init = setup, .fini = teardown,
     .timeout = 60)
{
	struct am_http_response r;
	struct am_strbuf err = {0};
	int port = am_http_free_port(), port2 = am_http_free_port(), status, errors = 0, i;
	const char *p;
	long long ms;
	double v;

	for (i = 0; i < 20 && port2 == port; i++)
		port2 = am_http_free_port();
	cr_assert(port > 0 && port2 > 0 && port != port2);
	start_agent(port, "execsnoop:\n  enabled: false\nprofiler:\n  enabled: false\n");
	cr_assert_eq(wait_http(port, "/healthz", 15000, &r), 0, "stderr:\n%s", agent_stderr(&err));
	am_http_response_free(&r);

	write_config("config.yaml", "http:\n  port: 99999\n");
	cr_assert_eq(kill(agent_pid, SIGHUP), 0);
	cr_assert(wait_for_text("err.txt", "reload failed", 5000), "stderr:\n%s",
		  agent_stderr(&err));
	/* One error line, naming the file, line and column. */
	for (p = agent_stderr(&err); (p = strstr(p, ": error: ")) != NULL; p++)
		errors++;
	cr_assert_eq(errors, 1, "stderr:\n%s", err.data);
	cr_assert_not_null(
	    strstr(err.data, "config.yaml:2:9: http.port: '99999' is not an integer"),
	    "stderr:\n%s", err.data);
	/* Still serving, on the old port, with the failure counted. */
	cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 5000, &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert(sample_value(r.body.data,
			       "antimetal_agent_config_reloads_total{result=\"failure\"}", &v));
	cr_assert_eq(v, 1);
	am_http_response_free(&r);

	/* A valid reload moves the listener. */
	write_config(
	    "config.yaml",
	    "http:\n  port: %d\ncollectors:\n  interval: 1s\nexecsnoop:\n  enabled: false\n"
	    "profiler:\n  enabled: false\n",
	    port2);
	cr_assert_eq(kill(agent_pid, SIGHUP), 0);
	cr_assert_eq(wait_http(port2, "/metrics", 5000, &r), 0, "stderr:\n%s", agent_stderr(&err));
	cr_assert(sample_value(r.body.data,
			       "antimetal_agent_config_reloads_total{result=\"success\"}", &v));
	cr_assert_eq(v, 1);
	am_http_response_free(&r);
	cr_assert_neq(am_http_get("127.0.0.1", port, "/metrics", 1000, &r), 0,
		      "the old port still answers");

	status = terminate(&ms);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert_leq(ms, STOP_BOUND_MS, "SIGTERM took %lld ms", ms);
	am_strbuf_free(&err);
}

Test(daemon, sigint_also_stops_cleanly, .init = setup, .fini = teardown, .timeout = 60)
{
	struct am_http_response r;
	struct am_strbuf err = {0};
	int port = am_http_free_port(), status = -1;
	long long t0;

	start_agent(port, "execsnoop:\n  enabled: false\nprofiler:\n  enabled: false\n");
	cr_assert_eq(wait_http(port, "/healthz", 15000, &r), 0, "stderr:\n%s", agent_stderr(&err));
	am_http_response_free(&r);
	t0 = am_test_now_ms();
	kill(agent_pid, SIGINT);
	if (!am_test_wait_exit(agent_pid, 5000, &status))
		agent_pid = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert_leq(am_test_now_ms() - t0, STOP_BOUND_MS);
	am_strbuf_free(&err);
}

Test(daemon, once_prints_valid_json_lines, .init = setup, .fini = teardown, .timeout = 60)
{
	char cfg[512], outpath[512];
	char *argv[] = {AGENT, "run", "--once", "--config", cfg, "--hostname", "once-host", NULL};
	/* Every line must parse, carry the envelope, and the memory snapshot must be there. */
	char *check[] = {PYTHON, "-c",
			 "import json,sys\n"
			 "n=0;mem=False\n"
			 "for line in open(sys.argv[1]):\n"
			 "  o=json.loads(line); n+=1\n"
			 "  assert o['type'] in ('metric','stats'), o['type']\n"
			 "  assert o['host']=='once-host', o['host']\n"
			 "  assert o['timestamp'].endswith('Z') and o['timestamp_ns']>0\n"
			 "  if o['type']=='metric' and o['collector']=='memory':\n"
			 "    mem=any(m['name']=='antimetal_memory_total_bytes' and m['value']>0 "
			 "for m in o['metrics'])\n"
			 "assert n>=2 and mem, (n,mem)\n"
			 "print(n)\n",
			 outpath, NULL};
	struct am_strbuf out = {0}, err = {0};
	int status;

	write_config("config.yaml", "execsnoop:\n  enabled: false\nprofiler:\n  enabled: false\n");
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", dir);
	snprintf(outpath, sizeof(outpath), "%s/once.jsonl", dir);
	status = am_test_run(argv, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d, stderr:\n%s", status,
		  err.data);
	cr_assert_gt(out.len, 0);
	cr_assert_geq(check_json_lines(out.data), 2);
	/* Python's json module as a second, independent parser, checking the fields too. */
	if (access(PYTHON, X_OK))
		cr_skip_test("skipped: the field check needs %s (every line parsed as JSON)",
			     PYTHON);
	cr_assert_eq(am_test_write_file(outpath, out.data, out.len), 0);
	am_strbuf_reset(&out);
	am_strbuf_reset(&err);
	status = am_test_run(check, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "JSON check failed: %s %s",
		  out.data ? out.data : "", err.data ? err.data : "");
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(daemon, invalid_config_exits_2_naming_line_and_column, .init = setup, .fini = teardown)
{
	char cfg[512];
	char *argv[] = {AGENT, "run", "--config", cfg, NULL};
	char *missing[] = {AGENT, "run", "--config", "/nonexistent/antimetal.yaml", NULL};
	char *badflag[] = {AGENT, "run", "--listen", "127.0.0.1:0", NULL};
	struct am_strbuf err = {0};
	int status;

	write_config("config.yaml", "http:\n  enabled: true\ncollectors:\n  interval: soon\n");
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", dir);
	status = am_test_run(argv, NULL, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
	cr_assert_not_null(strstr(err.data, "config.yaml:4:13: collectors.interval: 'soon'"),
			   "stderr: %s", err.data);
	am_strbuf_reset(&err);
	status = am_test_run(missing, NULL, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
	cr_assert_not_null(strstr(err.data, "/nonexistent/antimetal.yaml"), "stderr: %s", err.data);
	am_strbuf_reset(&err);
	status = am_test_run(badflag, NULL, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
	cr_assert_not_null(strstr(err.data, "http.port: '0'"), "stderr: %s", err.data);
	am_strbuf_free(&err);
}

/* A bad --listen is named whole, not as the piece the address parser saw. */
Test(daemon, bad_listen_value_is_named_whole, .init = setup, .fini = teardown)
{
	static const struct {
		const char *arg, *msg;
	} cases[] = {
	    {"[::1", "--listen: '[::1'"},
	    {"[::1]", "--listen: '[::1]'"},
	    {"localhost:9100", "'localhost' is not an IPv4 or IPv6 address"},
	    {"9100", "--listen: '9100'"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = {AGENT,	     "run",	 "--check-config",     "--config",
				"/dev/null", "--listen", (char *)cases[i].arg, NULL};
		struct am_strbuf err = {0};
		int status = am_test_run(argv, NULL, &err);

		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "%s: status %d",
			  cases[i].arg, status);
		cr_assert_not_null(strstr(err.data, cases[i].msg), "%s: stderr: %s", cases[i].arg,
				   err.data);
		cr_assert_not_null(strstr(err.data, "usage: antimetal-agent run"), "%s", err.data);
		am_strbuf_free(&err);
	}
}

/* -c is perf's sample period everywhere; the daemon's configuration file is --config. */
Test(daemon, config_flag_is_long_only, .init = setup, .fini = teardown)
{
	char *shortc[] = {AGENT, "run", "--check-config", "-c", "/dev/null", NULL};
	char *longc[] = {AGENT, "run", "--check-config", "--config", "/dev/null", NULL};
	struct am_strbuf err = {0};
	int status;

	status = am_test_run(shortc, NULL, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
	cr_assert_not_null(strstr(err.data, "unknown option '-c'"), "stderr: %s", err.data);
	status = am_test_run(longc, NULL, NULL);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	am_strbuf_free(&err);
}

/* --btf is resolved once at start for execsnoop and the profiler: a bad file is bad input. */
Test(daemon, bad_btf_file_exits_2_naming_it, .init = setup, .fini = teardown)
{
	char path[512];
	char *missing[] = {AGENT, "run", "--once", "--btf", "/nonexistent/vmlinux.btf", NULL};
	char *garbage[] = {AGENT, "run", "--once", "--btf", path, NULL};
	struct am_strbuf err = {0};
	int status;

	status = am_test_run(missing, NULL, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
	cr_assert_not_null(strstr(err.data, "/nonexistent/vmlinux.btf"), "stderr: %s", err.data);
	snprintf(path, sizeof(path), "%s/garbage.btf", dir);
	cr_assert_eq(am_test_write_file(path, "not BTF at all", 14), 0);
	am_strbuf_reset(&err);
	status = am_test_run(garbage, NULL, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
	cr_assert_not_null(strstr(err.data, path), "stderr: %s", err.data);
	am_strbuf_free(&err);
}

Test(daemon, busy_port_is_a_clean_failure, .init = setup, .fini = teardown, .timeout = 30)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	struct am_strbuf err = {0};
	char cfg[512], port_s[16];
	char *argv[] = {AGENT, "run", "--config", cfg, "--listen", port_s, NULL};
	int fd = socket(AF_INET, SOCK_STREAM, 0), status;

	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(port_s, sizeof(port_s), ":%d", ntohs(sa.sin_port));
	write_config("config.yaml", "execsnoop:\n  enabled: false\nprofiler:\n  enabled: false\n");
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", dir);
	status = am_test_run(argv, NULL, &err);
	close(fd);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
	cr_assert_not_null(strstr(err.data, "cannot listen on 127.0.0.1:"), "stderr: %s", err.data);
	am_strbuf_free(&err);
}

Test(daemon, execsnoop_events_reach_the_json_lines, .init = setup, .fini = teardown, .timeout = 60)
{
	struct am_http_response r;
	struct am_strbuf err = {0};
	char extra[600], marker[64];
	char *argv[] = {"/bin/true", marker, NULL};
	int port = am_http_free_port(), status;
	long long ms;
	double v;

	AM_REQUIRE_BPF();
	snprintf(marker, sizeof(marker), "antimetal-daemon-test-%d", getpid());
	snprintf(extra, sizeof(extra),
		 "execsnoop:\n  enabled: true\nprofiler:\n  enabled: false\n"
		 "jsonl:\n  path: %s/agent.jsonl\n",
		 dir);
	start_agent(port, extra);
	cr_assert_eq(wait_http(port, "/healthz", 15000, &r), 0, "stderr:\n%s", agent_stderr(&err));
	am_http_response_free(&r);
	cr_assert(wait_for_text("err.txt", "execsnoop: tracing", 5000), "stderr:\n%s",
		  agent_stderr(&err));
	status = am_test_run(argv, NULL, NULL);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert(wait_for_text("agent.jsonl", marker, 5000), "no event line for %s", marker);
	{
		struct am_strbuf lines = {0};
		const char *p, *eol;

		read_dir_file("agent.jsonl", &lines);
		p = strstr(lines.data, marker);
		while (p > lines.data && p[-1] != '\n')
			p--;
		eol = strchr(p, '\n');
		cr_assert_not_null(eol);
		cr_assert(!strncmp(p, "{\"type\":\"event\",\"host\":\"test-host\",", 35), "%.*s",
			  (int)(eol - p), p);
		cr_assert_not_null(memmem(p, (size_t)(eol - p), "\"source\":\"execsnoop\"", 20));
		cr_assert_not_null(memmem(p, (size_t)(eol - p), "\"filename\":\"/bin/true\"", 22));
		am_strbuf_free(&lines);
	}
	cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 5000, &r), 0);
	cr_assert(sample_value(r.body.data, "antimetal_execsnoop_execs_total", &v));
	cr_assert_geq(v, 1);
	cr_assert(sample_value(
	    r.body.data, "antimetal_agent_continuous_collector_up{collector=\"execsnoop\"}", &v));
	cr_assert_eq(v, 1);
	cr_assert(sample_value(
	    r.body.data, "antimetal_agent_bpf_events_lost_total{collector=\"execsnoop\"}", &v));
	am_http_response_free(&r);
	status = terminate(&ms);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert_leq(ms, STOP_BOUND_MS, "SIGTERM with execsnoop attached took %lld ms", ms);
	{
		struct am_strbuf lines = {0};

		/* Event lines are interleaved with metric lines; every one must still parse, and
		 * the final stats line carries execsnoop's counters. */
		read_dir_file("agent.jsonl", &lines);
		check_json_lines(lines.data);
		cr_assert_not_null(strstr(lines.data, ",\"execsnoop\":{\"running\":"));
		am_strbuf_free(&lines);
	}
	am_strbuf_free(&err);
}

/* Profiles in DIR/profiles: the count of finished cpu-*.pb.gz files; each must be gzip. */
static int count_profiles(void)
{
	char path[600];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/profiles", dir);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct am_strbuf b = {0};
		char file[900];

		if (strncmp(e->d_name, "cpu-", 4) || !strstr(e->d_name, ".pb.gz") ||
		    strstr(e->d_name, ".tmp"))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		cr_assert_eq(am_test_read_file(file, &b), 0);
		cr_assert(b.len > 20 && (unsigned char)b.data[0] == 0x1f &&
			      (unsigned char)b.data[1] == 0x8b,
			  "%s is not gzip", file);
		am_strbuf_free(&b);
		n++;
	}
	closedir(d);
	return n;
}

Test(daemon, profiler_writes_one_pprof_per_window_and_keeps_n, .init = setup, .fini = teardown,
     .timeout = 60)
{
	struct am_http_response r;
	struct am_strbuf err = {0};
	char extra[600];
	int port = am_http_free_port(), status;
	long long ms, deadline;
	double written = 0;

	AM_REQUIRE_BPF();
	snprintf(extra, sizeof(extra),
		 "execsnoop:\n  enabled: false\n"
		 "profiler:\n  enabled: true\n  frequency: 49\n  window: 1s\n"
		 "  output_dir: %s/profiles\n  retention: 2\n",
		 dir);
	start_agent(port, extra);
	cr_assert_eq(wait_http(port, "/healthz", 15000, &r), 0, "stderr:\n%s", agent_stderr(&err));
	am_http_response_free(&r);
	deadline = am_test_now_ms() + 20000;
	while (am_test_now_ms() < deadline && written < 3) {
		cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 5000, &r), 0);
		if (!sample_value(r.body.data, "antimetal_profiler_profiles_written_total",
				  &written))
			written = 0;
		am_http_response_free(&r);
		am_test_sleep_ms(200); /* re-read the counter: the loop ends on its value */
	}
	cr_assert_geq(written, 3, "profiles written: %g; stderr:\n%s", written, agent_stderr(&err));
	cr_assert_eq(count_profiles(), 2, "retention 2 not applied");
	status = terminate(&ms);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d; stderr:\n%s", status,
		  agent_stderr(&err));
	cr_assert_leq(ms, STOP_BOUND_MS, "SIGTERM with the profiler attached took %lld ms", ms);
	/* The partial window was flushed, and retention still holds. */
	cr_assert_eq(count_profiles(), 2);
	am_strbuf_free(&err);
}

Test(daemon, check_config_and_the_systemd_unit, .init = setup, .fini = teardown, .timeout = 30)
{
	char cfg[512], unit[512];
	char *check[] = {AGENT, "run", "--check-config", "--config", cfg, NULL};
	char *verify[] = {"/usr/bin/systemd-analyze", "verify", unit, NULL};
	struct am_strbuf out = {0}, err = {0}, text = {0};
	char *p;
	int status;

	write_config("config.yaml", "http:\n  port: 19999\n");
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", dir);
	status = am_test_run(check, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s", status,
		  err.data ? err.data : "");
	cr_assert_str_eq(out.data, "configuration OK\n");

	if (access(verify[0], X_OK))
		cr_skip_test("skipped: systemd-analyze is needed to verify the unit");
	/* The shipped unit, pointed at this build's binary, must verify without a complaint. */
	cr_assert_eq(am_test_read_file(AM_TEST_SRC_DIR "/packaging/antimetal-agent.service", &text),
		     0);
	am_strbuf_reset(&out);
	while ((p = strstr(text.data, "/usr/local/bin/antimetal-agent")) != NULL) {
		am_strbuf_append(&out, text.data, (size_t)(p - text.data));
		am_strbuf_puts(&out, AGENT);
		memmove(text.data, p + 30, strlen(p + 30) + 1);
	}
	am_strbuf_puts(&out, text.data);
	snprintf(unit, sizeof(unit), "%s/antimetal-agent.service", dir);
	cr_assert_eq(am_test_write_file(unit, out.data, out.len), 0);
	am_strbuf_reset(&out);
	am_strbuf_reset(&err);
	status = am_test_run(verify, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "systemd-analyze: %s %s",
		  out.data ? out.data : "", err.data ? err.data : "");
	cr_assert(!err.data || !*err.data, "systemd-analyze complained: %s", err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	am_strbuf_free(&text);
}

Test(daemon, collectors_that_cannot_run_are_logged_and_the_others_run, .init = setup,
     .fini = teardown, .timeout = 60)
{
	struct am_http_response r;
	struct am_strbuf err = {0}, meminfo = {0}, loadavg = {0};
	char extra[900], path[600];
	int port = am_http_free_port(), status;
	long long ms;
	double v;

	/* A procfs with only meminfo and loadavg, no sysfs and no /dev/kmsg: memory and load
	 * work, cpu/disk/network fail at every collection, kmsg cannot even start. */
	cr_assert_eq(am_test_read_file("/proc/meminfo", &meminfo), 0);
	cr_assert_eq(am_test_read_file("/proc/loadavg", &loadavg), 0);
	snprintf(path, sizeof(path), "%s/proc/meminfo", dir);
	cr_assert_eq(am_test_write_file(path, meminfo.data, meminfo.len), 0);
	snprintf(path, sizeof(path), "%s/proc/loadavg", dir);
	cr_assert_eq(am_test_write_file(path, loadavg.data, loadavg.len), 0);
	/* One process, as any real procfs has (processes.c sorts a NULL array when there is
	 * none: a UBSan abort reported to its owner, not this test's subject). */
	am_strbuf_reset(&loadavg);
	cr_assert_eq(am_test_read_file("/proc/self/stat", &loadavg), 0);
	snprintf(path, sizeof(path), "%s/proc/1/stat", dir);
	cr_assert_eq(am_test_write_file(path, loadavg.data, loadavg.len), 0);
	snprintf(extra, sizeof(extra),
		 "paths:\n  procfs: %s/proc\n  sysfs: %s/sys\n  devfs: %s/dev\n"
		 "execsnoop:\n  enabled: false\nprofiler:\n  enabled: false\n",
		 dir, dir, dir);
	start_agent(port, extra);
	cr_assert_eq(wait_http(port, "/healthz", 15000, &r), 0, "stderr:\n%s", agent_stderr(&err));
	cr_assert_not_null(strstr(r.body.data, "collector memory: ok\n"), "%s", r.body.data);
	cr_assert_not_null(strstr(r.body.data, "collector kmsg: not running\n"), "%s", r.body.data);
	am_http_response_free(&r);
	cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 5000, &r), 0);
	cr_assert(sample_value(r.body.data, "node_memory_MemTotal_bytes", &v));
	cr_assert(sample_value(r.body.data, "node_load1", &v));
	cr_assert_null(strstr(r.body.data, "\nnode_cpu_seconds_total{"));
	cr_assert(
	    sample_value(r.body.data, "antimetal_agent_collector_up{collector=\"memory\"}", &v));
	cr_assert_eq(v, 1);
	cr_assert(sample_value(r.body.data, "antimetal_agent_collector_up{collector=\"cpu\"}", &v));
	cr_assert_eq(v, 0);
	cr_assert(sample_value(r.body.data,
			       "antimetal_agent_collector_errors_total{collector=\"cpu\"}", &v));
	cr_assert_geq(v, 1);
	cr_assert(
	    sample_value(r.body.data, "antimetal_agent_collector_up{collector=\"kmsg\"}", &v));
	cr_assert_eq(v, 0);
	am_http_response_free(&r);
	cr_assert_not_null(strstr(agent_stderr(&err), "collector kmsg: cannot start"), "%s",
			   err.data);
	status = terminate(&ms);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	am_strbuf_free(&err);
	am_strbuf_free(&meminfo);
	am_strbuf_free(&loadavg);
}

Test(daemon, json_lines_file_rotates_by_size, .init = setup, .fini = teardown, .timeout = 60)
{
	struct am_http_response r;
	struct am_strbuf err = {0}, all = {0}, part = {0};
	char extra[600], name[64];
	int port = am_http_free_port(), status, i;
	long long ms;

	/* 64 KiB files, 2 kept: a few collections at 1 s overflow the first file. */
	snprintf(extra, sizeof(extra),
		 "execsnoop:\n  enabled: false\nprofiler:\n  enabled: false\n"
		 "jsonl:\n  path: %s/agent.jsonl\n  max_size: 64K\n  keep: 2\n",
		 dir);
	start_agent(port, extra);
	cr_assert_eq(wait_http(port, "/healthz", 15000, &r), 0, "stderr:\n%s", agent_stderr(&err));
	am_http_response_free(&r);
	cr_assert(wait_for_text("agent.jsonl.2", "\n", 20000), "no second rotated file");
	status = terminate(&ms);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	read_dir_file("agent.jsonl.3", &part);
	cr_assert_eq(part.len, 0, "more files kept than jsonl.keep");
	for (i = 2; i >= 0; i--) {
		snprintf(name, sizeof(name), i ? "agent.jsonl.%d" : "agent.jsonl", i);
		read_dir_file(name, &part);
		cr_assert_leq(part.len, 65536, "%s is %zu bytes", name, part.len);
		check_json_lines(part.data);
		am_strbuf_puts(&all, part.data);
	}
	cr_assert_not_null(strstr(all.data, "\"type\":\"metric\""));
	am_strbuf_free(&err);
	am_strbuf_free(&all);
	am_strbuf_free(&part);
}

Test(daemon, without_privileges_the_bpf_collectors_are_left_out, .init = setup, .fini = teardown,
     .timeout = 60)
{
	struct am_http_response r;
	struct am_strbuf err = {0};
	char cfg[512];
	char *argv[] = {AGENT, "run", "--config", cfg, NULL};
	int port = am_http_free_port(), status;
	long long ms;
	double v;

	if (geteuid() != 0)
		cr_skip_test("skipped: needs root to start the agent as another user");
	/* nobody must read the configuration; out.txt and err.txt are opened before the switch. */
	cr_assert_eq(chmod(dir, 0755), 0);
	/* Writable by nobody, so what stops the profiler is BPF being refused. */
	snprintf(cfg, sizeof(cfg), "%s/profiles", dir);
	cr_assert_eq(mkdir(cfg, 0777), 0);
	cr_assert_eq(chmod(cfg, 0777), 0);
	/* Also the documented switch back to the agent's own names on /metrics. */
	write_config("config.yaml",
		     "http:\n  port: %d\n  antimetal_names: true\ncollectors:\n  interval: 1s\n"
		     "execsnoop:\n  enabled: true\nprofiler:\n  enabled: true\n"
		     "  output_dir: %s/profiles\n",
		     port, dir);
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", dir);
	chmod(cfg, 0644);
	agent_pid = spawn_as(argv, 65534);
	cr_assert_eq(wait_http(port, "/healthz", 15000, &r), 0, "stderr:\n%s", agent_stderr(&err));
	am_http_response_free(&r);
	cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 5000, &r), 0);
	cr_assert(sample_value(r.body.data, "antimetal_memory_total_bytes", &v),
		  "no memory metric");
	cr_assert_null(strstr(r.body.data, "\nnode_memory_MemTotal_bytes "));
	cr_assert(sample_value(
	    r.body.data, "antimetal_agent_continuous_collector_up{collector=\"execsnoop\"}", &v));
	cr_assert_eq(v, 0);
	cr_assert(sample_value(
	    r.body.data, "antimetal_agent_continuous_collector_up{collector=\"profiler\"}", &v));
	cr_assert_eq(v, 0);
	am_http_response_free(&r);
	cr_assert_not_null(strstr(agent_stderr(&err), "execsnoop: cannot start"), "%s", err.data);
	cr_assert_not_null(strstr(err.data, "profiler: cannot start"), "%s", err.data);
	/* the refusal names the missing capability, and no flag of another command */
	cr_assert_not_null(strstr(err.data, "missing CAP_BPF"), "%s", err.data);
	cr_assert_null(strstr(err.data, "run with -v"), "%s", err.data);
	status = terminate(&ms);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	am_strbuf_free(&err);
}

/* Whether some finished profile in DIR/profiles, inflated, contains NEEDLE (pprof keeps
 * function names verbatim in its string table). */
static bool profiles_contain(const char *needle)
{
	char path[600];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "%s/profiles", dir);
	d = opendir(path);
	while (d && !found && (e = readdir(d)) != NULL) {
		struct am_strbuf gz = {0}, raw = {0};
		char file[900];

		if (strncmp(e->d_name, "cpu-", 4) || strstr(e->d_name, ".tmp"))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		cr_assert_eq(am_test_read_file(file, &gz), 0);
		am_test_gunzip(gz.data, gz.len, &raw);
		found = memmem(raw.data, raw.len, needle, strlen(needle)) != NULL;
		am_strbuf_free(&gz);
		am_strbuf_free(&raw);
	}
	if (d)
		closedir(d);
	return found;
}

Test(daemon, profiler_symbolizes_a_process_that_exited_within_the_window, .init = setup,
     .fini = teardown, .timeout = 60)
{
	struct am_http_response r;
	struct am_strbuf err = {0};
	char extra[600];
	char *hot[] = {AM_TEST_BUILD_DIR "/tests/workloads/hot", "1", NULL};
	int port = am_http_free_port(), status;
	long long ms, deadline;
	double written = 0;

	AM_REQUIRE_BPF();
	if (access(hot[0], X_OK))
		cr_skip_test("skipped: build the workloads first (make tests)");
	snprintf(extra, sizeof(extra),
		 "execsnoop:\n  enabled: false\n"
		 "profiler:\n  enabled: true\n  frequency: 99\n  window: 3s\n"
		 "  output_dir: %s/profiles\n  retention: 5\n",
		 dir);
	start_agent(port, extra);
	cr_assert_eq(wait_http(port, "/healthz", 15000, &r), 0, "stderr:\n%s", agent_stderr(&err));
	am_http_response_free(&r);
	/* hot starts after the window did and exits before it ends: only the new-process notice
	 * handled by the daemon's loop lets its frames be symbolized. */
	status = am_test_run(hot, NULL, NULL);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	deadline = am_test_now_ms() + 15000;
	while (am_test_now_ms() < deadline && written < 1) {
		cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 5000, &r), 0);
		if (!sample_value(r.body.data, "antimetal_profiler_profiles_written_total",
				  &written))
			written = 0;
		am_http_response_free(&r);
		am_test_sleep_ms(200); /* re-read the counter: the loop ends on its value */
	}
	cr_assert_geq(written, 1, "no profile written; stderr:\n%s", agent_stderr(&err));
	status = terminate(&ms);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert(profiles_contain("hot_a"), "hot_a not in any profile");
	am_strbuf_free(&err);
}
