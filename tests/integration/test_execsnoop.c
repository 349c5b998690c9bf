/* execsnoop against the real kernel: real processes exec real programs, and the records the
 * collector delivers must carry exactly what was passed. Every test that does not depend on
 * the output path runs on both the ring buffer and the perf buffer fallback.
 * Records are selected by this test's own child pids, so other activity on the host does not
 * disturb the counts. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collectors/ebpf/execsnoop.h"
#include "core/cgroup_path.h"
#include "testutil.h"

struct rec {
	enum am_exec_kind kind;
	pid_t pid, ppid;
	uint32_t uid;
	int32_t ret;
	bool execveat, truncated, read_failed, from_image, filename_from_image;
	char comm[17];
	struct am_strbuf filename;
	size_t argc;
	struct am_strbuf *argv;
	int exit_code, exit_signal;
	uint64_t lifetime_ns;
	char cgroup[512], container[65], runtime[16];
};

struct sink {
	pid_t parent;  /* keep records whose parent is this process */
	pid_t parent2; /* or this one (a workload's children) */
	struct rec *recs;
	size_t n, cap;
};

static void on_record(const struct am_exec_record *r, void *ctx)
{
	struct sink *s = ctx;
	struct rec *c;
	size_t i;

	if (r->ppid != s->parent && (!s->parent2 || r->ppid != s->parent2))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->recs = realloc(s->recs, s->cap * sizeof(*s->recs));
		cr_assert_not_null(s->recs);
	}
	c = &s->recs[s->n++];
	memset(c, 0, sizeof(*c));
	c->kind = r->kind;
	c->pid = r->pid;
	c->ppid = r->ppid;
	c->uid = r->uid;
	c->ret = r->ret;
	c->execveat = r->execveat;
	c->truncated = r->args_truncated;
	c->read_failed = r->read_failed;
	c->from_image = r->args_from_image;
	c->filename_from_image = r->filename_from_image;
	memcpy(c->comm, r->comm, sizeof(c->comm));
	if (r->filename.len)
		am_strbuf_append(&c->filename, r->filename.data, r->filename.len);
	else
		am_strbuf_puts(&c->filename, "");
	c->argc = r->argc;
	c->argv = calloc(r->argc + 1, sizeof(*c->argv));
	for (i = 0; i < r->argc; i++) {
		am_strbuf_puts(&c->argv[i], "");
		am_strbuf_append(&c->argv[i], r->argv[i].data, r->argv[i].len);
	}
	c->exit_code = r->exit_code;
	c->exit_signal = r->exit_signal;
	c->lifetime_ns = r->lifetime_ns;
	snprintf(c->cgroup, sizeof(c->cgroup), "%s", r->cgroup_path ? r->cgroup_path : "");
	snprintf(c->container, sizeof(c->container), "%s", r->container_id ? r->container_id : "");
	snprintf(c->runtime, sizeof(c->runtime), "%s",
		 r->container_runtime ? r->container_runtime : "");
}

static struct am_execsnoop *start(struct am_execsnoop_opts *o, struct sink *s,
				  enum am_execsnoop_buffer mode)
{
	struct am_execsnoop *es = NULL;
	int err;

	s->parent = getpid();
	o->cb = on_record;
	o->ctx = s;
	o->buffer = mode;
	err = am_execsnoop_open(o, &es);
	cr_assert_eq(err, 0, "am_execsnoop_open: %s", strerror(-err));
	cr_assert_eq(am_execsnoop_uses_ringbuf(es), mode == AM_EXECSNOOP_BUF_RINGBUF);
	return es;
}

static struct rec *find(struct sink *s, pid_t pid, enum am_exec_kind kind)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->recs[i].pid == pid && s->recs[i].kind == kind)
			return &s->recs[i];
	return NULL;
}

/* Poll until the record of PID arrives (the kernel delivers it within milliseconds). */
static struct rec *wait_for(struct am_execsnoop *es, struct sink *s, pid_t pid,
			    enum am_exec_kind kind)
{
	double deadline = am_test_now_s() + 5;
	struct rec *r;

	while (!(r = find(s, pid, kind)) && am_test_now_s() < deadline)
		cr_assert_geq(am_execsnoop_poll(es, 100), 0);
	cr_assert_not_null(r, "no %s record for pid %d", kind == AM_EXEC_EVENT ? "exec" : "exit",
			   pid);
	return r;
}

enum how { VIA_EXECVE, VIA_EXECVEAT, VIA_EXECVE_AS_NOBODY };

/* Fork a child that execs PATH with ARGV (and an empty environment); returns its pid after
 * it has exited, with its wait status in *STATUS when STATUS is not NULL.
 * The path and arguments are copied to the heap first, as a shell builds them: literals live
 * in file-backed pages that a fresh child has not mapped yet, which BPF cannot read at
 * syscall entry (see unresident_arguments_* for that case). */
static pid_t run_child(enum how how, const char *path, char *const argv_in[], int *status)
{
	char *const envp[] = {NULL};
	char *argv[128];
	pid_t pid;
	int st, i;

	char *file = strdup(path);

	for (i = 0; argv_in[i]; i++)
		argv[i] = strdup(argv_in[i]);
	argv[i] = NULL;
	path = file;
	pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		if (how == VIA_EXECVEAT) {
			int dir = open("/bin", O_PATH | O_DIRECTORY);

			syscall(SYS_execveat, dir, path, argv, envp, 0);
		} else {
			if (how == VIA_EXECVE_AS_NOBODY && (setgid(65534) || setuid(65534)))
				_exit(126);
			execve(path, argv, envp);
		}
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	for (i = 0; argv[i]; i++)
		free(argv[i]);
	free(file);
	if (status)
		*status = st;
	return pid;
}

/* Exec PATH in a child with arguments that live in a file mapping the child has never
 * touched: not resident in its page tables at syscall entry. */
static pid_t run_child_unresident(const char *path, int *status)
{
	static const char content[] = "/bin/echo\0from\0a file mapping\0";
	char *tmp = am_test_mkdtemp("execsnoop"), file[4096];
	pid_t pid;
	int fd, st;

	snprintf(file, sizeof(file), "%s/args", tmp);
	cr_assert_eq(am_test_write_file(file, content, sizeof(content)), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *map, *argv[4], *const envp[] = {NULL};
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		fd = open(file, O_RDONLY);
		map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED)
			_exit(126);
		argv[0] = map;
		argv[1] = map + 10;
		argv[2] = map + 15;
		argv[3] = NULL;
		/* "/bin/echo" itself from the mapping too, so the filename is unresident as well */
		execve(strcmp(path, "/bin/echo") ? path : map, argv, envp);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	am_test_rmtree(tmp);
	free(tmp);
	*status = st;
	return pid;
}

static void expect_args(const struct rec *r, char *const argv[], size_t argc)
{
	size_t i;

	cr_assert_eq(r->argc, argc, "argc %zu, want %zu", r->argc, argc);
	for (i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);

		cr_expect_eq(r->argv[i].len, len, "arg %zu: %zu bytes, want %zu", i, r->argv[i].len,
			     len);
		cr_expect(r->argv[i].len == len &&
			      !memcmp(r->argv[i].data ? r->argv[i].data : "", argv[i], len),
			  "arg %zu differs", i);
	}
}

static void free_sink(struct sink *s)
{
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		am_strbuf_free(&s->recs[i].filename);
		for (j = 0; j < s->recs[i].argc; j++)
			am_strbuf_free(&s->recs[i].argv[j]);
		free(s->recs[i].argv);
	}
	free(s->recs);
	memset(s, 0, sizeof(*s));
}

static void stop(struct am_execsnoop *es, struct sink *s, bool expect_no_drops)
{
	struct am_execsnoop_stats st;

	am_execsnoop_stats(es, &st);
	if (expect_no_drops)
		cr_expect_eq(st.drops, 0, "drops: %llu", (unsigned long long)st.drops);
	am_execsnoop_close(es);
	free_sink(s);
}

static enum am_execsnoop_buffer modes[] = {AM_EXECSNOOP_BUF_RINGBUF, AM_EXECSNOOP_BUF_PERFBUF};

/* One test per buffer mode, from one body. */
#define BOTH_BUFFERS(name)                                                                         \
	ParameterizedTestParameters(execsnoop, name)                                               \
	{                                                                                          \
		return cr_make_param_array(enum am_execsnoop_buffer, modes, 2);                    \
	}                                                                                          \
	ParameterizedTest(enum am_execsnoop_buffer *mode, execsnoop, name)

BOTH_BUFFERS(hostile_arguments_arrive_exactly)
{
	char *argv[] = {"/bin/echo",
			"two words",
			"quo\"te's",
			"new\nline",
			"\xc3\xbcnic\xc3\xb8"
			"de \xe2\x9c\x93",
			"bad \xff byte",
			"",
			"\x1b[31mred",
			NULL};
	struct am_execsnoop_opts o = {0};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	pid_t pid;

	AM_REQUIRE_BPF();
	es = start(&o, &s, *mode);
	pid = run_child(VIA_EXECVE, "/bin/echo", argv, NULL);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect_eq(r->ret, 0);
	cr_expect_eq(r->ppid, getpid());
	cr_expect_eq(r->uid, getuid());
	cr_expect_str_eq(r->comm, "echo");
	cr_expect_not(r->execveat);
	cr_expect_not(r->truncated);
	cr_expect_str_eq(r->filename.data, "/bin/echo");
	expect_args(r, argv, 8);
	stop(es, &s, true);
}

BOTH_BUFFERS(missing_path_fails_with_enoent)
{
	char *argv[] = {"/nonexistent/antimetal-missing", "x", NULL};
	struct am_execsnoop_opts o = {0};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	pid_t pid;
	int st;

	AM_REQUIRE_BPF();
	es = start(&o, &s, *mode);
	pid = run_child(VIA_EXECVE, argv[0], argv, &st);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect_eq(r->ret, -ENOENT);
	cr_expect_str_eq(r->filename.data, "/nonexistent/antimetal-missing");
	expect_args(r, argv, 2);
	stop(es, &s, true);
}

BOTH_BUFFERS(execveat_is_seen)
{
	char *argv[] = {"echo", "via execveat", NULL};
	struct am_execsnoop_opts o = {0};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	pid_t pid;
	int st;

	AM_REQUIRE_BPF();
	es = start(&o, &s, *mode);
	pid = run_child(VIA_EXECVEAT, "echo", argv, &st);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "execveat in the child failed");
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect(r->execveat);
	cr_expect_eq(r->ret, 0);
	cr_expect_str_eq(r->filename.data, "echo");
	cr_expect_str_eq(r->comm, "echo");
	expect_args(r, argv, 2);
	stop(es, &s, true);
}

BOTH_BUFFERS(hundred_arguments_are_truncated_with_exact_prefix)
{
	char *argv[102], bufs[100][8];
	struct am_execsnoop_opts o = {0};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	pid_t pid;
	int i;

	AM_REQUIRE_BPF();
	argv[0] = "/bin/true";
	for (i = 0; i < 100; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "a%d", i);
		argv[i + 1] = bufs[i];
	}
	argv[101] = NULL;
	es = start(&o, &s, *mode);
	pid = run_child(VIA_EXECVE, "/bin/true", argv, NULL);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect(r->truncated, "101 arguments with a limit of 64: truncated must be set");
	expect_args(r, argv, 64);
	stop(es, &s, true);
}

BOTH_BUFFERS(ten_kib_argument_is_cut_with_exact_prefix)
{
	static char big[10 * 1024 + 1];
	char *argv[] = {"/bin/true", big, "after", NULL};
	struct am_execsnoop_opts o = {0};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	size_t i, kept;
	pid_t pid;

	AM_REQUIRE_BPF();
	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	es = start(&o, &s, *mode);
	pid = run_child(VIA_EXECVE, "/bin/true", argv, NULL);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect(r->truncated);
	cr_assert_eq(r->argc, 2);
	cr_expect_str_eq(r->argv[0].data, "/bin/true");
	/* 4096 bytes in all, NULs included: "/bin/true\0" then 4085 bytes of the big one + NUL */
	kept = 4096 - sizeof("/bin/true") - 1;
	cr_assert_eq(r->argv[1].len, kept, "kept %zu bytes, want %zu", r->argv[1].len, kept);
	cr_expect(!memcmp(r->argv[1].data, big, kept), "the kept prefix differs");
	stop(es, &s, true);
}

/* Arguments BPF could not read at entry are read from the new image after a successful exec,
 * and flagged; for a failed exec there is no image, and the record says the read failed. */
BOTH_BUFFERS(unresident_arguments_are_recovered_or_flagged)
{
	char *want[] = {"/bin/echo", "from", "a file mapping", NULL};
	struct am_execsnoop_opts o = {0};
	struct am_execsnoop_stats st;
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	pid_t pid;
	int status;

	AM_REQUIRE_BPF();
	es = start(&o, &s, *mode);
	pid = run_child_unresident("/bin/echo", &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect_eq(r->ret, 0);
	cr_expect_not(r->read_failed);
	expect_args(r, want, 3);
	/* an untouched file mapping has no page table entry: entry reads must have failed */
	cr_expect(r->from_image, "arguments were resident at entry: recovery not exercised");
	cr_expect(r->filename_from_image, "filename was resident at entry: recovery not exercised");
	cr_expect_str_eq(r->filename.data, "/bin/echo");

	pid = run_child_unresident("/nonexistent/antimetal", &status);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect_eq(r->ret, -ENOENT);
	cr_expect_eq(r->argc, 0);
	cr_expect(r->read_failed, "arguments missing without the read_failed mark");
	am_execsnoop_stats(es, &st);
	cr_expect_geq(st.read_failures, 1, "a partial record not counted");
	stop(es, &s, true);
}

/* Records written while the consumer said it was batching (no wakeups) are found by the next
 * poll once it says it is waiting again: nothing waits unseen. */
Test(execsnoop, records_written_while_batching_are_not_stranded)
{
	char *argv[] = {"/bin/true", NULL};
	struct am_execsnoop_opts o = {0};
	struct sink s = {0};
	struct am_execsnoop *es;
	double t0;
	pid_t pid;

	AM_REQUIRE_BPF();
	es = start(&o, &s, AM_EXECSNOOP_BUF_RINGBUF);
	/* an empty poll first, as the agent's loop does when idle */
	am_execsnoop_poll(es, 10);
	am_execsnoop_set_batching(es, true);
	pid = run_child(VIA_EXECVE, "/bin/true", argv, NULL);
	am_execsnoop_set_batching(es, false);
	t0 = am_test_now_s();
	wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect_lt(am_test_now_s() - t0, 0.5, "the record waited %.3f s for a wakeup",
		     am_test_now_s() - t0);
	stop(es, &s, true);
}

/* execve(path, NULL, NULL) is legal on Linux: no arguments, and no read failure either. */
Test(execsnoop, null_argv_is_empty_not_a_failure)
{
	struct am_execsnoop_opts o = {0};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	pid_t pid;

	AM_REQUIRE_BPF();
	es = start(&o, &s, AM_EXECSNOOP_BUF_RINGBUF);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* the path on the heap, resident: this test is about argv only */
		char *path = strdup("/bin/true");

		syscall(SYS_execve, path, NULL, NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect_eq(r->argc, 0);
	cr_expect_not(r->read_failed);
	cr_expect_not(r->truncated);
	cr_expect_str_eq(r->filename.data, "/bin/true");
	stop(es, &s, true);
}

/* At the largest budget a 10 KiB argument fits whole. */
Test(execsnoop, largest_budget_keeps_a_ten_kib_argument)
{
	static char big[10 * 1024 + 1];
	char *argv[] = {"/bin/true", big, "after", NULL};
	struct am_execsnoop_opts o = {.max_args_size = AM_EXECSNOOP_MAX_ARGS_SIZE};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	pid_t pid;

	AM_REQUIRE_BPF();
	memset(big, 'x', sizeof(big) - 1);
	es = start(&o, &s, AM_EXECSNOOP_BUF_RINGBUF);
	pid = run_child(VIA_EXECVE, "/bin/true", argv, NULL);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect_not(r->truncated);
	expect_args(r, argv, 3);
	stop(es, &s, true);
}

/* The boundary of the byte budget: filling it exactly is complete; one byte more is cut. */
Test(execsnoop, exact_fit_is_not_truncated)
{
	char *argv[] = {"/bin/true", "abcde", NULL};
	struct am_execsnoop_opts o = {.max_args_size = sizeof("/bin/true") + sizeof("abcde")};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	pid_t pid;

	AM_REQUIRE_BPF();
	es = start(&o, &s, AM_EXECSNOOP_BUF_RINGBUF);
	pid = run_child(VIA_EXECVE, "/bin/true", argv, NULL);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect_not(r->truncated, "arguments filling the budget exactly are complete");
	expect_args(r, argv, 2);
	argv[1] = "abcdef";
	pid = run_child(VIA_EXECVE, "/bin/true", argv, NULL);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect(r->truncated, "one byte over the budget is a cut");
	cr_assert_eq(r->argc, 2);
	cr_expect_str_eq(r->argv[1].data, "abcde");
	stop(es, &s, true);
}

Test(execsnoop, max_args_option_limits_the_count)
{
	char *argv[] = {"/bin/true", "1", "2", "3", NULL};
	struct am_execsnoop_opts o = {.max_args = 3};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	pid_t pid;

	AM_REQUIRE_BPF();
	es = start(&o, &s, AM_EXECSNOOP_BUF_RINGBUF);
	pid = run_child(VIA_EXECVE, "/bin/true", argv, NULL);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect(r->truncated);
	expect_args(r, argv, 3);
	argv[3] = NULL;
	pid = run_child(VIA_EXECVE, "/bin/true", argv, NULL);
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	cr_expect_not(r->truncated, "exactly max_args arguments are complete");
	expect_args(r, argv, 3);
	stop(es, &s, true);
}

/* 2,000 execs as fast as fork+exec goes here: every one reported, nothing dropped. */
BOTH_BUFFERS(burst_of_2000_execs_loses_nothing)
{
	char *argv[] = {AM_TEST_BUILD_DIR "/tests/workloads/exec_storm", "-j2", "2000", "/bin/true",
			NULL};
	struct am_execsnoop_opts o = {0};
	struct am_execsnoop_stats st;
	struct sink s = {0};
	struct am_execsnoop *es;
	size_t i, seen = 0;
	pid_t storm;
	int status;
	double deadline;

	AM_REQUIRE_BPF();
	es = start(&o, &s, *mode);
	storm = am_test_start_quiet(argv);
	s.parent2 = storm;
	/* Consume while the storm runs, as an agent would. */
	while (waitpid(storm, &status, WNOHANG) == 0)
		cr_assert_geq(am_execsnoop_poll(es, 50), 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exec_storm failed");
	deadline = am_test_now_s() + 10;
	for (;;) {
		/* The storm's children are the grandchildren of this process: match by their ppid.
		 */
		seen = 0;
		for (i = 0; i < s.n; i++)
			if (s.recs[i].kind == AM_EXEC_EVENT && s.recs[i].ppid == storm &&
			    s.recs[i].ret == 0 && !s.recs[i].read_failed &&
			    !strcmp(s.recs[i].filename.data, "/bin/true"))
				seen++;
		if (seen >= 2000 || am_test_now_s() > deadline)
			break;
		am_execsnoop_poll(es, 100);
	}
	am_execsnoop_stats(es, &st);
	cr_expect_eq(st.drops, 0, "drops: %llu (output %llu, stash %llu, lost %llu)",
		     (unsigned long long)st.drops, (unsigned long long)st.output_failures,
		     (unsigned long long)st.stash_failures, (unsigned long long)st.lost_samples);
	stop(es, &s, true);
	cr_assert_eq(seen, 2000, "%zu of 2000 execs reported", seen);
}

/* A buffer too small for a burst that nobody reads: records are lost, and every loss is
 * counted (ring buffer reservation failures, or perf lost samples). */
BOTH_BUFFERS(overflow_is_counted_never_silent)
{
	char *argv[] = {AM_TEST_BUILD_DIR "/tests/workloads/exec_storm", "-j2", "200", "/bin/true",
			NULL};
	struct am_execsnoop_opts o = {.ringbuf_bytes = 4096, .perfbuf_pages = 1};
	struct am_execsnoop_stats st;
	struct sink s = {0};
	struct am_execsnoop *es;
	size_t i, seen = 0;
	pid_t storm;
	int status;

	AM_REQUIRE_BPF();
	es = start(&o, &s, *mode);
	storm = am_test_start_quiet(argv);
	s.parent2 = storm;
	waitpid(storm, &status, 0); /* not reading meanwhile: the buffer overflows */
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exec_storm failed");
	while (am_execsnoop_poll(es, 100) > 0)
		;
	for (i = 0; i < s.n; i++)
		seen += s.recs[i].kind == AM_EXEC_EVENT && s.recs[i].ppid == storm;
	am_execsnoop_stats(es, &st);
	cr_log_info("%s: %zu of 200 delivered, %llu drops (output %llu, lost %llu)",
		    *mode == AM_EXECSNOOP_BUF_RINGBUF ? "ring buffer" : "perf buffer", seen,
		    (unsigned long long)st.drops, (unsigned long long)st.output_failures,
		    (unsigned long long)st.lost_samples);
	cr_expect_lt(seen, 200, "a 4 KiB buffer held all 200 records: the test proves nothing");
	cr_expect_geq(st.drops, 200 - seen, "%zu of 200 delivered but only %llu drops counted",
		      seen, (unsigned long long)st.drops);
	if (*mode == AM_EXECSNOOP_BUF_RINGBUF)
		cr_expect_geq(st.output_failures, 200 - seen);
	else
		cr_expect_geq(st.lost_samples + st.output_failures, 200 - seen);
	stop(es, &s, false);
}

BOTH_BUFFERS(exits_carry_code_signal_and_lifetime)
{
	char *argv_code[] = {"/bin/sh", "-c", "exit 3", NULL};
	struct am_execsnoop_opts o = {.exits = true};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	double t0, elapsed;
	pid_t pid;

	AM_REQUIRE_BPF();
	es = start(&o, &s, *mode);
	t0 = am_test_now_s();
	pid = run_child(VIA_EXECVE, "/bin/sh", argv_code, NULL);
	elapsed = am_test_now_s() - t0;
	r = wait_for(es, &s, pid, AM_EXIT_EVENT);
	cr_expect_eq(r->exit_code, 3);
	cr_expect_eq(r->exit_signal, 0);
	cr_expect_str_eq(r->comm, "sh");
	cr_expect(r->lifetime_ns > 0 && r->lifetime_ns <= (uint64_t)(elapsed * 1e9),
		  "lifetime %llu ns outside (0, %.0f]", (unsigned long long)r->lifetime_ns,
		  elapsed * 1e9);

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	wait_for(es, &s, pid, AM_EXEC_EVENT);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	r = wait_for(es, &s, pid, AM_EXIT_EVENT);
	cr_expect_eq(r->exit_signal, SIGKILL);
	cr_expect_str_eq(r->comm, "sleep");
	stop(es, &s, true);
}

static size_t count_execs(struct sink *s, pid_t pid)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->recs[i].pid == pid && s->recs[i].kind == AM_EXEC_EVENT;
	return n;
}

/* Filters: run the execs that must be filtered out first, then a marker exec that passes;
 * once the marker is seen, everything before it has been delivered (one buffer, in order on a
 * CPU; the children ran to completion before the marker started). */
static void drain_until(struct am_execsnoop *es, struct sink *s, pid_t marker)
{
	wait_for(es, s, marker, AM_EXEC_EVENT);
	am_execsnoop_poll(es, 200);
}

Test(execsnoop, uid_filter)
{
	char *argv[] = {"/bin/true", NULL};
	struct am_execsnoop_opts o = {.filter_uid = true, .uid = 65534};
	struct sink s = {0};
	struct am_execsnoop *es;
	pid_t as_root, as_nobody;

	AM_REQUIRE_BPF();
	es = start(&o, &s, AM_EXECSNOOP_BUF_RINGBUF);
	as_root = run_child(VIA_EXECVE, "/bin/true", argv, NULL);
	as_nobody = run_child(VIA_EXECVE_AS_NOBODY, "/bin/true", argv, NULL);
	drain_until(es, &s, as_nobody);
	cr_expect_eq(count_execs(&s, as_root), 0, "uid 0 exec passed a uid 65534 filter");
	cr_expect_eq(find(&s, as_nobody, AM_EXEC_EVENT)->uid, 65534);
	stop(es, &s, true);
}

Test(execsnoop, comm_filter_matches_the_new_comm)
{
	char *echo[] = {"/bin/echo", NULL}, *tru[] = {"/bin/true", NULL};
	struct am_execsnoop_opts o = {.comm = "true"};
	struct sink s = {0};
	struct am_execsnoop *es;
	pid_t e, t;

	AM_REQUIRE_BPF();
	es = start(&o, &s, AM_EXECSNOOP_BUF_RINGBUF);
	e = run_child(VIA_EXECVE, "/bin/echo", echo, NULL);
	t = run_child(VIA_EXECVE, "/bin/true", tru, NULL);
	drain_until(es, &s, t);
	cr_expect_eq(count_execs(&s, e), 0, "echo passed a comm filter for 'true'");
	cr_expect_str_eq(find(&s, t, AM_EXEC_EVENT)->comm, "true");
	stop(es, &s, true);
}

Test(execsnoop, failed_filter_keeps_only_failures)
{
	char *ok[] = {"/bin/true", NULL}, *bad[] = {"/nonexistent/antimetal", NULL};
	struct am_execsnoop_opts o = {.failed_only = true};
	struct sink s = {0};
	struct am_execsnoop *es;
	pid_t good, failing;

	AM_REQUIRE_BPF();
	es = start(&o, &s, AM_EXECSNOOP_BUF_RINGBUF);
	good = run_child(VIA_EXECVE, "/bin/true", ok, NULL);
	failing = run_child(VIA_EXECVE, bad[0], bad, NULL);
	drain_until(es, &s, failing);
	cr_expect_eq(count_execs(&s, good), 0, "a successful exec passed --failed");
	cr_expect_eq(find(&s, failing, AM_EXEC_EVENT)->ret, -ENOENT);
	stop(es, &s, true);
}

Test(execsnoop, cgroup_filter_selects_the_cgroup)
{
	char mount[4096], dir[4200], procs[4300], pidbuf[32];
	char *argv[] = {"/bin/true", NULL};
	struct am_execsnoop_opts o = {0};
	struct sink s = {0};
	struct am_execsnoop *es;
	pid_t outside, inside;
	int fd, st;

	AM_REQUIRE_BPF();
	if (am_cgroup2_mount(NULL, mount, sizeof(mount)))
		cr_skip_test("skipped: no cgroup2 mount");
	snprintf(dir, sizeof(dir), "%s/antimetal-test-%d", mount, getpid());
	if (mkdir(dir, 0755))
		cr_skip_test("skipped: cannot create a cgroup under %s: %s", mount,
			     strerror(errno));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	o.cgroup = dir;
	es = start(&o, &s, AM_EXECSNOOP_BUF_RINGBUF);
	outside = run_child(VIA_EXECVE, "/bin/true", argv, NULL);
	inside = fork();
	cr_assert_geq(inside, 0);
	if (inside == 0) {
		fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(125);
		close(fd);
		execve("/bin/true", argv, (char *[]){NULL});
		_exit(127);
	}
	waitpid(inside, &st, 0);
	snprintf(pidbuf, sizeof(pidbuf), "%d", inside);
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 125) {
		rmdir(dir);
		cr_skip_test("skipped: cannot move a process into %s", dir);
	}
	drain_until(es, &s, inside);
	rmdir(dir);
	cr_expect_eq(count_execs(&s, outside), 0, "an exec outside the cgroup passed --cgroup");
	cr_expect_eq(count_execs(&s, inside), 1);
	stop(es, &s, true);
}

/* Exec in a child moved into DIR (a cgroup v2 directory); returns its pid, or -1 when the
 * move was refused. */
static pid_t run_in_cgroup(const char *dir)
{
	char *argv[] = {"/bin/true", NULL}, procs[4400];
	pid_t pid;
	int fd, st;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(125);
		close(fd);
		execve("/bin/true", argv, (char *[]){NULL});
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? pid : -1;
}

/* cgroup id -> path (through the cgroup2 mount found in mountinfo) -> container id, on a
 * cgroup named the way docker's systemd driver names one. */
Test(execsnoop, cgroup_path_and_container_id_are_resolved)
{
	static const char id[] = "3f4c1e9a0b2d4e6f8a1c3e5f7b9d0a2c4e6f8b1d3a5c7e9f0b2d4f6a8c0e1b3d";
	char mount[4096], top[4200], dir[4300], want[512];
	struct am_execsnoop_opts o = {.resolve_cgroups = true};
	struct sink s = {0};
	struct am_execsnoop *es;
	struct rec *r;
	pid_t pid;

	AM_REQUIRE_BPF();
	if (am_cgroup2_mount(NULL, mount, sizeof(mount)))
		cr_skip_test("skipped: no cgroup2 mount");
	snprintf(top, sizeof(top), "%s/antimetal-test-%d", mount, getpid());
	snprintf(dir, sizeof(dir), "%s/docker-%s.scope", top, id);
	if (mkdir(top, 0755) || mkdir(dir, 0755)) {
		rmdir(top);
		cr_skip_test("skipped: cannot create cgroups under %s: %s", mount, strerror(errno));
	}
	es = start(&o, &s, AM_EXECSNOOP_BUF_RINGBUF);
	pid = run_in_cgroup(dir);
	if (pid < 0) {
		rmdir(dir);
		rmdir(top);
		cr_skip_test("skipped: cannot move a process into %s", dir);
	}
	r = wait_for(es, &s, pid, AM_EXEC_EVENT);
	snprintf(want, sizeof(want), "/antimetal-test-%d/docker-%s.scope", getpid(), id);
	cr_expect_str_eq(r->cgroup, want);
	cr_expect_str_eq(r->container, id);
	cr_expect_str_eq(r->runtime, "docker");
	stop(es, &s, true);
	rmdir(dir);
	rmdir(top);
}

Test(execsnoop, bad_options_are_refused)
{
	struct am_execsnoop_opts o = {.cb = on_record};
	struct am_execsnoop *es = NULL;

	o.max_args = AM_EXECSNOOP_MAX_ARGS + 1;
	cr_expect_eq(am_execsnoop_open(&o, &es), -EINVAL);
	o.max_args = 0;
	o.max_args_size = AM_EXECSNOOP_MAX_ARGS_SIZE + 1;
	cr_expect_eq(am_execsnoop_open(&o, &es), -EINVAL);
	o.max_args_size = 0;
	o.comm = "a-comm-longer-than-15";
	cr_expect_eq(am_execsnoop_open(&o, &es), -EINVAL);
	o.comm = NULL;
	o.cgroup = "/tmp";
	cr_expect_eq(am_execsnoop_open(&o, &es), -EINVAL, "/tmp is not a cgroup v2 directory");
	cr_expect_null(es);
}

/* The resolver on its own: a fresh cgroup, the root, and an id that does not exist; through
 * kernfs file handles and through the tree walk used without CAP_DAC_READ_SEARCH. */
static void check_resolver(bool walk_only)
{
	char mount[4096], dir[4200], want[256];
	struct am_cgroup_paths *c;
	uint64_t id, root;

	if (geteuid() != 0)
		cr_skip_test("skipped: needs root to create a cgroup");
	if (am_cgroup2_mount(NULL, mount, sizeof(mount)))
		cr_skip_test("skipped: no cgroup2 mount");
	snprintf(dir, sizeof(dir), "%s/antimetal-paths-%d", mount, getpid());
	if (mkdir(dir, 0755))
		cr_skip_test("skipped: cannot create a cgroup: %s", strerror(errno));
	cr_assert_eq(am_cgroup_id_of(dir, &id), 0);
	cr_assert_eq(am_cgroup_id_of(mount, &root), 0);
	cr_assert_eq(am_cgroup_paths_open(NULL, &c), 0);
	if (walk_only)
		am_cgroup_paths_disable_handles(c);
	cr_expect_str_eq(am_cgroup_paths_mount(c), mount);
	snprintf(want, sizeof(want), "/antimetal-paths-%d", getpid());
	cr_expect_str_eq(am_cgroup_paths_lookup(c, id), want);
	cr_expect_str_eq(am_cgroup_paths_lookup(c, id), want, "cached answer differs");
	cr_expect_str_eq(am_cgroup_paths_lookup(c, root), "/");
	cr_expect_null(am_cgroup_paths_lookup(c, 0x7fffffffffffull));
	cr_expect_null(am_cgroup_paths_lookup(c, 0));
	am_cgroup_paths_free(c);
	rmdir(dir);
	cr_expect_eq(am_cgroup_id_of("/tmp", &id), -EINVAL, "/tmp is not cgroup2");
}

Test(cgroup_paths, ids_resolve_through_file_handles)
{
	check_resolver(false);
}

Test(cgroup_paths, ids_resolve_through_the_tree_walk)
{
	check_resolver(true);
}
