/* bpf(2) refused by seccomp (as under a container runtime's default profile) is reported as a
 * refusal, never as an old kernel: `check`, execsnoop and the OOM collector run under
 * tests/workloads/seccomp_deny_bpf, whose filter makes bpf() (or only BPF_MAP_CREATE) fail with
 * EPERM on this kernel, which has ring buffers. Run as root, the messages also say the
 * capabilities are held; without them (test_profiler, test_check) they name the missing one. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define AGENT	AM_TEST_BUILD_DIR "/antimetal-agent"
#define DENY	AM_TEST_BUILD_DIR "/tests/workloads/seccomp_deny_bpf"
#define REFUSED "refused (EPERM: seccomp or missing capability)"

static char *tmpdir;

static void setup(void)
{
	tmpdir = am_test_mkdtemp("bpf-refused");
	cr_assert_not_null(tmpdir);
}

static void teardown(void)
{
	am_test_rmtree(tmpdir);
	free(tmpdir);
}

TestSuite(bpf_refused, .init = setup, .fini = teardown);

/* Run ARGV to its end; stdout and stderr together in OUT. Returns the exit status. */
static int run(char *const argv[], struct am_strbuf *out)
{
	struct am_strbuf err = {0};
	int st = am_test_run(argv, out, &err);

	if (err.data)
		am_strbuf_puts(out, err.data);
	if (!out->data)
		am_strbuf_puts(out, "");
	am_strbuf_free(&err);
	cr_assert(st != -1 && WIFEXITED(st), "%s did not exit normally", argv[0]);
	cr_assert_neq(WEXITSTATUS(st), 125, "the seccomp filter was not installed: %s", out->data);
	return WEXITSTATUS(st);
}

/* The text of the `check` row of probe NAME (from its name to the end of the line). */
static const char *row(const char *text, const char *name, char *buf, size_t len)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "  %s ", name);
	p = strstr(text, key);
	cr_assert_not_null(p, "no row %s in %s", name, text);
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

Test(bpf_refused, check_names_a_seccomp_refusal_of_bpf)
{
	char *argv[] = {DENY, AGENT, "check", NULL};
	struct am_strbuf out = {0};
	char buf[512];

	AM_REQUIRE_BPF();
	cr_assert_eq(run(argv, &out), 1, "%s", out.data);
	cr_assert(strstr(out.data, "bpf() " REFUSED), "%s", out.data);
	cr_assert(strstr(row(out.data, "ringbuf", buf, sizeof(buf)), REFUSED), "%s", buf);
	cr_assert(strstr(out.data, "CO-RE programs cannot run: bpf() " REFUSED), "%s", out.data);
	cr_assert_null(strstr(out.data, "before 5.8"), "%s", out.data);
	am_strbuf_free(&out);
}

Test(bpf_refused, check_tells_a_refused_ring_buffer_from_an_old_kernel)
{
	char *argv[] = {DENY, "--map-create", AGENT, "check", NULL};
	struct am_strbuf out = {0};
	char buf[512];

	AM_REQUIRE_BPF();
	run(argv, &out);
	/* Programs load (the filter lets BPF_PROG_LOAD through); every map creation is refused. */
	cr_assert(strstr(row(out.data, "tracepoint", buf, sizeof(buf)), "yes"), "%s", buf);
	row(out.data, "ringbuf", buf, sizeof(buf));
	cr_assert(strstr(buf, "unknown"), "%s", buf);
	cr_assert(strstr(buf, "creating a BPF_MAP_TYPE_RINGBUF was " REFUSED), "%s", buf);
	row(out.data, "perf_event_array", buf, sizeof(buf));
	cr_assert(strstr(buf, REFUSED), "%s", buf);
	cr_assert_null(strstr(out.data, "before 5.8"), "%s", out.data);
	cr_assert_null(strstr(out.data, "unknown to this kernel"), "%s", out.data);
	am_strbuf_free(&out);
}

Test(bpf_refused, execsnoop_names_the_refusal)
{
	char *argv[] = {DENY, "--map-create", AGENT, "execsnoop", NULL};
	struct am_strbuf out = {0};

	AM_REQUIRE_BPF();
	cr_assert_neq(run(argv, &out), 0, "%s", out.data);
	cr_assert(strstr(out.data, "execsnoop: creating a BPF ring buffer was " REFUSED), "%s",
		  out.data);
	/* Root holds every capability: the message must not send the user looking for one. */
	cr_assert(strstr(out.data, REFUSED "; the capabilities are held: a seccomp filter"), "%s",
		  out.data);
	cr_assert_null(strstr(out.data, "before 5.8"), "%s", out.data);
	am_strbuf_free(&out);
}

Test(bpf_refused, oom_collector_names_the_refusal)
{
	char log[512];
	char *argv[] = {DENY,	 "--map-create",
			AGENT,	 "run",
			"--set", "http.enabled=false",
			"--set", "collectors.enabled=false",
			"--set", "execsnoop.enabled=false",
			"--set", "profiler.enabled=false",
			"--set", "oom.enabled=true",
			NULL};
	struct am_test_spawn_opts o = {.out = "/dev/null", .err = log};
	struct am_strbuf text = {0};
	bool seen;
	pid_t pid;

	AM_REQUIRE_BPF();
	snprintf(log, sizeof(log), "%s/agent.log", tmpdir);
	pid = am_test_spawn_opts(argv, &o);
	cr_assert_gt(pid, 0);
	seen =
	    am_test_wait_file_text(log, "oom: creating a BPF ring buffer was " REFUSED, 10000, pid);
	am_test_reap(pid);
	am_test_read_file(log, &text);
	cr_assert(seen, "%s", text.data ? text.data : "");
	cr_assert_null(strstr(text.data, "before 5.8"), "%s", text.data);
	am_strbuf_free(&text);
}
