/* --call-graph dwarf and auto: programs without frame pointers (the test-built nofp_chain,
 * through the system's libc, and Debian's xz compressing random data) reach the process entry
 * (__libc_start_call_main) at least as often as `perf record --call-graph dwarf` on the same
 * process, with the hot functions under their callers; the losses are counted (a copy too
 * small for the stack, no user registers); the perf buffer path; bad input. */
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "testutil.h"
#include "util/strbuf.h"

#define AGENT	  AM_TEST_BUILD_DIR "/antimetal-agent"
#define WORKLOADS AM_TEST_BUILD_DIR "/tests/workloads/"
/* The process entry: glibc's __libc_start_call_main calls main, and __libc_start_main calls
 * it. The first is a local symbol, named only with libc's debug file (libc6-dbg; not in the
 * test-kernels guests): without it the frame is "[unknown] (libc.so.6)", and its exported
 * caller, always named, shows the stack went past it. A stack with either reached the entry. */
#define ENTRY	 "__libc_start_call_main"
#define ENTRY_UP "__libc_start_main"
#define UNNAMED	 "[unknown] (libc.so.6)"

static char *tmpdir;

static void setup(void)
{
	tmpdir = am_test_mkdtemp("unwind");
	cr_assert_not_null(tmpdir);
}

static void teardown(void)
{
	if (tmpdir)
		am_test_rmtree(tmpdir);
	free(tmpdir);
}

TestSuite(unwind, .init = setup, .fini = teardown, .timeout = 120);

static pid_t start(char *const argv[])
{
	struct am_test_spawn_opts o = {.out = "/dev/null"};
	pid_t pid = am_test_spawn_opts(argv, &o);

	cr_assert_gt(pid, 0, "cannot start %s", argv[0]);
	return pid;
}

/* The agent's profile command with ARGS (NULL-terminated) on PID; returns the exit status. */
static int profile(pid_t pid, struct am_strbuf *out, struct am_strbuf *err, const char *const *args)
{
	char *argv[40] = {AGENT, "profile", "-p"}, pidarg[16];
	int i, st;

	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	argv[3] = pidarg;
	for (i = 0; args[i] && i < 34; i++)
		argv[i + 4] = (char *)args[i];
	argv[i + 4] = NULL;
	am_strbuf_reset(out);
	am_strbuf_reset(err);
	st = am_test_run(argv, out, err);
	cr_assert(st >= 0 && WIFEXITED(st), "agent did not exit normally (status %d)", st);
	return WEXITSTATUS(st);
}

/* Samples of one program: all, those whose stack has ENTRY, and those with HOT; and those
 * without a user stack ("[missing user stack]": lost, and counted as such). */
struct shares {
	uint64_t total, entry, hot, missing;
};

static double pct(uint64_t part, uint64_t total)
{
	return total ? 100.0 * (double)part / (double)total : 0;
}

/* From folded output: the lines of COMM. */
static struct shares folded_shares(const char *folded, const char *comm, const char *hot)
{
	struct shares s = {0};
	const char *line = folded;
	size_t clen = strlen(comm);

	while (line && *line) {
		const char *nl = strchr(line, '\n'), *sp;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[16384];
		uint64_t n;

		if (len < sizeof(buf) && !strncmp(line, comm, clen) && line[clen] == ';') {
			memcpy(buf, line, len);
			buf[len] = '\0';
			sp = strrchr(buf, ' ');
			n = sp ? strtoull(sp + 1, NULL, 10) : 0;
			s.total += n;
			if (strstr(buf, ";" ENTRY ";") || strstr(buf, ";" ENTRY_UP ";"))
				s.entry += n;
			if (strstr(buf, hot))
				s.hot += n;
			if (strstr(buf, ";[missing user stack]"))
				s.missing += n;
		}
		line = nl ? nl + 1 : NULL;
	}
	return s;
}

/* From `perf script`: a sample is a header line, its frames (indented), a blank line. With
 * USER_ONLY, the samples taken in the kernel (the first frame in [kernel.kallsyms]) are left
 * out. */
static struct shares perf_shares(const char *script, const char *hot, bool user_only)
{
	struct shares s = {0};
	const char *line = script;
	bool in = false, entry = false, h = false, first = false, kernel = false;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[4096];

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1),
			 line);
		if (!len || !nl) {
			if (in && !(user_only && kernel)) {
				s.total++;
				s.entry += entry;
				s.hot += h;
			}
			in = entry = h = kernel = false;
		} else if (buf[0] != ' ' && buf[0] != '\t') {
			in = first = true;
		} else {
			if (first)
				kernel = strstr(buf, "[kernel.kallsyms]") != NULL;
			first = false;
			entry |= strstr(buf, " " ENTRY "+") != NULL ||
				 strstr(buf, " " ENTRY " ") != NULL ||
				 strstr(buf, " " ENTRY_UP "+") != NULL ||
				 strstr(buf, " " ENTRY_UP " ") != NULL;
			h |= strstr(buf, hot) != NULL;
		}
		line = nl ? nl + 1 : NULL;
	}
	return s;
}

/* perf record --call-graph dwarf on PID for SECS; false (with the reason) when perf cannot. */
static bool perf_dwarf(pid_t pid, const char *secs, const char *hot, bool user_only,
		       struct shares *out, char *why, size_t whylen)
{
	char cmd[8192];
	struct am_strbuf script = {0};
	int rc;

	if (system("perf version >/dev/null 2>&1")) {
		snprintf(why, whylen, "perf (linux-perf) cannot run here");
		return false;
	}
	snprintf(cmd, sizeof(cmd),
		 "perf record -q -e cpu-clock -F 499 --call-graph dwarf -p %d -o %s/perf.data -- "
		 "sleep %s >/dev/null 2>%s/perf.err && perf script -i %s/perf.data >%s/perf.txt "
		 "2>>%s/perf.err",
		 pid, tmpdir, secs, tmpdir, tmpdir, tmpdir, tmpdir);
	rc = system(cmd);
	snprintf(cmd, sizeof(cmd), "%s/perf.txt", tmpdir);
	if (rc || am_test_read_file(cmd, &script) || !script.data) {
		struct am_strbuf err = {0};

		snprintf(cmd, sizeof(cmd), "%s/perf.err", tmpdir);
		am_test_read_file(cmd, &err);
		snprintf(why, whylen, "perf record/script failed (%s %d): %.300s",
			 WIFSIGNALED(rc) ? "signal" : "exit",
			 WIFSIGNALED(rc) ? WTERMSIG(rc) : WEXITSTATUS(rc),
			 err.data ? err.data : "");
		am_strbuf_free(&err);
		am_strbuf_free(&script);
		return false;
	}
	*out = perf_shares(script.data, hot, user_only);
	am_strbuf_free(&script);
	return true;
}

/* Whether the kernel has bpf_task_pt_regs (5.15+), probed as the agent probes it. */
static bool have_task_regs(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_task_pt_regs, NULL) > 0;
}

/* dwarf and auto, then perf, on the same process: both modes reach the entry and have the
 * function HOT in their stacks at least as often as perf (2 points of sampling noise allowed),
 * and reach the entry in at least MIN_ENTRY percent. Before 5.15 (no bpf_task_pt_regs) a
 * sample taken in the kernel has no user registers: dwarf counts its user stack as lost
 * (kernel_mode_samples_without_task_regs_are_counted_or_fall_back checks that) and auto takes
 * it from the frame-pointer walk, so there dwarf is compared over the samples taken in user
 * mode, perf's too, and auto is not compared. */
static void compare_with_perf(pid_t pid, const char *comm, const char *hot, double min_entry)
{
	static const char *const modes[] = {"dwarf", "auto"};
	struct am_strbuf out = {0}, err = {0};
	bool regs = have_task_regs();
	struct shares a[2], p;
	char why[700];
	int i, rc;

	for (i = 0; i < 2; i++) {
		rc = profile(
		    pid, &out, &err,
		    (const char *[]){"-F", "499", "-d", "2", "--call-graph", modes[i], NULL});
		cr_assert_eq(rc, 0, "profile %s failed (%d): %s", modes[i], rc, err.data);
		a[i] = folded_shares(out.data, comm, hot);
		if (!regs && i == 0) {
			cr_log_info("%s --call-graph dwarf: %llu samples taken in the kernel left "
				    "out (no bpf_task_pt_regs before 5.15)",
				    comm, (unsigned long long)a[i].missing);
			a[i].total -= a[i].missing;
		}
		cr_log_info(
		    "%s --call-graph %s: %llu samples, %.1f%% reach the entry, %.1f%% in %s", comm,
		    modes[i], (unsigned long long)a[i].total, pct(a[i].entry, a[i].total),
		    pct(a[i].hot, a[i].total), hot);
		cr_assert_gt(a[i].total, 100, "too few samples (%s): %s", modes[i], out.data);
		cr_assert_geq(pct(a[i].entry, a[i].total), min_entry, "%s: %s", modes[i], out.data);
	}
	if (!perf_dwarf(pid, "2", hot, !regs, &p, why, sizeof(why))) {
		am_strbuf_free(&out);
		am_strbuf_free(&err);
		cr_skip_test("skipped the comparison: %s", why);
	}
	cr_log_info(
	    "%s perf --call-graph dwarf: %llu samples, %.1f%% reach the entry, %.1f%% in %s", comm,
	    (unsigned long long)p.total, pct(p.entry, p.total), pct(p.hot, p.total), hot);
	cr_assert_gt(p.total, 100, "perf took too few samples");
	if (!regs)
		cr_log_info("auto not compared with perf: before 5.15 its samples taken in the "
			    "kernel have the frame-pointer walk's user stacks");
	for (i = 0; i < (regs ? 2 : 1); i++) {
		cr_assert_geq(pct(a[i].entry, a[i].total) + 2.0, pct(p.entry, p.total),
			      "%s reaches the entry in %.1f%%, perf in %.1f%%", modes[i],
			      pct(a[i].entry, a[i].total), pct(p.entry, p.total));
		cr_assert_geq(pct(a[i].hot, a[i].total) + 2.0, pct(p.hot, p.total),
			      "%s has %s in %.1f%%, perf in %.1f%%", modes[i], hot,
			      pct(a[i].hot, a[i].total), pct(p.hot, p.total));
	}
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(unwind, no_frame_pointers_reach_the_entry_as_often_as_perf)
{
	char *argv[] = {WORKLOADS "nofp_chain", NULL};
	struct am_strbuf out = {0}, err = {0};
	struct shares s;
	pid_t pid;

	AM_REQUIRE_BPF();
	pid = start(argv);
	/* The frame-pointer walk loses the chain: it is what this is about. */
	cr_assert_eq(profile(pid, &out, &err,
			     (const char *[]){"-F", "499", "-d", "1", "--call-graph", "fp", NULL}),
		     0, "%s", err.data);
	s = folded_shares(out.data, "nofp_chain", "main;chain_a;chain_b;chain_c;chain_leaf");
	cr_log_info("nofp_chain --call-graph fp: %.1f%% reach the entry, %.1f%% the whole chain",
		    pct(s.entry, s.total), pct(s.hot, s.total));
	compare_with_perf(pid, "nofp_chain", "chain_leaf", 95);
	/* the whole chain, in order */
	cr_assert_eq(
	    profile(pid, &out, &err,
		    (const char *[]){"-F", "499", "-d", "1", "--call-graph", "auto", NULL}),
	    0, "%s", err.data);
	s = folded_shares(out.data, "nofp_chain",
			  ";" ENTRY ";main;chain_a;chain_b;chain_c;chain_leaf");
	s.hot += folded_shares(out.data, "nofp_chain",
			       ";" ENTRY_UP ";" UNNAMED ";main;chain_a;chain_b;chain_c;chain_leaf")
		     .hot;
	cr_assert_geq(pct(s.hot, s.total), 95, "%s", out.data);
	am_test_reap(pid);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(unwind, through_the_system_libc_without_frame_pointers)
{
	char *argv[] = {WORKLOADS "nofp_chain", "qsort", NULL};
	pid_t pid;

	AM_REQUIRE_BPF();
	pid = start(argv);
	/* main -> libc's qsort -> ... -> cmp -> the chain: CFI of libc.so.6 carries it. */
	compare_with_perf(pid, "nofp_chain", "msort_with_tmp", 95);
	am_test_reap(pid);
}

Test(unwind, debian_xz_reaches_the_entry_as_often_as_perf)
{
	char data[4096], cmd[8192];
	char *argv[] = {"/usr/bin/xz", "-6", "-T1", "-c", data, NULL};
	pid_t pid;

	AM_REQUIRE_BPF();
	if (access("/usr/bin/xz", X_OK))
		cr_skip_test("skipped: /usr/bin/xz is not installed (apt-get install xz-utils)");
	snprintf(data, sizeof(data), "%s/random", tmpdir);
	/* in bytes: the test-kernels guests' head (busybox) takes no suffix */
	snprintf(cmd, sizeof(cmd), "head -c %d /dev/urandom >%s", 200 << 20, data);
	cr_assert_eq(system(cmd), 0);
	pid = start(argv);
	compare_with_perf(pid, "xz", "lzma_", 60);
	am_test_reap(pid);
}

/* Sum of the numbers after NAME in the warnings ("... NAME: N"). */
static uint64_t warned(const char *err, const char *name)
{
	const char *p = err ? strstr(err, name) : NULL;

	return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

Test(unwind, a_copy_smaller_than_the_stack_is_cut_and_counted)
{
	char *argv[] = {WORKLOADS "nofp_chain", NULL};
	struct am_strbuf out = {0}, err = {0};
	uint64_t cut;
	pid_t pid;

	AM_REQUIRE_BPF();
	pid = start(argv);
	cr_assert_eq(
	    profile(pid, &out, &err,
		    (const char *[]){"-F", "499", "-d", "1", "--call-graph", "dwarf,64", NULL}),
	    0, "%s", err.data);
	cut = warned(err.data, "user stack cut: deeper than the bytes copied: ");
	cr_assert_gt(cut, 50, "no cut stacks counted: %s", err.data);
	cr_assert(strstr(out.data, ";[truncated];") != NULL, "no [truncated] frame: %s", out.data);
	cr_assert(strstr(out.data, ENTRY) == NULL && strstr(out.data, ";" ENTRY_UP ";") == NULL,
		  "64 bytes cannot reach the entry: %s", out.data);
	am_test_reap(pid);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* kernel.perf_event_max_stack, or -1. */
static long max_stack_sysctl(void)
{
	struct am_strbuf b = {0};
	long v = -1;

	if (!am_test_read_file("/proc/sys/kernel/perf_event_max_stack", &b) && b.data)
		v = strtol(b.data, NULL, 10);
	am_strbuf_free(&b);
	return v;
}

/* The kernel refuses the change (EBUSY) while call-chain buffers are in use: a perf event
 * recording call chains, or a loaded BPF program calling bpf_get_stack (another profiler on the
 * host): retried for a few seconds. */
static int set_max_stack_sysctl(long v)
{
	char s[32];
	int n = snprintf(s, sizeof(s), "%ld\n", v), i, err = -1;

	for (i = 0; i < 50 && err; i++) {
		err = am_test_write_file("/proc/sys/kernel/perf_event_max_stack", s, (size_t)n);
		if (err)
			am_test_sleep_ms(100);
	}
	return err;
}

/* deep_nofp recurses 300 frames: --max-stack 3 cuts it to the leaf and two callers, 200 (the
 * sysctl raised for the test, above the 127 a frame-pointer walk keeps) to 200 frames, and
 * 1000 keeps all of it, down to the entry. */
Test(unwind, max_stack_cuts_unwound_stacks_with_a_truncated_frame)
{
	char *argv[] = {WORKLOADS "deep_nofp", "300", NULL};
	struct am_strbuf out = {0}, err = {0};
	long was = max_stack_sysctl();
	struct shares s;
	pid_t pid;
	int rc;

	AM_REQUIRE_BPF();
	pid = start(argv);
	cr_assert_eq(profile(pid, &out, &err,
			     (const char *[]){"-F", "499", "-d", "1", "--call-graph", "dwarf",
					      "--max-stack", "3", NULL}),
		     0, "%s", err.data);
	s = folded_shares(out.data, "deep_nofp", "deep_nofp;[truncated];deep;deep;leaf ");
	cr_assert_gt(s.total, 50, "%s", out.data);
	cr_assert_geq(pct(s.hot, s.total), 90, "%s", out.data);
	cr_assert(strstr(err.data, "samples have a stack cut") != NULL, "%s", err.data);
	/* Frame-pointer stacks stop at the program's buffer. */
	cr_assert_eq(profile(pid, &out, &err,
			     (const char *[]){"-d", "0.2", "--call-graph", "fp", "--max-stack",
					      "128", NULL}),
		     2);
	cr_assert(strstr(err.data, "--call-graph fp") || strstr(err.data, "perf_event_max_stack"),
		  "%s", err.data);
	if (was < 0 || set_max_stack_sysctl(1000)) {
		am_test_reap(pid);
		cr_skip_test("skipped the deep part: cannot raise kernel.perf_event_max_stack "
			     "(busy: call-chain perf events or BPF programs using bpf_get_stack "
			     "elsewhere on the host)");
	}
	rc = profile(pid, &out, &err,
		     (const char *[]){"-F", "499", "-d", "1", "--call-graph", "dwarf,32768",
				      "--max-stack", "200", NULL});
	cr_assert_eq(rc, 0, "%s", err.data);
	s = folded_shares(out.data, "deep_nofp", "deep_nofp;[truncated];deep;");
	cr_assert_geq(pct(s.hot, s.total), 90, "not cut at 200 frames: %s", out.data);
	rc = profile(pid, &out, &err,
		     (const char *[]){"-F", "499", "-d", "1", "--call-graph", "dwarf,32768",
				      "--max-stack", "1000", NULL});
	cr_assert_eq(set_max_stack_sysctl(was), 0,
		     "kernel.perf_event_max_stack not restored to %ld", was);
	cr_assert_eq(rc, 0, "%s", err.data);
	s = folded_shares(out.data, "deep_nofp", ";main;deep;");
	cr_assert_geq(pct(s.entry, s.total), 90, "300 frames not unwound to the entry: %s",
		      out.data);
	am_test_reap(pid);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* syscall_heavy spends most samples in read(): in the kernel, where the user registers are
 * the task's saved ones. Without bpf_task_pt_regs (forced here, as before 5.15) dwarf counts
 * them as lost and auto falls back to the frame-pointer walk. */
Test(unwind, kernel_mode_samples_without_task_regs_are_counted_or_fall_back)
{
	char *argv[] = {WORKLOADS "syscall_heavy", "0", NULL};
	struct am_strbuf out = {0}, err = {0};
	struct shares s;
	pid_t pid;

	AM_REQUIRE_BPF();
	pid = start(argv);
	cr_assert_eq(
	    profile(pid, &out, &err,
		    (const char *[]){"-F", "499", "-d", "1", "--call-graph", "dwarf", NULL}),
	    0, "%s", err.data);
	s = folded_shares(out.data, "syscall_heavy", ";main;read_loop;read;");
	cr_assert_gt(s.total, 100, "%s", out.data);
	if (have_task_regs()) {
		cr_assert_gt(pct(s.hot, s.total), 50, "task registers: unwound through read: %s",
			     out.data);
	} else {
		/* what --no-task-regs makes of a later kernel, below, is this kernel's own */
		cr_log_info("no bpf_task_pt_regs (before 5.15): kernel-mode samples lost");
		cr_assert_gt(warned(err.data, "user stack lost: user registers unavailable: "), 50,
			     "%s", err.data);
		cr_assert_gt(pct(s.missing, s.total), 50, "%s", out.data);
	}
	cr_assert_eq(profile(pid, &out, &err,
			     (const char *[]){"-F", "499", "-d", "1", "--call-graph", "dwarf",
					      "--no-task-regs", NULL}),
		     0, "%s", err.data);
	cr_assert_gt(warned(err.data, "user stack lost: user registers unavailable: "), 50, "%s",
		     err.data);
	cr_assert(strstr(out.data, "[missing user stack]") != NULL, "%s", out.data);
	cr_assert_eq(profile(pid, &out, &err,
			     (const char *[]){"-F", "499", "-d", "1", "--call-graph", "auto",
					      "--no-task-regs", NULL}),
		     0, "%s", err.data);
	cr_assert(strstr(err.data, "user registers unavailable") == NULL, "%s", err.data);
	s = folded_shares(out.data, "syscall_heavy", ";main;read;");
	cr_assert_gt(pct(s.hot, s.total), 50, "auto: the frame-pointer walk: %s", out.data);
	am_test_reap(pid);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(unwind, the_perf_buffer_carries_the_copies_too)
{
	char *argv[] = {WORKLOADS "nofp_chain", NULL};
	struct am_strbuf out = {0}, err = {0};
	struct shares s;
	pid_t pid;

	AM_REQUIRE_BPF();
	pid = start(argv);
	cr_assert_eq(profile(pid, &out, &err,
			     (const char *[]){"-F", "499", "-d", "1", "--call-graph", "dwarf",
					      "--copy-buffer", "perfbuf", "-v", NULL}),
		     0, "%s", err.data);
	cr_assert(strstr(err.data, "through a perf buffer") != NULL, "%s", err.data);
	s = folded_shares(out.data, "nofp_chain", "main;chain_a;chain_b;chain_c;chain_leaf");
	cr_assert_gt(s.total, 100, "%s", out.data);
	cr_assert_geq(pct(s.entry, s.total), 95, "%s", out.data);
	am_test_reap(pid);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(unwind, bad_call_graph_is_bad_usage)
{
	static const char *const bad[] = {"foo",  "dwarf,7", "dwarf,0", "dwarf,32776",
					  "fp,8", "dwarf,",  "auto,-8", "dwarf,8x"};
	struct am_strbuf out = {0}, err = {0};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(profile(1, &out, &err, (const char *[]){"--call-graph", bad[i], NULL}),
			     2, "%s accepted", bad[i]);
		cr_assert(strstr(err.data, "--call-graph") != NULL, "%s", err.data);
	}
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}
