/* `antimetal-agent check` against the real kernel: every status it reports is compared with a
 * fact the test establishes on its own (files in /sys, its own perf_event_open and fentry
 * attempt, the kernel version), so the report tells the truth on whatever host runs it. On the
 * reference VM that is: native BTF, no kprobes, no fentry, no PMU (software events), perf links,
 * ring buffer, exit 0. Also bad input (exit 2), no BTF (exit 1), no privileges (exit 1), and no
 * file descriptor or program left behind by the probes. */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check_report.h"
#include "json_check.h"
#include "testutil.h"

#define AGENT AM_TEST_BUILD_DIR "/antimetal-agent"

static char *tmpdir;

static void setup(void)
{
	tmpdir = am_test_mkdtemp("check");
	cr_assert_not_null(tmpdir);
	unsetenv("ANTIMETAL_BTF_PATH");
	unsetenv("ANTIMETAL_BTF_ARCHIVE");
}

static void teardown(void)
{
	am_test_rmtree(tmpdir);
	free(tmpdir);
}

TestSuite(check, .init = setup, .fini = teardown);

/* Run the agent with ARGS (NULL-terminated, after "check"); returns the exit status. */
static int run_check(const char *const *args, struct am_strbuf *out, struct am_strbuf *err)
{
	char *argv[16] = {AGENT, "check"};
	int n = 2, st;

	while (*args && n < 15)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	am_strbuf_reset(out);
	am_strbuf_reset(err);
	st = am_test_run(argv, out, err);
	if (!out->data)
		am_strbuf_puts(out, "");
	if (!err->data)
		am_strbuf_puts(err, "");
	cr_assert(st != -1 && WIFEXITED(st), "agent did not exit normally");
	return WEXITSTATUS(st);
}

/* The status string of probe NAME in the JSON report ("yes", "no", ...). */
static const char *status_of(const char *json, const char *name, char *buf, size_t len)
{
	char key[128];
	const char *p, *q;

	snprintf(key, sizeof(key), "\"%s\":{\"group\":\"", name);
	p = strstr(json, key);
	cr_assert_not_null(p, "probe %s missing from %s", name, json);
	p = strstr(p, "\"status\":\"");
	cr_assert_not_null(p);
	p += 10;
	q = strchr(p, '"');
	snprintf(buf, len, "%.*s", (int)(q - p), p);
	return buf;
}

/* The detail string of probe NAME in the JSON report. */
static const char *detail_of(const char *json, const char *name, char *buf, size_t len)
{
	char key[128];
	const char *p, *q;

	snprintf(key, sizeof(key), "\"%s\":{\"group\":\"", name);
	p = strstr(json, key);
	cr_assert_not_null(p, "probe %s missing from %s", name, json);
	p = strstr(p, "\"detail\":\"");
	cr_assert_not_null(p);
	p += 10;
	q = strchr(p, '"');
	snprintf(buf, len, "%.*s", (int)(q - p), p);
	return buf;
}

static void kernel_version(int *maj, int *min)
{
	struct utsname u;

	cr_assert_eq(uname(&u), 0);
	cr_assert_eq(sscanf(u.release, "%d.%d", maj, min), 2);
}

static int at_least(int maj, int min)
{
	int a, b;

	kernel_version(&a, &b);
	return a > maj || (a == maj && b >= min);
}

/* The test's own answer to "is there a hardware PMU": cycles for this process. */
static int have_pmu(void)
{
	struct perf_event_attr a = {.type = PERF_TYPE_HARDWARE,
				    .size = sizeof(a),
				    .config = PERF_COUNT_HW_CPU_CYCLES,
				    .disabled = 1,
				    .exclude_kernel = 1};
	int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int have_kprobes(void)
{
	return !access("/sys/bus/event_source/devices/kprobe", F_OK) ||
	       !access("/sys/kernel/tracing/kprobe_events", F_OK) ||
	       !access("/sys/kernel/debug/tracing/kprobe_events", F_OK);
}

/* The test's own fentry attempt, with raw bpf(2) calls rather than the agent's code. */
static int have_fentry(void)
{
	struct bpf_insn insns[2] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	union bpf_attr attr;
	struct btf *btf = btf__load_vmlinux_btf();
	int id, fd, lfd;

	if (!btf)
		return 0;
	id = btf__find_by_name_kind(btf, "do_nanosleep", BTF_KIND_FUNC);
	btf__free(btf);
	if (id < 0)
		cr_skip_test(
		    "skipped: do_nanosleep not in kernel BTF: cannot establish fentry support");
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_TRACING;
	attr.expected_attach_type = BPF_TRACE_FENTRY;
	attr.attach_btf_id = (__u32)id;
	attr.insns = (__u64)(uintptr_t)insns;
	attr.insn_cnt = 2;
	attr.license = (__u64)(uintptr_t) "GPL";
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.prog_fd = (__u32)fd;
	lfd = (int)syscall(SYS_bpf, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));
	if (lfd >= 0)
		close(lfd);
	close(fd);
	return lfd >= 0;
}

Test(check, json_tells_the_truth_about_this_host)
{
	struct am_strbuf out = {0}, err = {0};
	const char *args[] = {"--json", NULL};
	char s[32];
	int native = !access("/sys/kernel/btf/vmlinux", R_OK);

	AM_REQUIRE_BPF();
	cr_assert_eq(run_check(args, &out, &err), native ? 0 : 1, "stderr: %s", err.data);
	cr_assert(am_test_json_valid(out.data, out.len), "invalid JSON: %s", out.data);

	cr_assert_str_eq(status_of(out.data, "native_btf", s, sizeof(s)), native ? "yes" : "no");
	cr_assert_str_eq(status_of(out.data, "kprobe_attach", s, sizeof(s)),
			 have_kprobes() ? "yes" : "no");
	cr_assert_str_eq(status_of(out.data, "fentry_attach", s, sizeof(s)),
			 have_fentry() ? "yes" : "no");
	cr_assert_str_eq(status_of(out.data, "hardware_pmu", s, sizeof(s)),
			 have_pmu() ? "yes" : "no");
	cr_assert_str_eq(status_of(out.data, "software_events", s, sizeof(s)), "yes");
	cr_assert_str_eq(status_of(out.data, "perf_event_link", s, sizeof(s)),
			 at_least(5, 15) ? "yes" : "no");
	cr_assert_str_eq(status_of(out.data, "ringbuf", s, sizeof(s)),
			 at_least(5, 8) ? "yes" : "no");
	cr_assert_str_eq(status_of(out.data, "tracepoint", s, sizeof(s)), "yes");
	cr_assert_str_eq(status_of(out.data, "perf_event_ioctl", s, sizeof(s)), "yes");
	cr_assert_str_eq(status_of(out.data, "tracefs", s, sizeof(s)), "yes");
	cr_assert_str_eq(status_of(out.data, "CAP_SYS_ADMIN", s, sizeof(s)), "yes");
	if (native) {
		cr_assert(strstr(out.data, "\"core_level\":\"Full\""));
		cr_assert(
		    strstr(out.data,
			   "\"btf\":{\"source\":\"native\",\"path\":\"/sys/kernel/btf/vmlinux\""));
		cr_assert_str_eq(status_of(out.data, "core_relocation", s, sizeof(s)), "yes");
		cr_assert(strstr(out.data, "\"can_run\":true"));
	}
	cr_assert(strstr(out.data, have_pmu() ? "\"plan\":\"hardware cycles (PMU present)\""
					      : "\"plan\":\"no PMU -> software cpu-clock\""));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

static void assert_row(const char *text, const char *name, const char *status)
{
	char row[128];

	snprintf(row, sizeof(row), "\n  %-26s %-8s", name, status);
	cr_assert(strstr(text, row), "no row '%s' in:\n%s", row + 1, text);
}

Test(check, table_tells_the_truth_about_this_host)
{
	struct am_strbuf out = {0}, err = {0};
	const char *args[] = {NULL};

	AM_REQUIRE_BPF();
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		cr_skip_test("skipped: no native BTF here; the JSON test covers this host");
	cr_assert_eq(run_check(args, &out, &err), 0, "stderr: %s", err.data);
	assert_row(out.data, "native_btf", "yes");
	assert_row(out.data, "kprobe_attach", have_kprobes() ? "yes" : "no");
	assert_row(out.data, "fentry_attach", have_fentry() ? "yes" : "no");
	assert_row(out.data, "hardware_pmu", have_pmu() ? "yes" : "no");
	assert_row(out.data, "perf_event_link", at_least(5, 15) ? "yes" : "no");
	cr_assert(strstr(out.data, "\nCO-RE    Full (native BTF)\n"), "%s", out.data);
	cr_assert(strstr(out.data, at_least(5, 8) ? "  execsnoop                  ring buffer\n"
						  : "  execsnoop                  perf buffer"));
	if (!have_pmu())
		cr_assert(strstr(out.data,
				 "  profiler event             no PMU -> software cpu-clock\n"));
	if (at_least(5, 15))
		cr_assert(strstr(out.data, "  profiler attach            bpf_link (5.15+)\n"));
	if (!have_kprobes())
		cr_assert(strstr(
		    out.data,
		    "  kprobe-based collectors    unavailable (CONFIG_KPROBE_EVENTS off)\n"));
	cr_assert(strstr(out.data, "\nCO-RE programs can run (Full: native BTF)\n"));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

static void assert_bad_btf(const char *path)
{
	struct am_strbuf out = {0}, err = {0};
	const char *args[] = {"--btf", path, NULL};

	cr_assert_eq(run_check(args, &out, &err), 2, "stderr: %s", err.data);
	cr_assert(strstr(err.data, path), "message does not name %s: %s", path, err.data);
	cr_assert_eq(out.len, 0, "no report for bad input: %s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(check, bad_btf_file_exits_2_naming_it)
{
	struct am_strbuf b = {0};
	char path[4096];

	snprintf(path, sizeof(path), "%s/garbage.btf", tmpdir);
	cr_assert_eq(am_test_write_file(path, "\x9f\xeb\x01\x00 not really BTF", 20), 0);
	assert_bad_btf(path);
	snprintf(path, sizeof(path), "%s/missing.btf", tmpdir);
	assert_bad_btf(path);
	if (am_test_read_file("/sys/kernel/btf/vmlinux", &b) == 0 && b.len > 4096) {
		snprintf(path, sizeof(path), "%s/truncated.btf", tmpdir);
		cr_assert_eq(am_test_write_file(path, b.data, b.len / 3), 0);
		assert_bad_btf(path);
	}
	am_strbuf_free(&b);
}

Test(check, bad_usage_exits_2)
{
	struct am_strbuf out = {0}, err = {0};
	const char *bogus[] = {"--bogus", NULL}, *noarg[] = {"--btf", NULL},
		   *extra[] = {"extra", NULL}, *help[] = {"--help", NULL};

	cr_assert_eq(run_check(bogus, &out, &err), 2);
	cr_assert(strstr(err.data, "unknown option '--bogus'"), "%s", err.data);
	cr_assert(strstr(err.data, "usage: antimetal-agent check"));
	cr_assert_eq(run_check(noarg, &out, &err), 2);
	cr_assert(strstr(err.data, "'--btf' needs an argument"), "%s", err.data);
	cr_assert_eq(run_check(extra, &out, &err), 2);
	cr_assert(strstr(err.data, "unexpected argument 'extra'"), "%s", err.data);
	cr_assert_eq(run_check(help, &out, &err), 0);
	cr_assert(strstr(out.data, "--json"));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(check, external_btf_is_partial_and_relocates)
{
	struct am_strbuf out = {0}, err = {0}, b = {0};
	char path[4096], s[32];
	const char *args[] = {"--json", "--btf", path, NULL};

	AM_REQUIRE_BPF();
	if (am_test_read_file("/sys/kernel/btf/vmlinux", &b))
		cr_skip_test("skipped: no /sys/kernel/btf/vmlinux to copy as an external file");
	snprintf(path, sizeof(path), "%s/vmlinux.btf", tmpdir);
	cr_assert_eq(am_test_write_file(path, b.data, b.len), 0);
	cr_assert_eq(run_check(args, &out, &err), 0, "stderr: %s", err.data);
	cr_assert(strstr(out.data, "\"core_level\":\"Partial\""), "%s", out.data);
	cr_assert(strstr(out.data, "\"source\":\"--btf\""));
	cr_assert(strstr(out.data, path));
	cr_assert_str_eq(status_of(out.data, "core_relocation", s, sizeof(s)), "yes");
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	am_strbuf_free(&b);
}

/* A copy of this kernel's BTF whose task_struct.real_parent points at group_leader: it parses
 * and relocates like the BTF of another kernel would, and reads the wrong task. */
static void write_wrong_btf(const char *path)
{
	struct btf *btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	const struct btf_type *t;
	struct btf_member *m, *rp = NULL, *gl = NULL;
	const void *raw;
	__u32 sz;
	int id, i;

	cr_assert_not_null(btf);
	id = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
	cr_assert_gt(id, 0);
	t = btf__type_by_id(btf, (__u32)id);
	m = (struct btf_member *)btf_members(t);
	for (i = 0; i < btf_vlen(t); i++) {
		const char *name = btf__name_by_offset(btf, m[i].name_off);

		if (!strcmp(name, "real_parent"))
			rp = &m[i];
		else if (!strcmp(name, "group_leader"))
			gl = &m[i];
	}
	cr_assert(rp && gl);
	/* both are pointers, never bitfields: the raw offset is the bit offset either way */
	rp->offset = gl->offset;
	raw = btf__raw_data(btf, &sz);
	cr_assert_eq(am_test_write_file(path, raw, sz), 0);
	btf__free(btf);
}

Test(check, btf_of_another_kernel_exits_1)
{
	struct am_strbuf out = {0}, err = {0};
	char path[4096], s[32];
	const char *args[] = {"--json", "--btf", path, NULL};

	AM_REQUIRE_BPF();
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		cr_skip_test("skipped: no /sys/kernel/btf/vmlinux to derive a wrong BTF from");
	snprintf(path, sizeof(path), "%s/wrong.btf", tmpdir);
	write_wrong_btf(path);
	cr_assert_eq(run_check(args, &out, &err), 1, "stdout %s stderr %s", out.data, err.data);
	cr_assert(am_test_json_valid(out.data, out.len));
	cr_assert_str_eq(status_of(out.data, "core_relocation", s, sizeof(s)), "no");
	cr_assert(strstr(out.data, "\"can_run\":false"));
	cr_assert(strstr(err.data, "does not describe the running kernel"), "%s", err.data);
	cr_assert(strstr(err.data, path), "%s", err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(check, no_btf_under_a_bare_root_exits_1_with_the_reason)
{
	struct am_strbuf out = {0}, err = {0};
	const char *args[] = {"--root", tmpdir, NULL};

	cr_assert_eq(run_check(args, &out, &err), 1, "stdout: %s", out.data);
	cr_assert(strstr(out.data, "\nCO-RE    None (no BTF"), "%s", out.data);
	cr_assert(strstr(out.data, "\nCO-RE programs cannot run: no BTF"), "%s", out.data);
	assert_row(out.data, "native_btf", "no");
	cr_assert(strstr(err.data, "/sys/kernel/btf/vmlinux"), "the search is listed: %s",
		  err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(check, unprivileged_reports_what_it_could_not_probe)
{
	struct am_strbuf out = {0}, err = {0};
	char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"--inh-caps=-all",  AGENT,	     "check",	      NULL};
	int st;

	if (geteuid() != 0)
		cr_skip_test("skipped: needs root to drop to an unprivileged user");
	if (access(argv[0], X_OK))
		cr_skip_test("skipped: no %s to drop privileges with", argv[0]);
	st = am_test_run(argv, &out, &err);
	/* setpriv's own exec failure: the build tree is not reachable for nobody (e.g. /root) */
	if (WIFEXITED(st) && (WEXITSTATUS(st) == 126 || WEXITSTATUS(st) == 127))
		cr_skip_test("skipped: user nobody cannot execute %s: %s", AGENT, err.data);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d, stderr %s", st, err.data);
	assert_row(out.data, "tracepoint", "unknown");
	assert_row(out.data, "CAP_BPF", "no");
	cr_assert(strstr(out.data, "needs root, or CAP_BPF and CAP_PERFMON"), "%s", out.data);
	cr_assert(strstr(out.data, "\nCO-RE programs cannot run: bpf() refused"), "%s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* RLIMIT_MEMLOCK of this test's process (each test runs in one of its own), inherited by the
 * agents it starts: 64 KiB, soft and hard. UNRAISABLE: also drop CAP_SYS_RESOURCE from the
 * bounding set, so that the agent (root) cannot raise it again. */
static void low_memlock(bool unraisable)
{
	struct rlimit r = {65536, 65536};

	if (geteuid() != 0)
		cr_skip_test("skipped: needs root (the agent must be able to load BPF)");
	cr_assert_eq(setrlimit(RLIMIT_MEMLOCK, &r), 0, "setrlimit: %s", strerror(errno));
	if (unraisable)
		cr_assert_eq(prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0), 0,
			     "PR_CAPBSET_DROP: %s", strerror(errno));
}

/* Before 5.11 BPF maps are charged to RLIMIT_MEMLOCK and libbpf raises it to unlimited (the 5.10
 * guest of `make test-kernels`); from 5.11 they are not, and the limit is left alone. */
Test(check, memlock_charge_and_libbpf_raise_reported)
{
	struct am_strbuf out = {0}, err = {0};
	const char *args[] = {"--json", NULL};
	char d[256], s[32];

	AM_REQUIRE_BPF();
	low_memlock(false);
	run_check(args, &out, &err);
	detail_of(out.data, "memlock", d, sizeof(d));
	cr_log_info("memlock: %s", d);
	cr_assert_str_eq(status_of(out.data, "memlock", s, sizeof(s)), "info");
	if (at_least(5, 11))
		cr_assert(strstr(d, "not charged: ") &&
			      strstr(d, "RLIMIT_MEMLOCK 64 KiB left as it is"),
			  "%s", d);
	else
		cr_assert(strstr(d,
				 "charged (kernel before 5.11): RLIMIT_MEMLOCK raised from 64 KiB "
				 "to unlimited by libbpf"),
			  "%s", d);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* A limit the agent cannot raise: check says so, and where it matters (before 5.11) a BPF load
 * that hits it fails naming RLIMIT_MEMLOCK, not with a bare EPERM or a capability hint. */
Test(check, memlock_that_cannot_be_raised_is_named)
{
	struct am_strbuf out = {0}, err = {0};
	const char *args[] = {"--json", NULL};
	char *profile[] = {AGENT, "profile", "-F", "99", "-d", "1", "-o", "/dev/null", NULL};
	char d[256], s[32];
	int st;

	AM_REQUIRE_BPF();
	low_memlock(true);
	run_check(args, &out, &err);
	detail_of(out.data, "memlock", d, sizeof(d));
	status_of(out.data, "memlock", s, sizeof(s));
	cr_log_info("memlock: %s %s", s, d);
	am_strbuf_reset(&out);
	am_strbuf_reset(&err);
	st = am_test_run(profile, &out, &err);
	cr_assert(WIFEXITED(st), "profile did not exit normally");
	cr_log_info("profile exit %d: %s", WEXITSTATUS(st), err.data ? err.data : "");
	if (at_least(5, 11)) {
		cr_assert_str_eq(s, "info");
		cr_assert(strstr(d, "not charged: "), "%s", d);
		cr_assert_eq(WEXITSTATUS(st), 0, "profile failed under a 64 KiB limit: %s",
			     err.data);
	} else {
		cr_assert_str_eq(s, "no");
		cr_assert(strstr(d, "RLIMIT_MEMLOCK 64 KiB (hard 64 KiB) cannot be raised"), "%s",
			  d);
		cr_assert_neq(WEXITSTATUS(st), 0, "profile worked under 64 KiB of RLIMIT_MEMLOCK");
		cr_assert(strstr(err.data, "RLIMIT_MEMLOCK, here 64 KiB (hard 64 KiB)") &&
			      strstr(err.data, "CAP_SYS_RESOURCE"),
			  "the error does not name the cause: %s", err.data);
		cr_assert_null(strstr(err.data, "needs CAP_BPF"), "%s", err.data);
	}
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* Programs named NAME loaded anywhere on the system. */
static int loaded(const char *name)
{
	__u32 id = 0;
	int n = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !strncmp(info.name, name, sizeof(info.name) - 1)) /* names are cut at 15 */
			n++;
		close(fd);
	}
	return n;
}

Test(check, probes_leave_no_fd_or_program_behind)
{
	struct am_check_opts o = {.mount_tracefs = true};
	struct am_check_report *r = calloc(1, sizeof(*r));
	int before, i;

	AM_REQUIRE_BPF();
	cr_assert_not_null(r);
	/* the first run may open what stays open by design (libbpf's log, tracefs mount) */
	cr_assert_eq(am_check_build(&o, r), 0);
	before = am_test_open_fds();
	for (i = 0; i < 3; i++)
		cr_assert_eq(am_check_build(&o, r), 0);
	cr_assert_eq(am_test_open_fds(), before, "probes leaked file descriptors");
	cr_assert_eq(loaded("am_probe"), 0, "a probe program is still loaded");
	cr_assert_eq(loaded("test_core_getppid"), 0, "the CO-RE proof program is still loaded");
	cr_assert(r->can_run || access("/sys/kernel/btf/vmlinux", R_OK), "%s", r->verdict);
	free(r);
}
