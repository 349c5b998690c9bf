/* The profile command end to end against the real kernel: the hot workload's 75/25 split,
 * kernel frames of a syscall-heavy workload, the ioctl and link attach paths, the software
 * fallback, a process that exits mid-profile, pprof read by go tool pprof, bad input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pty.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/ebpf/profiler.h"
#include "export/pprof.h"
#include "core/kversion.h"
#include "testutil.h"
#include "util/clock.h"

#define AGENT	  AM_TEST_BUILD_DIR "/antimetal-agent"
#define WORKLOADS AM_TEST_BUILD_DIR "/tests/workloads/"

static char *tmpdir;

static void setup(void)
{
	tmpdir = am_test_mkdtemp("profiler");
	cr_assert_not_null(tmpdir);
}

static void teardown(void)
{
	if (tmpdir)
		am_test_rmtree(tmpdir);
	free(tmpdir);
}

TestSuite(profiler, .init = setup, .fini = teardown, .timeout = 90);

/* Start a workload in the background; its output goes to files in a fresh subdirectory.
 * hot and syscall_heavy get "0": they run until am_test_reap() (or the end of this test's
 * process) stops them, so a slow agent start-up (seconds in a TCG guest) cannot outlast them. */
static pid_t spawn(const char *name, const char *a1, const char *a2)
{
	char path[4096], dir[4096];
	char *argv[] = {path, (char *)a1, (char *)a2, NULL};
	static int seq;
	pid_t pid;

	snprintf(path, sizeof(path), WORKLOADS "%s", name);
	cr_assert_eq(access(path, X_OK), 0, "workload %s not built", path);
	snprintf(dir, sizeof(dir), "%s/w%d", tmpdir, seq++);
	cr_assert_eq(am_test_write_file(strcat(strcpy(path + 2048, dir), "/.keep"), "", 0), 0);
	snprintf(path, sizeof(path), WORKLOADS "%s", name);
	pid = am_test_spawn(argv, dir);
	cr_assert_gt(pid, 0);
	return pid;
}

/* Run the agent's profile command with ARGS (NULL-terminated); returns the exit status. */
static int profile(struct am_strbuf *out, struct am_strbuf *err, const char *const *args)
{
	char *argv[32] = {AGENT, "profile"};
	int i, st;

	for (i = 0; args[i] && i < 29; i++)
		argv[i + 2] = (char *)args[i];
	argv[i + 2] = NULL;
	st = am_test_run(argv, out, err);
	cr_assert(st >= 0 && WIFEXITED(st), "agent did not exit normally (status %d)", st);
	return WEXITSTATUS(st);
}

/* Sum of the folded lines whose stack contains NEEDLE. */
static uint64_t folded_count(const char *folded, const char *needle)
{
	const char *line = folded;
	uint64_t sum = 0;

	while (line && *line) {
		const char *nl = strchr(line, '\n'), *sp;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[8192];

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			sp = strrchr(buf, ' ');
			if (sp && strstr(buf, needle) && strstr(buf, needle) < sp)
				sum += strtoull(sp + 1, NULL, 10);
		}
		line = nl ? nl + 1 : NULL;
	}
	return sum;
}

/* Points a share of N samples may stray from its expectation P (%): four standard deviations of
 * the binomial, at least 3. On the host 1999 Hz gives thousands of samples (about 1 point); an
 * emulated guest gets a few hundred (about 2), where a fixed 3 points failed by chance. */
static double share_slack(double p, double n)
{
	double sd = 100.0 * sqrt(p / 100.0 * (1.0 - p / 100.0) / n);

	return fmax(3.0, 4.0 * sd);
}

/* Profile the hot workload with ATTACH and check the split; returns hot_a's share and, in *N,
 * the samples it was taken from. */
static double hot_share(const char *attach, double *n)
{
	struct am_strbuf out = {0}, err = {0};
	char pidarg[16];
	pid_t pid = spawn("hot", "0", NULL);
	uint64_t a, b;
	double share;
	int rc;

	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	rc = profile(&out, &err,
		     (const char *[]){"-F", "1999", "-d", "3", "-p", pidarg, attach, NULL});
	am_test_reap(pid);
	cr_assert_eq(rc, 0, "profile failed (%d): %s", rc, err.data);
	cr_assert_not_null(out.data, "no folded output; stderr: %s", err.data);
	/* The pid filter: every line is the workload's. */
	cr_assert_eq(folded_count(out.data, "hot;"), folded_count(out.data, ""),
		     "lines of other processes in a -p profile:\n%s", out.data);
	a = folded_count(out.data, ";main;hot_a");
	b = folded_count(out.data, ";main;hot_b");
	cr_assert_gt(a + b, 500, "too few samples in hot_a/hot_b (%llu); output:\n%s",
		     (unsigned long long)(a + b), out.data);
	share = 100.0 * (double)a / (double)(a + b);
	*n = (double)(a + b);
	cr_assert(fabs(share - 75.0) <= share_slack(75.0, *n),
		  "hot_a share %.1f%% (a=%llu b=%llu), want 75 +- %.1f", share,
		  (unsigned long long)a, (unsigned long long)b, share_slack(75.0, *n));
	cr_assert(strstr(err.data, attach + strlen("--attach=")), "attach mode not reported: %s",
		  err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	return share;
}

/* BPF links for perf events came in 5.15; before, --attach=link is refused and auto takes the
 * ioctl (the 5.10 guest of `make test-kernels`). */
static bool have_perf_links(void)
{
	struct am_kver kv;

	return am_kver_host(&kv) == 0 && am_kver_at_least(&kv, 5, 15, 0);
}

Test(profiler, hot_workload_split_through_bpf_link)
{
	double n_link;

	AM_REQUIRE_BPF();
	if (!have_perf_links())
		cr_skip_test("skipped: no BPF links for perf events before 5.15 (the ioctl test "
			     "checks this kernel's attach)");
	hot_share("--attach=link", &n_link);
}

/* Where there are no links: auto picks the ioctl, and --attach=link is refused, saying why. */
static void assert_auto_is_ioctl(void)
{
	struct am_strbuf out = {0}, err = {0};
	char pidarg[16];
	pid_t pid = spawn("hot", "0", NULL);
	int rc;

	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	rc = profile(&out, &err, (const char *[]){"-F", "499", "-d", "1", "-p", pidarg, NULL});
	cr_assert_eq(rc, 0, "profile failed (%d): %s", rc, err.data);
	cr_assert(strstr(err.data, "(attach: ioctl)"), "auto did not take the ioctl: %s", err.data);
	am_strbuf_reset(&out);
	am_strbuf_reset(&err);
	rc = profile(&out, &err,
		     (const char *[]){"-F", "499", "-d", "1", "-p", pidarg, "--attach=link", NULL});
	am_test_reap(pid);
	cr_assert_neq(rc, 0, "--attach=link worked on a kernel before 5.15");
	cr_assert(strstr(err.data, "needs 5.15+"), "%s", err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(profiler, legacy_ioctl_attach_gives_the_same_result)
{
	double link, ioctl, n_link, n_ioctl;

	AM_REQUIRE_BPF();
	if (!have_perf_links()) {
		hot_share("--attach=ioctl", &n_ioctl);
		assert_auto_is_ioctl();
		return;
	}
	link = hot_share("--attach=link", &n_link);
	ioctl = hot_share("--attach=ioctl", &n_ioctl);
	/* The difference of two shares: its deviation is that of one share over the harmonic
	 * mean of the two counts. */
	cr_assert(fabs(link - ioctl) <= share_slack(75.0, n_link * n_ioctl / (n_link + n_ioctl)),
		  "link %.1f%% (%.0f samples) vs ioctl %.1f%% (%.0f samples)", link, n_link, ioctl,
		  n_ioctl);
}

static bool have_pmu(void)
{
	struct perf_event_attr attr = {.size = sizeof(attr),
				       .type = PERF_TYPE_HARDWARE,
				       .config = PERF_COUNT_HW_CPU_CYCLES,
				       .disabled = 1};
	long fd = syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);

	if (fd < 0)
		return false;
	close((int)fd);
	return true;
}

Test(profiler, hardware_event_falls_back_to_cpu_clock_without_pmu)
{
	struct am_strbuf out = {0}, err = {0};
	char pidarg[16];
	pid_t pid;
	int rc;

	AM_REQUIRE_BPF();
	if (have_pmu())
		cr_skip_test("skipped: this machine has a PMU, cycles needs no fallback "
			     "(see tests/hardware)");
	pid = spawn("hot", "0", NULL);
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	rc =
	    profile(&out, &err,
		    (const char *[]){"-e", "cycles", "-F", "499", "-d", "1.5", "-p", pidarg, NULL});
	cr_assert_eq(rc, 0, "profile -e cycles failed (%d): %s", rc, err.data);
	cr_assert(strstr(err.data, "event 'cycles' is not available") &&
		      strstr(err.data, "falling back to the software event cpu-clock"),
		  "no fallback line: %s", err.data);
	cr_assert_gt(folded_count(out.data, ";main;hot_a"), 0, "no samples after the fallback");

	/* --no-fallback makes the same request a runtime error. */
	am_strbuf_reset(&out);
	am_strbuf_reset(&err);
	rc = profile(
	    &out, &err,
	    (const char *[]){"-e", "cycles", "--no-fallback", "-d", "1", "-p", pidarg, NULL});
	am_test_reap(pid);
	cr_assert_eq(rc, 1, "--no-fallback exit %d, want 1: %s", rc, err.data);
	cr_assert(strstr(err.data, "--no-fallback"), "message: %s", err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

static bool kallsyms_has(const char *name)
{
	struct am_strbuf k = {0};
	char pat[256];
	bool found;

	cr_assert_eq(am_test_read_file("/proc/kallsyms", &k), 0);
	snprintf(pat, sizeof(pat), " %s\n", name);
	found = strstr(k.data, pat) != NULL;
	am_strbuf_free(&k);
	return found;
}

Test(profiler, syscall_heavy_workload_shows_kernel_frames)
{
	struct am_strbuf out = {0}, err = {0};
	char pidarg[16];
	pid_t pid = spawn("syscall_heavy", "0", NULL);
	uint64_t total, in_read;
	int rc;

	AM_REQUIRE_BPF();
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	rc = profile(&out, &err, (const char *[]){"-F", "499", "-d", "1.5", "-p", pidarg, NULL});
	am_test_reap(pid);
	cr_assert_eq(rc, 0, "profile failed (%d): %s", rc, err.data);
	total = folded_count(out.data, "syscall_heavy;");
	/* main -> read() -> the syscall entry -> vfs_read, all named from kallsyms. Between main
	 * and read: read_loop, which the frame-pointer walk skips (libc's read keeps no frame
	 * pointer, so the walk's first step returns to read_loop's caller); CFI sees it. */
	in_read =
	    folded_count(out.data, ";main;read;") + folded_count(out.data, ";main;read_loop;read;");
	cr_assert_gt(total, 100, "too few samples: %s", out.data);
	cr_assert_gt(in_read * 2, total, "most samples should be in read(): %s", out.data);
	cr_assert_gt(folded_count(out.data, ";vfs_read"), total / 2, "no vfs_read: %s", out.data);
	cr_assert_gt(folded_count(out.data, ";do_syscall_64;"), total / 2, "%s", out.data);
	cr_assert(kallsyms_has("vfs_read") && kallsyms_has("do_syscall_64"));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* Put PID in a fresh cgroup v2 directory under the cgroup2 mount; returns its path. */
static char *cgroup_with(pid_t pid)
{
	static const char *mounts[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	char path[4096], pidstr[16];
	char *dir;
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", mounts[i]);
		if (access(path, W_OK))
			continue;
		if (asprintf(&dir, "%s/antimetal-test-%d", mounts[i], getpid()) < 0)
			return NULL;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			free(dir);
			return NULL;
		}
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
		snprintf(pidstr, sizeof(pidstr), "%d", pid);
		if (am_test_write_file(path, pidstr, strlen(pidstr))) {
			rmdir(dir);
			free(dir);
			return NULL;
		}
		return dir;
	}
	return NULL;
}

Test(profiler, cgroup_filter_keeps_only_that_cgroup)
{
	struct am_strbuf out = {0}, err = {0};
	pid_t pid = spawn("hot", "0", NULL), other = spawn("syscall_heavy", "0", NULL);
	char *cg;
	int rc;

	AM_REQUIRE_BPF();
	cg = cgroup_with(pid);
	if (!cg) {
		am_test_reap(pid);
		am_test_reap(other);
		cr_skip_test("skipped: no writable cgroup v2 hierarchy to create a test cgroup in");
	}
	rc = profile(&out, &err, (const char *[]){"-F", "499", "-d", "1.5", "--cgroup", cg, NULL});
	am_test_reap(pid);
	am_test_reap(other);
	rmdir(cg); /* empty once the workload is reaped */
	cr_assert_eq(rc, 0, "%s", err.data);
	cr_assert_gt(folded_count(out.data, "hot;"), 100, "%s", out.data);
	cr_assert_eq(folded_count(out.data, "hot;"), folded_count(out.data, ""),
		     "samples from outside the cgroup:\n%s", out.data);
	free(cg);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* Copy the hot workload to DIR/NAME (stripped with STRIP), run it and delete the file. */
static pid_t run_copy(const char *name, bool strip)
{
	char cmd[16384], path[2048];
	char *argv[] = {path, "0", NULL};
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof(cmd), "cp %s %s%s%s", WORKLOADS "hot", path, strip ? " && strip " : "",
		 strip ? path : "");
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	pid = am_test_spawn(argv, tmpdir); /* returns once the exec is done */
	cr_assert_gt(pid, 0);
	cr_assert_eq(unlink(path), 0);
	return pid;
}

Test(profiler, deleted_binary_symbolized_and_stripped_one_unknown_with_module)
{
	struct am_strbuf out = {0}, err = {0};
	char a[16], b[16];
	pid_t deleted, stripped;
	int rc;

	AM_REQUIRE_BPF();
	deleted = run_copy("hot_deleted", false);
	stripped = run_copy("hot_stripped", true);
	snprintf(a, sizeof(a), "%d", deleted);
	snprintf(b, sizeof(b), "%d", stripped);
	rc =
	    profile(&out, &err, (const char *[]){"-F", "499", "-d", "1.5", "-p", a, "-p", b, NULL});
	am_test_reap(deleted);
	am_test_reap(stripped);
	cr_assert_eq(rc, 0, "%s", err.data);
	/* The file is gone, but /proc/PID/map_files still reaches it. */
	cr_assert_gt(folded_count(out.data, "hot_deleted;"), 100, "%s", out.data);
	cr_assert_gt(folded_count(out.data, ";main;hot_a"),
		     folded_count(out.data, "hot_deleted;") / 2, "%s", out.data);
	/* No symbols at all: unknown frames that still name the module. */
	cr_assert_gt(folded_count(out.data, "hot_stripped;"), 100, "%s", out.data);
	/* (the mapping is shown as /proc/PID/maps has it: "hot_stripped (deleted)") */
	cr_assert_gt(folded_count(out.data, "[unknown] (hot_stripped"),
		     folded_count(out.data, "hot_stripped;") / 2, "%s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* An agent whose stderr is a terminal: from the moment its events are attached it prints
 * "profiling: S s, N samples" there every second, N counting the samples it kept. */
struct pty_agent {
	pid_t pid;
	int fd;		      /* the terminal's master side */
	struct am_strbuf log; /* everything it printed there */
};

/* Whether a pty can be opened: the master, and its slave under /dev/pts. */
static bool pty_works(void)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY), slave = -1;
	const char *name;

	if (fd >= 0 && !grantpt(fd) && !unlockpt(fd) && (name = ptsname(fd)))
		slave = open(name, O_RDWR | O_NOCTTY);
	if (slave >= 0)
		close(slave);
	if (fd >= 0)
		close(fd);
	return slave >= 0;
}

/* The test-kernels initramfs mounts no devpts: then mount a private instance at /dev/pts in a
 * mount namespace of this test process (/dev/ptmx opens the instance beside it, 4.7+). */
static void ensure_pty(void)
{
	if (pty_works())
		return;
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	if (mkdir("/dev/pts", 0755))
		cr_assert_eq(errno, EEXIST, "mkdir /dev/pts: %s", strerror(errno));
	cr_assert_eq(mount("devpts", "/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666"), 0,
		     "mount devpts: %s", strerror(errno));
	cr_assert(pty_works(), "no pty even with a devpts of its own");
}

/* Start ARGV with stdout to OUTPATH and stderr (and stdin) on a fresh pty. */
static void pty_agent_start(struct pty_agent *a, char *const argv[], const char *outpath)
{
	memset(a, 0, sizeof(*a));
	ensure_pty();
	a->pid = forkpty(&a->fd, NULL, NULL, NULL);
	cr_assert_geq(a->pid, 0, "forkpty: %s", strerror(errno));
	if (a->pid == 0) {
		int fo = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fo < 0 || dup2(fo, STDOUT_FILENO) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
}

/* Read what the agent printed for up to TIMEOUT_MS; false at end of file (it exited). */
static bool pty_agent_read(struct pty_agent *a, int timeout_ms)
{
	struct pollfd pfd = {.fd = a->fd, .events = POLLIN};
	char buf[4096];
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return true;
	n = read(a->fd, buf, sizeof(buf));
	if (n <= 0) /* EIO once the terminal's last user is gone */
		return false;
	am_strbuf_append(&a->log, buf, (size_t)n);
	return true;
}

/* The sample count of the agent's last progress line (0 before the first). */
static unsigned long long pty_agent_samples(const struct pty_agent *a)
{
	const char *p = a->log.data, *last = NULL;
	unsigned long long secs, n = 0;

	while (p && (p = strstr(p, "profiling: ")))
		last = p++;
	if (last && sscanf(last, "profiling: %llu s, %llu samples", &secs, &n) != 2)
		n = 0;
	return n;
}

/* Wait until the agent reports at least WANT samples; returns the count it reported. */
static unsigned long long pty_agent_wait_samples(struct pty_agent *a, unsigned long long want)
{
	double deadline = am_test_now_s() + 40;

	while (pty_agent_samples(a) < want) {
		cr_assert(am_test_now_s() < deadline, "fewer than %llu samples in 40 s: %s", want,
			  a->log.data ? a->log.data : "");
		cr_assert(pty_agent_read(a, 200), "the agent exited: %s",
			  a->log.data ? a->log.data : "");
	}
	return pty_agent_samples(a);
}

/* Interrupt the agent, read it to the end and return its exit status. */
static int pty_agent_stop(struct pty_agent *a)
{
	int st;

	kill(a->pid, SIGINT);
	while (pty_agent_read(a, 1000))
		;
	close(a->fd);
	cr_assert_eq(waitpid(a->pid, &st, 0), a->pid);
	return st;
}

/* The frame between PREFIX and AFTER in FOLDED's first stack that has both: the caller of main,
 * libc's __libc_start_call_main. Its name comes from libc's .symtab, which Debian ships only in
 * libc6-dbg; without it (the test-kernels guest) the frame is "[unknown] (libc.so.6)". Either
 * way libc must be named. */
static void libc_start_frame(const char *folded, const char *prefix, const char *after, char *out,
			     size_t size)
{
	const char *line = folded, *end;
	size_t len;

	for (; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		end = strstr(line, after);
		if (!end || (strchr(line, '\n') && end > strchr(line, '\n')))
			continue;
		line += strlen(prefix);
		/* unwound with CFI the stack goes on to _start: main's caller is the last frame */
		while (memchr(line, ';', (size_t)(end - line)))
			line = (const char *)memchr(line, ';', (size_t)(end - line)) + 1;
		len = (size_t)(end - line);
		cr_assert_lt(len, size, "frame too long in: %s", folded);
		memcpy(out, line, len);
		out[len] = '\0';
		cr_assert(!strcmp(out, "__libc_start_call_main") ||
			      !strncmp(out, "[unknown] (libc.so", 18),
			  "main's caller is not libc's: '%s' in: %s", out, folded);
		return;
	}
	cr_assert_fail("no %s...%s stack in: %s", prefix, after, folded);
}

/* Interrupted once it has reported samples (not after a guessed delay: a slow machine takes
 * seconds to attach), the profile still ends cleanly and is written. */
Test(profiler, sigint_ends_the_profile_and_writes_it)
{
	char *argv[] = {AGENT, "profile", "-F", "199", "-p", NULL, NULL};
	struct am_strbuf out = {0};
	struct pty_agent a;
	char pidarg[16], path[4096];
	pid_t pid;
	int st;

	AM_REQUIRE_BPF();
	pid = spawn("hot", "0", NULL);
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	argv[5] = pidarg;
	snprintf(path, sizeof(path), "%s/sigint.folded", tmpdir);
	pty_agent_start(&a, argv, path);
	/* Fails if the agent exits first: with no -d it must run until interrupted. */
	pty_agent_wait_samples(&a, 50);
	st = pty_agent_stop(&a);
	am_test_reap(pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st,
		  a.log.data ? a.log.data : "");
	cr_assert_eq(am_test_read_file(path, &out), 0);
	cr_assert_gt(folded_count(out.data, ";main;hot_a"), 0, "%s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&a.log);
}

Test(profiler, exec_mid_profile_is_symbolized_with_the_new_mappings)
{
	/* short_lived burns until SIGUSR1, then execs hot, which runs until killed. */
	char *argv[] = {WORKLOADS "short_lived", "0", "0", WORKLOADS "hot", "0", NULL};
	char *agent[] = {AGENT, "profile", "-F", "499", "-p", NULL, NULL};
	struct am_strbuf out = {0};
	struct pty_agent a;
	unsigned long long before;
	char pidarg[16], path[4096], start[256], needle[512];
	pid_t pid;
	int st;

	AM_REQUIRE_BPF();
	/* Captured at start as short_lived (-p), then the same pid runs hot's code. The exec
	 * and the end are placed by the samples the agent reports, not by the clock: a slow
	 * machine (a TCG guest) takes seconds to start the agent. The profile ends while hot
	 * still runs, so its final capture has all of hot's mappings (libc too). */
	pid = am_test_spawn(argv, tmpdir);
	cr_assert_gt(pid, 0);
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	agent[5] = pidarg;
	snprintf(path, sizeof(path), "%s/exec_mid.folded", tmpdir);
	pty_agent_start(&a, agent, path);
	before = pty_agent_wait_samples(&a, 100);
	cr_assert_eq(kill(pid, SIGUSR1), 0);
	pty_agent_wait_samples(&a, before + 300);
	st = pty_agent_stop(&a);
	am_test_reap(pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st,
		  a.log.data ? a.log.data : "");
	cr_assert_eq(am_test_read_file(path, &out), 0);
	cr_assert_gt(folded_count(out.data, "short_lived;"), 50, "%s", out.data);
	cr_assert_gt(folded_count(out.data, "hot;"), 50, "%s", out.data);
	cr_assert_gt(folded_count(out.data, ";main;short_lived_fn"),
		     folded_count(out.data, "short_lived;") / 2, "before exec: %s", out.data);
	/* After the exec, whole stacks in hot's own mappings, down to libc's frame below main
	 * named as it was before the exec. */
	libc_start_frame(out.data, "short_lived;", ";main;short_lived_fn", start, sizeof(start));
	snprintf(needle, sizeof(needle), ";%s;main;hot_", start);
	cr_assert_gt(folded_count(out.data, needle), folded_count(out.data, "hot;") / 2,
		     "after exec, not mostly %s: %s", needle, out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&a.log);
}

/* Idle jiffies of all CPUs so far (/proc/stat "cpu" line, 4th value). */
static unsigned long long idle_jiffies(void)
{
	struct am_strbuf st = {0};
	unsigned long long v[4] = {0};

	cr_assert_eq(am_test_read_file("/proc/stat", &st), 0);
	sscanf(st.data, "cpu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]);
	am_strbuf_free(&st);
	return v[3];
}

Test(profiler, idle_samples_only_when_asked)
{
	struct am_strbuf out = {0}, err = {0};
	unsigned long long idle0, idle1;
	int rc;

	AM_REQUIRE_BPF();
	rc = profile(&out, &err, (const char *[]){"-F", "199", "-d", "1", "--kernel-only", NULL});
	cr_assert_eq(rc, 0, "%s", err.data);
	cr_assert_eq(folded_count(out.data, "swapper/"), 0, "idle samples by default: %s",
		     out.data);
	am_strbuf_reset(&out);
	am_strbuf_reset(&err);
	idle0 = idle_jiffies();
	rc = profile(
	    &out, &err,
	    (const char *[]){"-F", "199", "-d", "1", "--kernel-only", "--include-idle", NULL});
	idle1 = idle_jiffies();
	cr_assert_eq(rc, 0, "%s", err.data);
	if (!folded_count(out.data, "swapper/") && idle1 - idle0 < 10)
		cr_skip_test("skipped: the CPUs were never idle during the profile");
	cr_assert_gt(folded_count(out.data, "swapper/"), 0,
		     "no idle samples with --include-idle "
		     "although the CPUs idled %llu jiffies",
		     idle1 - idle0);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* The library API with an event loop that is not util/loop (a plain poll()): the
 * notification fd polled, notices handled; an exiting process must still be symbolized. */
Test(profiler, own_event_loop_handles_notices_for_exiting_processes)
{
	struct am_profiler_opts o = {.freq = 199, .kernel_stacks = true, .user_stacks = true};
	struct am_profiler *p = NULL;
	struct am_profile prof;
	struct pollfd pfd;
	uint64_t in_fn = 0, total = 0;
	pid_t shortp;
	size_t i, j;
	int st, err;

	AM_REQUIRE_BPF();
	err = am_profiler_open(&o, &p);
	cr_assert_eq(err, 0, "%s", strerror(-err));
	shortp = spawn("short_lived", "0.2", "0.8");
	pfd.fd = am_profiler_notify_fd(p);
	pfd.events = POLLIN;
	cr_assert_geq(pfd.fd, 0);
	while (waitpid(shortp, &st, WNOHANG) == 0)
		if (poll(&pfd, 1, 100) > 0)
			cr_assert_eq(am_profiler_handle_notices(p), 0);
	/* Reaped: /proc/PID is gone, so its symbols can only come from the side band. */
	cr_assert_eq(am_profiler_collect(p, &prof), 0);
	am_profiler_close(p);
	for (i = 0; i < prof.nstacks; i++) {
		if (strcmp(prof.stacks[i].comm, "short_lived"))
			continue;
		total += prof.stacks[i].count;
		for (j = 0; j < prof.stacks[i].nframes; j++)
			if (!strcmp(prof.stacks[i].frames[j].func, "short_lived_fn")) {
				in_fn += prof.stacks[i].count;
				break;
			}
	}
	am_profile_free(&prof);
	cr_assert_gt(total, 30, "short_lived not sampled");
	cr_assert_gt(in_fn, total / 2, "exited process lost its symbols: %llu of %llu",
		     (unsigned long long)in_fn, (unsigned long long)total);
}

Test(profiler, kernel_only_and_user_only_split_the_stacks)
{
	struct am_strbuf out = {0}, err = {0};
	char pidarg[16];
	/* Until killed: the two profiles' start-ups take seconds in a slow guest. */
	pid_t pid = spawn("syscall_heavy", "0", NULL);
	int rc;

	AM_REQUIRE_BPF();
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	rc = profile(&out, &err,
		     (const char *[]){"-F", "499", "-d", "1", "-p", pidarg, "--kernel-only", NULL});
	cr_assert_eq(rc, 0, "%s", err.data);
	cr_assert_gt(folded_count(out.data, "syscall_heavy;entry_SYSCALL_64"), 0, "%s", out.data);
	cr_assert_eq(folded_count(out.data, ";main;"), 0, "user frames in --kernel-only: %s",
		     out.data);
	am_strbuf_reset(&out);
	am_strbuf_reset(&err);
	rc = profile(&out, &err,
		     (const char *[]){"-F", "499", "-d", "1", "-p", pidarg, "--user-only", NULL});
	am_test_reap(pid);
	cr_assert_eq(rc, 0, "%s", err.data);
	cr_assert_gt(folded_count(out.data, ";main;read"), 0, "%s", out.data);
	cr_assert_eq(folded_count(out.data, "vfs_read"), 0, "kernel frames in --user-only: %s",
		     out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(profiler, process_exiting_mid_profile_keeps_its_symbols)
{
	struct am_strbuf out = {0}, err = {0};
	char *argv[] = {AGENT, "profile", "-F", "199", "-d", "3", NULL};
	char path[4096];
	pid_t agent, shortp;
	int st;

	AM_REQUIRE_BPF();
	/* System-wide, so the workload is found by the kernel-side new-process notification;
	 * it starts 1 s in (the profiler is attached by then), runs 1 s and exits. */
	agent = am_test_spawn(argv, tmpdir);
	cr_assert_gt(agent, 0);
	shortp = spawn("short_lived", "1.0", "1.0");
	cr_assert_eq(waitpid(shortp, &st, 0), shortp);
	cr_assert_eq(waitpid(agent, &st, WNOHANG), 0, "the profile ended before the workload");
	cr_assert_eq(waitpid(agent, &st, 0), agent);
	snprintf(path, sizeof(path), "%s/out.txt", tmpdir);
	cr_assert_eq(am_test_read_file(path, &out), 0);
	snprintf(path, sizeof(path), "%s/err.txt", tmpdir);
	am_test_read_file(path, &err);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "profile failed: %s", err.data);
	cr_assert_gt(folded_count(out.data, "short_lived;"), 50, "workload not sampled: %s",
		     err.data);
	cr_assert_gt(folded_count(out.data, ";main;short_lived_fn"),
		     folded_count(out.data, "short_lived;") / 2,
		     "the exited process lost its symbols: %s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* A positive duration under a millisecond is a duration, not "until Ctrl-C" (it once rounded to
 * 0 ms, which meant forever). */
Test(profiler, submillisecond_duration_still_ends_the_profile)
{
	char *argv[] = {AGENT, "profile", "-d", "0.0005", NULL};
	pid_t agent;
	int st, err;

	AM_REQUIRE_BPF();
	agent = am_test_spawn(argv, tmpdir);
	cr_assert_gt(agent, 0);
	err = am_test_wait_exit(agent, 20000, &st);
	cr_assert_eq(err, 0, "profile -d 0.0005 still ran after 20 s");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "profile -d 0.0005: status %d", st);
}

/* go tool pprof -top's first two rows: flat counts and names. */
static int pprof_top(const char *file, char names[2][64], uint64_t flat[2], uint64_t *total,
		     struct am_strbuf *log)
{
	char cmd[8192];
	FILE *p;
	char line[1024];
	int n = 0;

	snprintf(cmd, sizeof(cmd),
		 "cd %s && HOME=%s GOCACHE=%s/gocache GOPATH=%s/gopath GOFLAGS=-mod=mod "
		 "GOTOOLCHAIN=local GOPROXY=off go tool pprof -top %s 2>&1",
		 tmpdir, tmpdir, tmpdir, tmpdir, file);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		unsigned long long f, c;
		char name[256];

		am_strbuf_puts(log, line);
		if (sscanf(line, "Duration: %*s Total samples = %llu", &f) == 1)
			*total = f;
		if (n < 2 &&
		    sscanf(line, " %llu %*f%% %*f%% %llu %*f%% %255s", &f, &c, name) == 3) {
			flat[n] = f;
			snprintf(names[n], 64, "%.63s", name);
			n++;
		}
	}
	return pclose(p) == 0 ? n : -1;
}

Test(profiler, pprof_output_is_read_by_go_tool_pprof)
{
	struct am_strbuf out = {0}, err = {0}, log = {0}, folded = {0};
	char pidarg[16], file[4096], ffile[4096], names[2][64] = {"", ""};
	uint64_t flat[2] = {0}, total = 0;
	pid_t pid;
	int rc, n;

	AM_REQUIRE_BPF();
	if (system("go version >/dev/null 2>&1"))
		cr_skip_test("skipped: go (golang-go) is not installed, go tool pprof cannot run");
	pid = spawn("hot", "0", NULL);
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	snprintf(file, sizeof(file), "%s/cpu.pb.gz", tmpdir);
	snprintf(ffile, sizeof(ffile), "%s/cpu.folded", tmpdir);
	/* One profile written both ways. */
	rc = profile(&out, &err,
		     (const char *[]){"-F", "999", "-d", "2", "-p", pidarg, "--format", "pprof",
				      "-o", file, "--format", "folded", "-o", ffile, NULL});
	am_test_reap(pid);
	cr_assert_eq(rc, 0, "profile failed: %s", err.data);
	cr_assert_eq(am_test_read_file(ffile, &folded), 0);
	n = pprof_top(file, names, flat, &total, &log);
	if (n < 0 && strstr(log.data ? log.data : "", "go: "))
		cr_skip_test("skipped: go tool pprof cannot run here: %s", log.data);
	cr_assert_eq(n, 2, "go tool pprof -top failed or printed too little:\n%s", log.data);
	/* The agent's own count of the run, the folded total and pprof's total agree. */
	cr_assert(strstr(err.data, "samples of cpu-clock"), "%s", err.data);
	cr_assert_eq(total, strtoull(strstr(err.data, "info: ") + 6, NULL, 10),
		     "pprof total differs from the samples the agent counted:\n%s\n%s", log.data,
		     err.data);
	cr_assert_eq(total, folded_count(folded.data, ""));
	/* Top entries: hot_a then hot_b, with exactly the folded leaf counts. */
	cr_assert_str_eq(names[0], "hot_a", "%s", log.data);
	cr_assert_str_eq(names[1], "hot_b", "%s", log.data);
	cr_assert_eq(flat[0], folded_count(folded.data, ";hot_a "), "%s\n%s", log.data,
		     folded.data);
	cr_assert_eq(flat[1], folded_count(folded.data, ";hot_b "), "%s\n%s", log.data,
		     folded.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	am_strbuf_free(&log);
	am_strbuf_free(&folded);
}

/* go tool pprof -top's total and the flat count of the row named NAME (names may have spaces:
 * the row's last columns). Returns 1 when the row was found, 0 when not, -1 when go failed. */
static int pprof_row(const char *file, const char *name, uint64_t *flat, uint64_t *total,
		     struct am_strbuf *log)
{
	char cmd[8192], line[1024];
	unsigned long long f;
	int found = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "cd %s && HOME=%s GOCACHE=%s/gocache GOPATH=%s/gopath GOFLAGS=-mod=mod "
		 "GOTOOLCHAIN=local GOPROXY=off go tool pprof -top %s 2>&1",
		 tmpdir, tmpdir, tmpdir, tmpdir, file);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		am_strbuf_puts(log, line);
		if (sscanf(line, "Duration: %*s Total samples = %llu", &f) == 1)
			*total = f;
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) > strlen(name) &&
		    !strcmp(line + strlen(line) - strlen(name), name) &&
		    sscanf(line, " %llu", &f) == 1) {
			*flat = f;
			found = 1;
		}
	}
	return pclose(p) == 0 ? found : -1;
}

/* A counts map of one entry cannot hold hot's distinct stacks: the samples it loses are in the
 * pprof file where go tool pprof shows them, a "[lost: counts map full]" row with the count
 * lost, and pprof's total counts them beside the samples kept. */
Test(profiler, lost_samples_show_in_go_tool_pprof)
{
	struct am_profiler_opts o = {.freq = 999, .user_stacks = true, .count_entries = 1};
	struct am_strbuf gz = {0}, log = {0};
	uint64_t lost, flat = 0, total = 0, end;
	struct pollfd pfd = {.events = POLLIN};
	struct am_profiler *p;
	struct am_profile prof;
	char file[4096];
	uint32_t pid;
	int n;

	AM_REQUIRE_BPF();
	if (system("go version >/dev/null 2>&1"))
		cr_skip_test("skipped: go (golang-go) is not installed, go tool pprof cannot run");
	pid = (uint32_t)spawn("hot", "0", NULL);
	o.pids = &pid;
	o.npids = 1;
	cr_assert_eq(am_profiler_open(&o, &p), 0);
	pfd.fd = am_profiler_notify_fd(p);
	/* One second of samples, notices handled as they come (the daemon's way). */
	for (end = am_clock_ns(CLOCK_MONOTONIC) + 1000000000ull;
	     am_clock_ns(CLOCK_MONOTONIC) < end;)
		if (poll(&pfd, 1, 100) > 0)
			cr_assert_eq(am_profiler_handle_notices(p), 0);
	cr_assert_eq(am_profiler_collect(p, &prof), 0);
	am_profiler_close(p);
	am_test_reap((pid_t)pid);
	lost = prof.lost[AM_PROFILE_LOST_COUNTS_FULL];
	cr_assert_gt(lost, 0, "one counts entry held every stack of hot (%llu samples)?",
		     (unsigned long long)prof.total);
	cr_assert_eq(am_pprof_render(&prof, &gz), 0);
	snprintf(file, sizeof(file), "%s/lost.pb.gz", tmpdir);
	cr_assert_eq(am_test_write_file(file, gz.data, gz.len), 0);
	n = pprof_row(file, "[lost: counts map full]", &flat, &total, &log);
	if (n < 0 && strstr(log.data ? log.data : "", "go: "))
		cr_skip_test("skipped: go tool pprof cannot run here: %s", log.data);
	cr_assert_eq(n, 1, "no [lost: counts map full] row:\n%s", log.data);
	cr_assert_eq(flat, lost, "%s", log.data);
	cr_assert_eq(total, prof.total + lost, "%s", log.data);
	am_profile_free(&prof);
	am_strbuf_free(&gz);
	am_strbuf_free(&log);
}

Test(profiler, svg_flame_graph_names_the_hot_functions)
{
	struct am_strbuf out = {0}, err = {0};
	char pidarg[16];
	pid_t pid = spawn("hot", "0", NULL);
	int rc;

	AM_REQUIRE_BPF();
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	rc = profile(
	    &out, &err,
	    (const char *[]){"-F", "499", "-d", "1", "-p", pidarg, "--format", "svg", NULL});
	am_test_reap(pid);
	cr_assert_eq(rc, 0, "%s", err.data);
	cr_assert(!strncmp(out.data, "<?xml", 5) && strstr(out.data, "<svg"));
	cr_assert(strstr(out.data, ">hot_a (") && strstr(out.data, ">main ("), "%s", out.data);
	cr_assert(strstr(out.data, "</svg>\n"));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* Bad input is refused before anything is loaded: exit 2 and a message naming the problem. */
Test(profiler, bad_input_exits_2_with_a_message)
{
	static const struct {
		const char *args[6];
		const char *msg;
	} cases[] = {
	    {{"-e", "bogus-event", NULL}, "unknown event 'bogus-event'"},
	    {{"-F", "0", NULL}, "--freq: '0' is not a whole number from 1"},
	    /* perf_event_open refuses a period with bit 63 set: refused here, before it */
	    {{"-c", "18446744073709551615", NULL}, "--period: '18446744073709551615'"},
	    {{"-c", "9223372036854775808", NULL}, "--period: '9223372036854775808'"},
	    {{"-c", "-1", NULL}, "--period: '-1'"},
	    /* an output that cannot be written fails before profiling, not after */
	    {{"-d", "30", "-o", "/nonexistent/dir/x", NULL}, "cannot write '/nonexistent/dir/x'"},
	    {{"-d", "30", "-o", "/", NULL}, "cannot write '/': Is a directory"},
	    {{"--cgroup", "/no/such/cgroup", NULL}, "--cgroup: '/no/such/cgroup'"},
	    /* a second --cgroup is checked as the first */
	    {{"--cgroup", "/", "--cgroup", "/no/such/cgroup", NULL}, "--cgroup: '/no/such/cgroup'"},
	    {{"--folded-prefix", "pod", NULL},
	     "--folded-prefix: 'pod' is not one of none, container"},
	    {{"-F", "100000000", NULL}, "kernel.perf_event_max_sample_rate"},
	    {{"-p", "2147483647", NULL}, "no such process: 2147483647"},
	    {{"--attach=sideways", NULL}, "not one of auto, link, ioctl"},
	    {{"--format", "jpeg", NULL}, "not one of folded, pprof, svg"},
	    {{"--kernel-only", "--user-only", NULL}, "exclude each other"},
	    {{"-d", "-1", NULL}, "--duration: '-1' is not a positive number"},
	    {{"-o", "/dev/null", "--format", "svg", NULL}, "--format after the last -o"},
	    {{"--btf", "/nonexistent/vmlinux.btf", NULL}, "/nonexistent/vmlinux.btf"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct am_strbuf out = {0}, err = {0};
		int rc = profile(&out, &err, cases[i].args);

		cr_assert_eq(rc, 2, "case %zu (%s): exit %d, stderr: %s", i, cases[i].args[0], rc,
			     err.data);
		cr_assert(err.data && strstr(err.data, cases[i].msg), "case %zu: want '%s' in: %s",
			  i, cases[i].msg, err.data);
		am_strbuf_free(&out);
		am_strbuf_free(&err);
	}
}

Test(profiler, unprivileged_run_names_the_missing_capability)
{
	struct am_strbuf out = {0}, err = {0};
	char *argv[] = {"/usr/bin/setpriv",
			"--reuid=65534",
			"--regid=65534",
			"--clear-groups",
			"--inh-caps=-all",
			AGENT,
			"profile",
			"-d",
			"1",
			NULL};
	int st;

	if (geteuid() != 0 || access(argv[0], X_OK))
		cr_skip_test("skipped: needs root and setpriv (util-linux) to drop privileges");
	if (access(AGENT, R_OK | X_OK) || strstr(AGENT, "/root/"))
		cr_skip_test("skipped: the agent binary is not reachable by nobody");
	st = am_test_run(argv, &out, &err);
	cr_assert(WIFEXITED(st), "status %d", st);
	if (WEXITSTATUS(st) == 0)
		cr_skip_test("skipped: unprivileged BPF and perf events are allowed on this host");
	cr_assert_eq(WEXITSTATUS(st), 1, "%s", err.data);
	cr_assert(strstr(err.data, "CAP_BPF") || strstr(err.data, "CAP_PERFMON") ||
		      strstr(err.data, "perf_event_paranoid"),
		  "message names no capability or sysctl: %s", err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}
