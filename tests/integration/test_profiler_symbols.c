/* The profiler's symbols end to end: inlined functions and file:line in the pprof Line entries
 * as `go tool pprof -lines` shows them (an -O2 -g workload), and a stripped binary named
 * through elfutils' debuginfod server on loopback (`profile` with DEBUGINFOD_URLS). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_get.h"
#include "testutil.h"

/* Sum of the folded lines containing NEEDLE, and of all lines. */
static unsigned long folded_sum(const char *folded, const char *needle, unsigned long *all);

#define AGENT	  AM_TEST_BUILD_DIR "/antimetal-agent"
#define WORKLOADS AM_TEST_BUILD_DIR "/tests/workloads/"

static char *tmpdir;

static void setup(void)
{
	tmpdir = am_test_mkdtemp("profsyms");
	cr_assert_not_null(tmpdir);
}

static void teardown(void)
{
	if (tmpdir)
		am_test_rmtree(tmpdir);
	free(tmpdir);
}

TestSuite(profiler_symbols, .init = setup, .fini = teardown, .timeout = 120);

/* Run BIN "0" (until reaped) with its output in a subdirectory. */
static pid_t spawn(const char *bin)
{
	char dir[4096], keep[4200];
	char *argv[] = {(char *)bin, "0", NULL};
	static int seq;
	pid_t pid;

	cr_assert_eq(access(bin, X_OK), 0, "workload %s not built", bin);
	snprintf(dir, sizeof(dir), "%s/w%d", tmpdir, seq++);
	snprintf(keep, sizeof(keep), "%s/.keep", dir);
	cr_assert_eq(am_test_write_file(keep, "", 0), 0);
	pid = am_test_spawn(argv, dir);
	cr_assert_gt(pid, 0);
	return pid;
}

/* `profile -F 499 -d SECONDS -p PID` plus ARGS (NULL-terminated); returns the exit status. */
static int profile(pid_t pid, const char *seconds, struct am_strbuf *out, struct am_strbuf *err,
		   const char *const *args)
{
	char pidarg[16],
	    *argv[32] = {AGENT, "profile", "-F", "499", "-d", (char *)seconds, "-p", pidarg};
	int i, st;

	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	for (i = 0; args[i] && i < 20; i++)
		argv[i + 8] = (char *)args[i];
	argv[i + 8] = NULL;
	st = am_test_run(argv, out, err);
	cr_assert(st >= 0 && WIFEXITED(st), "agent did not exit normally (status %d)", st);
	return WEXITSTATUS(st);
}

static bool go_tool_pprof_runs(void)
{
	return system("go version >/dev/null 2>&1") == 0;
}

Test(profiler_symbols, inlined_functions_and_lines_in_go_tool_pprof)
{
	struct am_strbuf out = {0}, err = {0}, top = {0};
	char file[4096], cmd[8300];
	unsigned long inl = 0, own = 0, total = 0;
	const char *p;
	pid_t pid;
	int rc;

	AM_REQUIRE_BPF();
	if (!go_tool_pprof_runs())
		cr_skip_test("skipped: go (golang-go) is not installed, go tool pprof cannot run");
	pid = spawn(WORKLOADS "inline_hot");
	snprintf(file, sizeof(file), "%s/cpu.pb.gz", tmpdir);
	rc = profile(pid, "2", &out, &err, (const char *[]){"--format", "pprof", "-o", file, NULL});
	am_test_reap(pid);
	cr_assert_eq(rc, 0, "profile failed: %s", err.data);
	snprintf(cmd, sizeof(cmd),
		 "GOTOOLCHAIN=local GOPROXY=off go tool pprof -lines -top %s > %s/top.txt 2>&1",
		 file, tmpdir);
	cr_assert_eq(system(cmd), 0, "go tool pprof -lines failed");
	snprintf(cmd, sizeof(cmd), "%s/top.txt", tmpdir);
	cr_assert_eq(am_test_read_file(cmd, &top), 0);
	/* Rows "FLAT FLAT% SUM% CUM CUM% NAME FILE:LINE [(inline)]". */
	for (p = top.data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *nl = strchr(p, '\n'), *mark = strstr(p, "(inline)");
		unsigned long flat;
		char name[128], where[512];

		if (sscanf(p, "%lu %*s %*s %*s %*s %127s %511s", &flat, name, where) != 3)
			continue;
		total += flat;
		if (!strcmp(name, "mix_step") && strstr(where, "inline_hot.c:") && mark &&
		    (!nl || mark < nl))
			inl += flat;
		if (!strcmp(name, "spin") && strstr(where, "inline_hot.c:"))
			own += flat;
	}
	cr_log_info("go tool pprof -lines: mix_step (inline) %lu, spin %lu of %lu", inl, own,
		    total);
	/* mix_step is most of spin's loop body: most samples land in its lines. */
	cr_assert_gt(total, 300, "too few samples:\n%s", top.data);
	cr_assert_gt(inl, total / 3, "inlined mix_step with file:line missing:\n%s", top.data);
	cr_assert_gt(inl + own, total * 9 / 10, "spin and mix_step lines are not the profile:\n%s",
		     top.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	am_strbuf_free(&top);
}

/* Sum of the folded lines containing NEEDLE, and of all lines. */
static unsigned long folded_sum(const char *folded, const char *needle, unsigned long *all)
{
	unsigned long sum = 0;
	const char *p;

	*all = 0;
	for (p = folded; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *nl = strchr(p, '\n'), *sp = NULL, *q, *hit = strstr(p, needle);

		for (q = p; *q && q != nl; q++)
			if (*q == ' ')
				sp = q;
		if (!sp)
			continue;
		*all += strtoul(sp + 1, NULL, 10);
		if (hit && hit < sp)
			sum += strtoul(sp + 1, NULL, 10);
	}
	return sum;
}

/* hot's stacks are hot_a or hot_b <- main <- __libc_start_call_main: at two frames each is
 * cut, and says so; the whole stack comes back without the flag. */
Test(profiler_symbols, max_stack_cuts_with_a_truncated_frame)
{
	struct am_strbuf out = {0}, err = {0};
	unsigned long cut, all;
	pid_t pid;
	int rc;

	AM_REQUIRE_BPF();
	pid = spawn(WORKLOADS "hot");
	rc = profile(pid, "1", &out, &err, (const char *[]){"--max-stack", "2", NULL});
	cr_assert_eq(rc, 0, "profile failed: %s", err.data);
	cut = folded_sum(out.data, "hot;[truncated];main;hot_", &all);
	cr_assert_gt(all, 200, "too few samples:\n%s", out.data);
	cr_assert_eq(cut, all, "stacks not cut at 2 frames:\n%s", out.data);
	cr_assert(
	    strstr(err.data, "samples have a stack cut: deeper than 2 kernel or 2 user frames"),
	    "truncation not reported: %s", err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	rc = profile(pid, "1", &out, &err, (const char *[]){NULL});
	am_test_reap(pid);
	cr_assert_eq(rc, 0, "profile failed: %s", err.data);
	cr_assert_eq(folded_sum(out.data, "[truncated]", &all), 0, "cut by default:\n%s", out.data);
	cr_assert_gt(folded_sum(out.data, "__libc_start_call_main;main;hot_", &all), all * 9 / 10,
		     "%s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(profiler_symbols, max_stack_out_of_range_is_bad_usage)
{
	struct am_strbuf out = {0}, err = {0};
	char line[64] = "", over[32];
	unsigned long k = 0;
	FILE *f;
	int rc;

	rc = profile(1, "1", &out, &err, (const char *[]){"--max-stack", "0", NULL});
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err.data, "--max-stack"), "%s", err.data);
	am_strbuf_free(&err);
	rc = profile(1, "1", &out, &err, (const char *[]){"--max-stack", "128", NULL});
	cr_assert_eq(rc, 2, "past the program's 127 frames accepted");
	am_strbuf_free(&err);
	f = fopen("/proc/sys/kernel/perf_event_max_stack", "r");
	if (f && fgets(line, sizeof(line), f))
		k = strtoul(line, NULL, 10);
	if (f)
		fclose(f);
	if (!k || k >= 127) {
		cr_log_info("kernel.perf_event_max_stack is %lu: its limit is not below ours", k);
		return;
	}
	snprintf(over, sizeof(over), "%lu", k + 1);
	rc = profile(1, "1", &out, &err, (const char *[]){"--max-stack", over, NULL});
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err.data, "kernel.perf_event_max_stack"), "%s", err.data);
	am_strbuf_free(&err);
}

/* The build-id of FILE, from readelf -n. */
static void build_id(const char *file, char bid[41])
{
	char cmd[4300], line[256];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -n %s", file);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	bid[0] = '\0';
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, " Build ID: %40s", bid) == 1)
			break;
	pclose(p);
	cr_assert_eq(strlen(bid), 40, "no build-id in %s", file);
}

/* A stripped copy of hot, its debug file served by debuginfod on loopback: `profile` with
 * DEBUGINFOD_URLS names hot_a and hot_b, and without it they are unknown. */
Test(profiler_symbols, stripped_binary_named_through_debuginfod)
{
	struct am_strbuf out = {0}, err = {0};
	char bin[4200], srv[4200], db[4200], cmd[16384], port_s[16], url[64], bid[41];
	unsigned long named, all;
	pid_t server, pid;
	int i, rc;

	AM_REQUIRE_BPF();
	if (access("/usr/bin/debuginfod", X_OK) || system("command -v objcopy strip readelf "
							  "debuginfod-find >/dev/null 2>&1"))
		cr_skip_test("skipped: debuginfod or binutils is not installed");
	snprintf(bin, sizeof(bin), "%s/hot", tmpdir);
	snprintf(srv, sizeof(srv), "%s/srv", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s && objcopy --only-keep-debug " WORKLOADS "hot %s/hot.debug && "
		 "strip --strip-all -o %s " WORKLOADS "hot",
		 srv, srv, bin);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	build_id(bin, bid);
	snprintf(port_s, sizeof(port_s), "%d", am_http_free_port());
	snprintf(db, sizeof(db), "%s/index.sqlite", tmpdir);
	{
		char *argv[] = {"/usr/bin/debuginfod", "-p", port_s, "-d", db, "-F", srv, NULL};
		struct am_test_spawn_opts o = {.out = "/dev/null", .err = "/dev/null"};

		server = am_test_spawn_opts(argv, &o);
	}
	cr_assert_gt(server, 0, "debuginfod did not start");
	snprintf(url, sizeof(url), "http://127.0.0.1:%s", port_s);
	/* It indexes in the background: ask until it answers, each time with a new cache (a
	 * client remembers a miss for 10 minutes). */
	for (i = 0; i < 300; i++) {
		snprintf(cmd, sizeof(cmd),
			 "DEBUGINFOD_URLS=%s DEBUGINFOD_CACHE_PATH=%s/probe%d debuginfod-find "
			 "debuginfo %s >/dev/null 2>&1",
			 url, tmpdir, i, bid);
		if (system(cmd) == 0)
			break;
		am_test_sleep_ms(100);
	}
	cr_assert_lt(i, 300, "debuginfod never served build-id %s", bid);
	pid = spawn(bin);
	rc = profile(pid, "1", &out, &err, (const char *[]){NULL});
	cr_assert_eq(rc, 0, "profile failed: %s", err.data);
	named = folded_sum(out.data, ";main;hot_", &all);
	cr_assert_eq(named, 0, "named without debuginfod:\n%s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	snprintf(db, sizeof(db), "%s/cache", tmpdir);
	setenv("DEBUGINFOD_URLS", url, 1);
	setenv("DEBUGINFOD_CACHE_PATH", db, 1);
	rc = profile(pid, "1", &out, &err, (const char *[]){NULL});
	unsetenv("DEBUGINFOD_URLS");
	unsetenv("DEBUGINFOD_CACHE_PATH");
	am_test_reap(pid);
	am_test_reap(server);
	cr_assert_eq(rc, 0, "profile failed: %s", err.data);
	named = folded_sum(out.data, ";main;hot_", &all);
	cr_log_info("through debuginfod: %lu of %lu samples in main;hot_a|b", named, all);
	cr_assert_gt(all, 200, "too few samples:\n%s", out.data);
	cr_assert_gt(named, all * 9 / 10, "not named through debuginfod:\n%s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}
