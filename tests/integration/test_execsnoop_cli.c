/* `antimetal-agent execsnoop` end to end: the real binary traces a real exec, its output is
 * checked byte for byte; bad input exits 2, missing privileges exit 1; signals and -d end it
 * cleanly with a summary. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json_check.h"
#include "testutil.h"

#define AGENT AM_TEST_BUILD_DIR "/antimetal-agent"

/* Whether FILE comes to contain NEEDLE within 10 s. */
static bool wait_file_has(const char *file, const char *needle)
{
	return am_test_wait_file_text(file, needle, 10000, 0);
}

static int run_status(char *const argv[], struct am_strbuf *out, struct am_strbuf *err)
{
	int st = am_test_run(argv, out, err);

	cr_assert(st >= 0 && WIFEXITED(st), "agent did not exit normally");
	return WEXITSTATUS(st);
}

static void expect_usage_error(char *const argv[], const char *names)
{
	struct am_strbuf out = {0}, err = {0};

	cr_expect_eq(run_status(argv, &out, &err), 2, "%s: want exit 2", names);
	cr_expect(err.data && strstr(err.data, names), "%s: stderr does not name it: %s", names,
		  err.data ? err.data : "");
	cr_expect(err.data && strstr(err.data, "usage:"), "%s: no usage text", names);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(execsnoop_cli, bad_flags_and_values_exit_2)
{
	expect_usage_error((char *[]){AGENT, "execsnoop", "--bogus", NULL}, "--bogus");
	expect_usage_error((char *[]){AGENT, "execsnoop", "--max-args", "abc", NULL}, "--max-args");
	expect_usage_error((char *[]){AGENT, "execsnoop", "--max-args", "0", NULL}, "--max-args");
	expect_usage_error((char *[]){AGENT, "execsnoop", "--max-args", "257", NULL}, "--max-args");
	expect_usage_error((char *[]){AGENT, "execsnoop", "--max-args-size", "99999", NULL},
			   "--max-args-size");
	expect_usage_error((char *[]){AGENT, "execsnoop", "-d", "-1", NULL}, "--duration");
	expect_usage_error((char *[]){AGENT, "execsnoop", "-d", "soon", NULL}, "--duration");
	expect_usage_error((char *[]){AGENT, "execsnoop", "-u", "no-such-user-antimetal", NULL},
			   "--uid");
	expect_usage_error((char *[]){AGENT, "execsnoop", "-n", "sixteen-bytes-xx", NULL},
			   "--comm");
	expect_usage_error((char *[]){AGENT, "execsnoop", "--name", "sixteen-bytes-xx", NULL},
			   "--comm");
	expect_usage_error((char *[]){AGENT, "execsnoop", "--comm", "sixteen-bytes-xx", NULL},
			   "--comm");
	/* -c is perf's sample period; execsnoop has none (-d: were it accepted, the run ends) */
	expect_usage_error((char *[]){AGENT, "execsnoop", "-c", "bash", "-d", "1", NULL}, "'-c'");
	expect_usage_error((char *[]){AGENT, "execsnoop", "--stats-interval", "x", NULL},
			   "--stats-interval");
	expect_usage_error((char *[]){AGENT, "execsnoop", "--batch-ms", "1001", NULL},
			   "--batch-ms");
	expect_usage_error((char *[]){AGENT, "execsnoop", "--cgroup", "/tmp", NULL}, "--cgroup");
	expect_usage_error((char *[]){AGENT, "execsnoop", "--uid", NULL}, "--uid");
	expect_usage_error((char *[]){AGENT, "execsnoop", "stray", NULL}, "stray");
}

Test(execsnoop_cli, btf_option_uses_or_rejects_the_file)
{
	char *dir = am_test_mkdtemp("execsnoop-btf"), bad[4096];
	struct am_strbuf out = {0}, err = {0};

	snprintf(bad, sizeof(bad), "%s/corrupt.btf", dir);
	cr_assert_eq(am_test_write_file(bad, "\x9f\xeb\x01\x00garbage", 11), 0);
	cr_expect_eq(
	    run_status((char *[]){AGENT, "execsnoop", "--btf", bad, "-d", "0.1", NULL}, &out, &err),
	    2);
	cr_expect(err.data && strstr(err.data, bad), "the message does not name %s: %s", bad,
		  err.data ? err.data : "");
	am_strbuf_reset(&err);
	if (!*am_test_bpf_unavailable() && !access("/sys/kernel/btf/vmlinux", R_OK)) {
		/* an explicit, valid file is what the program is relocated against */
		cr_expect_eq(run_status((char *[]){AGENT, "execsnoop", "--btf",
						   "/sys/kernel/btf/vmlinux", "-d", "0.1", NULL},
					&out, &err),
			     0, "%s", err.data ? err.data : "");
		cr_expect(err.data && strstr(err.data, "tracing execs"));
	}
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	am_test_rmtree(dir);
	free(dir);
}

Test(execsnoop_cli, help_exits_0)
{
	struct am_strbuf out = {0};

	cr_expect_eq(run_status((char *[]){AGENT, "execsnoop", "--help", NULL}, &out, NULL), 0);
	cr_expect(out.data && strstr(out.data, "--perf-buffer"));
	/* limits and defaults come from the collector's constants, as the parser's do */
	cr_expect(out.data && strstr(out.data, "(1 to 256, default 64)"), "%s", out.data);
	cr_expect(out.data && strstr(out.data, "(1 to 15360, default 4096)"), "%s", out.data);
	cr_expect(out.data && strstr(out.data, "-x, --fails"), "%s", out.data);
	cr_expect(out.data && strstr(out.data, "-n, --comm"), "%s", out.data);
	am_strbuf_free(&out);
}

/* A BTF file the user named is bad input however it was named: exit 2 for --btf and for
 * ANTIMETAL_BTF_PATH alike, with libbpf's error in words and the file named. */
Test(execsnoop_cli, named_btf_file_that_is_bad_exits_2_either_way)
{
	char *dir = am_test_mkdtemp("execsnoop-btf"), fifo[4096], junk[4096];
	struct am_strbuf err = {0};

	snprintf(fifo, sizeof(fifo), "%s/fifo.btf", dir);
	snprintf(junk, sizeof(junk), "%s/junk.btf", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(am_test_write_file(junk, "garbagegarbagegarbage", 21), 0);
	cr_expect_eq(run_status((char *[]){AGENT, "execsnoop", "--btf", fifo, "-d", "0.1", NULL},
				NULL, &err),
		     2);
	cr_expect(err.data && strstr(err.data, fifo), "%s", err.data ? err.data : "");
	am_strbuf_reset(&err);
	setenv("ANTIMETAL_BTF_PATH", fifo, 1);
	cr_expect_eq(run_status((char *[]){AGENT, "execsnoop", "-d", "0.1", NULL}, NULL, &err), 2,
		     "%s", err.data ? err.data : "");
	cr_expect(err.data && strstr(err.data, fifo), "%s", err.data ? err.data : "");
	am_strbuf_reset(&err);
	setenv("ANTIMETAL_BTF_PATH", junk, 1);
	cr_expect_eq(run_status((char *[]){AGENT, "execsnoop", "-d", "0.1", NULL}, NULL, &err), 2);
	unsetenv("ANTIMETAL_BTF_PATH");
	cr_expect(err.data && strstr(err.data, junk), "%s", err.data ? err.data : "");
	cr_expect(err.data && !strstr(err.data, "Unknown error"), "libbpf's code as a number: %s",
		  err.data ? err.data : "");
	am_strbuf_free(&err);
	am_test_rmtree(dir);
	free(dir);
}

Test(execsnoop_cli, without_privileges_names_the_capability)
{
	struct am_strbuf err = {0};
	int fds[2], st;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	if (geteuid() != 0) {
		char *argv[] = {AGENT, "execsnoop", "-d", "1", NULL};

		cr_expect_eq(run_status(argv, NULL, &err), 1);
	} else {
		/* Drop to nobody, as an unprivileged user would run it. */
		cr_assert_eq(pipe(fds), 0);
		pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			dup2(fds[1], 2);
			close(fds[0]);
			if (setgid(65534) || setuid(65534))
				_exit(99);
			execl(AGENT, AGENT, "execsnoop", "-d", "1", (char *)NULL);
			_exit(98);
		}
		close(fds[1]);
		while ((n = read(fds[0], buf, sizeof(buf))) > 0)
			am_strbuf_append(&err, buf, (size_t)n);
		close(fds[0]);
		waitpid(pid, &st, 0);
		cr_assert(WIFEXITED(st));
		cr_expect_eq(WEXITSTATUS(st), 1, "exit %d, want 1", WEXITSTATUS(st));
	}
	cr_expect(err.data && strstr(err.data, "CAP_BPF"), "stderr: %s", err.data ? err.data : "");
	cr_expect(err.data && !strstr(err.data, "tracing execs"), "it attached anyway");
	am_strbuf_free(&err);
}

/* Start the agent with EXTRA options; returns its pid once it says it is tracing. */
static pid_t start_agent(const char *dir, char *const extra[])
{
	char *argv[16] = {AGENT, "execsnoop"}, err[4096];
	int i, n = 2;
	pid_t pid;

	for (i = 0; extra[i] && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid = am_test_spawn(argv, dir);
	cr_assert_gt(pid, 0);
	snprintf(err, sizeof(err), "%s/err.txt", dir);
	if (!am_test_wait_file_text(err, "tracing execs", 10000, pid)) {
		am_test_reap(pid);
		cr_assert_fail("the agent never said it was tracing");
	}
	return pid;
}

static pid_t exec_child(char *const argv_lit[])
{
	char *argv[16];
	pid_t pid;
	int i, st;

	for (i = 0; argv_lit[i]; i++)
		argv[i] = strdup(argv_lit[i]); /* resident in the child: see test_execsnoop.c */
	argv[i] = NULL;
	pid = am_test_start_quiet(argv);
	waitpid(pid, &st, 0);
	for (i = 0; argv[i]; i++)
		free(argv[i]);
	return pid;
}

static int stop_agent(pid_t pid, int sig)
{
	int st;

	kill(pid, sig);
	if (am_test_wait_exit(pid, 10000, &st)) {
		am_test_reap(pid);
		cr_assert_fail("the agent ignored signal %d", sig);
	}
	cr_assert(WIFEXITED(st), "agent killed by signal %d instead of exiting",
		  WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return WEXITSTATUS(st);
}

/* The line of OUT that describes PID's exec, or NULL. */
static char *exec_line(const char *out, pid_t pid)
{
	char key[64];
	const char *p, *start, *end;

	snprintf(key, sizeof(key), "\"type\":\"exec\"");
	for (p = out; (p = strstr(p, key)); p++) {
		char pidkey[48];

		start = p;
		while (start > out && start[-1] != '\n')
			start--;
		end = strchr(p, '\n');
		snprintf(pidkey, sizeof(pidkey), "\"pid\":%d,", pid);
		if (end && memmem(start, (size_t)(end - start), pidkey, strlen(pidkey)))
			return strndup(start, (size_t)(end - start));
	}
	return NULL;
}

Test(execsnoop_cli, json_output_is_exact_and_sigint_stops_cleanly)
{
	char *argv[] = {"/bin/echo",
			"two words",
			"quo\"te's",
			"new\nline",
			"\xc3\xbcnic\xc3\xb8"
			"de \xe2\x9c\x93",
			"bad \xff byte",
			"",
			NULL};
	char *dir, file[4096], *line, needle[64];
	struct am_strbuf out = {0}, err = {0};
	pid_t agent, child;

	AM_REQUIRE_BPF();
	dir = am_test_mkdtemp("execsnoop-cli");
	/* started as a shell starts a background job, with SIGINT ignored: it must still stop */
	signal(SIGINT, SIG_IGN);
	agent = start_agent(dir, (char *[]){"--json", "--stats-interval", "0", NULL});
	signal(SIGINT, SIG_DFL);
	child = exec_child(argv);
	snprintf(file, sizeof(file), "%s/out.txt", dir);
	snprintf(needle, sizeof(needle), "\"pid\":%d,", child);
	cr_expect(wait_file_has(file, needle), "no record of pid %d", child);
	cr_expect_eq(stop_agent(agent, SIGINT), 0);
	cr_assert_eq(am_test_read_file(file, &out), 0);
	line = exec_line(out.data, child);
	cr_assert_not_null(line, "no exec line for pid %d in:\n%s", child, out.data);
	cr_expect(strstr(line,
			 "\"args\":[\"/bin/echo\",\"two words\",\"quo\\\"te's\",\"new\\nline\","
			 "\"\xc3\xbcnic\xc3\xb8"
			 "de \xe2\x9c\x93\",{\"base64\":\"YmFkIP8gYnl0ZQ==\"},\"\"],"
			 "\"args_truncated\":false"),
		  "args not exact: %s", line);
	cr_expect(strstr(line, "\"comm\":\"echo\""), "%s", line);
	cr_expect(strstr(line, "\"filename\":\"/bin/echo\""), "%s", line);
	cr_expect(strstr(line, "\"ret\":0}"), "%s", line);
	snprintf(needle, sizeof(needle), "\"ppid\":%d,\"uid\":%u,", getpid(), getuid());
	cr_expect(strstr(line, needle), "want %s in %s", needle, line);
	free(line);
	/* every line is one valid JSON value (strict parser); one is the final stats line */
	for (const char *l = out.data; *l;) {
		const char *nl = strchr(l, '\n');

		cr_assert_not_null(nl, "last line unterminated");
		cr_expect(am_test_json_valid(l, (size_t)(nl - l)), "invalid JSON line: %.*s",
			  (int)(nl - l), l);
		l = nl + 1;
	}
	cr_expect(strstr(out.data, "{\"type\":\"stats\"") && strstr(out.data, "\"final\":true"),
		  "no final stats line");
	cr_expect(strstr(out.data, "\"drops\":0,"), "drops reported");
	snprintf(file, sizeof(file), "%s/err.txt", dir);
	cr_assert_eq(am_test_read_file(file, &err), 0);
	cr_expect(strstr(err.data, "0 dropped"), "summary: %s", err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	am_test_rmtree(dir);
	free(dir);
}

Test(execsnoop_cli, text_table_escapes_and_sigterm_stops_cleanly)
{
	char *argv[] = {"/bin/echo", "a b", "new\nline", "\xff", "", NULL};
	char *dir, file[4096], needle[128];
	struct am_strbuf out = {0}, err = {0};
	pid_t agent, child;

	AM_REQUIRE_BPF();
	dir = am_test_mkdtemp("execsnoop-cli");
	agent = start_agent(dir, (char *[]){"-T", "--exits", "--perf-buffer", NULL});
	child = exec_child(argv);
	snprintf(file, sizeof(file), "%s/out.txt", dir);
	snprintf(needle, sizeof(needle), "%-7d %-7d EXIT", child, getpid());
	cr_expect(wait_file_has(file, needle), "no exit line for pid %d", child);
	cr_expect_eq(stop_agent(agent, SIGTERM), 0);
	cr_assert_eq(am_test_read_file(file, &out), 0);
	cr_expect(!strncmp(out.data, "TIME     PCOMM", 14), "header: %.40s", out.data);
	snprintf(needle, sizeof(needle),
		 "%-7d %-7d 0       /bin/echo 'a b' $'new\\nline' $'\\xff' ''\n", child, getpid());
	cr_expect(strstr(out.data, needle), "want [%s] in:\n%s", needle, out.data);
	snprintf(needle, sizeof(needle), "%-7d %-7d EXIT    [exit 0 after ", child, getpid());
	cr_expect(strstr(out.data, needle), "want [%s]", needle);
	snprintf(file, sizeof(file), "%s/err.txt", dir);
	cr_assert_eq(am_test_read_file(file, &err), 0);
	cr_expect(strstr(err.data, "perf buffer"), "stderr: %s", err.data);
	cr_expect(strstr(err.data, "execsnoop: ") && strstr(err.data, " dropped"), "no summary");
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	am_test_rmtree(dir);
	free(dir);
}

/* -x is bcc's --fails (include failed execs): it filters nothing out, so a successful exec is
 * still reported; --failed keeps only the failures. --cgroup takes a path relative to the
 * cgroup2 mount too, as profile's does. */
Test(execsnoop_cli, bcc_flags_mean_what_they_mean_in_bcc)
{
	char *argv[] = {"/bin/true", NULL};
	char *dir, file[4096], needle[64], cg[4096] = "", line[4096];
	struct am_strbuf out = {0};
	pid_t agent, child;
	FILE *f;

	AM_REQUIRE_BPF();
	f = fopen("/proc/self/cgroup", "re");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3))
			snprintf(cg, sizeof(cg), "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
	fclose(f);
	dir = am_test_mkdtemp("execsnoop-cli");
	if (*cg && strcmp(cg, "/"))
		agent = start_agent(dir, (char *[]){"--json", "-x", "--cgroup", cg, NULL});
	else
		agent = start_agent(dir, (char *[]){"--json", "-x", NULL});
	child = exec_child(argv);
	snprintf(file, sizeof(file), "%s/out.txt", dir);
	snprintf(needle, sizeof(needle), "\"pid\":%d,", child);
	cr_expect(wait_file_has(file, needle), "-x left out the successful exec of pid %d", child);
	cr_expect_eq(stop_agent(agent, SIGTERM), 0);
	cr_assert_eq(am_test_read_file(file, &out), 0);
	cr_expect(strstr(out.data, "\"ret\":0}"), "%s", out.data);
	am_strbuf_free(&out);
	am_test_rmtree(dir);
	free(dir);
}

Test(execsnoop_cli, duration_ends_the_run_with_periodic_stats)
{
	char *argv[] = {AGENT, "execsnoop", "-d",   "1",	"--json", "--stats-interval",
			"0.2", "-u",	    "root", "--failed", NULL};
	struct am_strbuf out = {0}, err = {0};
	double t0 = am_test_now_s();
	const char *p;
	int periodic = 0, final = 0;

	AM_REQUIRE_BPF();
	cr_expect_eq(run_status(argv, &out, &err), 0, "%s", err.data ? err.data : "");
	cr_expect_lt(am_test_now_s() - t0, 10.0, "-d 1 did not end the run");
	cr_expect(err.data && strstr(err.data, " dropped"), "no summary: %s", err.data);
	for (p = out.data ? out.data : ""; (p = strstr(p, "{\"type\":\"stats\"")); p++) {
		const char *nl = strchr(p, '\n');

		cr_assert_not_null(nl);
		cr_expect(am_test_json_valid(p, (size_t)(nl - p)), "%.*s", (int)(nl - p), p);
		if (memmem(p, (size_t)(nl - p), "\"final\":true", 12))
			final++;
		else
			periodic++;
	}
	/* 1 s at 0.2 s intervals: 4 or 5 periodic lines on a busy host, never fewer than 3 */
	cr_expect_geq(periodic, 3, "%d periodic stats lines in:\n%s", periodic, out.data);
	cr_expect_eq(final, 1, "want exactly one final stats line");
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* The same promise as profile's: a positive duration under a millisecond ends the run. */
Test(execsnoop_cli, submillisecond_duration_still_ends_the_run)
{
	char *argv[] = {AGENT, "execsnoop", "-d", "0.0005", "--json", NULL};
	struct am_strbuf out = {0};
	char file[4096], *dir;
	pid_t agent;
	int st, err;

	AM_REQUIRE_BPF();
	dir = am_test_mkdtemp("execsnoop-d");
	cr_assert_not_null(dir);
	agent = am_test_spawn(argv, dir);
	cr_assert_gt(agent, 0);
	err = am_test_wait_exit(agent, 20000, &st);
	cr_assert_eq(err, 0, "execsnoop -d 0.0005 still ran after 20 s");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "execsnoop -d 0.0005: status %d", st);
	snprintf(file, sizeof(file), "%s/out.txt", dir);
	cr_assert_eq(am_test_read_file(file, &out), 0);
	cr_expect(out.data && strstr(out.data, "\"final\":true"), "no final stats line: %s",
		  out.data ? out.data : "");
	am_strbuf_free(&out);
	am_test_rmtree(dir);
	free(dir);
}
