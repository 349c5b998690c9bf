/* External BTF end to end, with native BTF ignored: the CO-RE proof program (test_core) and the
 * check, profile and execsnoop subcommands (--btf) run with a copy of this kernel's BTF and with
 * its min_core_btf reduction made by ebpf/scripts/btfgen.sh (also over a btfhub-layout archive),
 * and must pass the same checks as with native BTF. A truncated file is refused with a message
 * naming it; the BTF of another kernel (the 6.1 guest's, exported by `make test-kernels`) and a
 * reduction made for other objects fail naming the file and the field. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/bpf_load.h"
#include "core/kversion.h"
#include "core/btf_discovery.h"
#include "core/btf_verify.h"
#include "core/tracefs.h"
#include "test_core.skel.h"
#include "test_core_types.h"
#include "testutil.h"

#define NATIVE_BTF "/sys/kernel/btf/vmlinux"

static char *tmpdir;

static void setup(void)
{
	tmpdir = am_test_mkdtemp("extbtf");
	cr_assert_not_null(tmpdir);
	unsetenv("ANTIMETAL_BTF_PATH");
}

static void teardown(void)
{
	if (tmpdir)
		am_test_rmtree(tmpdir);
	free(tmpdir);
}

TestSuite(external_btf, .init = setup, .fini = teardown, .timeout = 120);

static void need_native_btf(void)
{
	if (access(NATIVE_BTF, R_OK))
		cr_skip_test("skipped: this kernel has no %s to copy", NATIVE_BTF);
}

static long file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	return (long)st.st_size;
}

/* Write the first LEN bytes of NATIVE_BTF (all of it when LEN < 0) to DIR/NAME. */
static char *copy_native(const char *name, long len)
{
	struct am_strbuf b = {0};
	char *path;

	cr_assert_eq(am_test_read_file(NATIVE_BTF, &b), 0);
	cr_assert_gt(b.len, 1000u);
	cr_assert_geq(asprintf(&path, "%s/%s", tmpdir, name), 0);
	cr_assert_eq(am_test_write_file(path, b.data, len < 0 ? b.len : (size_t)len), 0);
	am_strbuf_free(&b);
	return path;
}

/* The agent's own path: resolve the explicit file (it must be taken as is), then open the
 * skeleton with it as btf_custom_path, so relocations use it instead of native BTF. */
static void probe_with(const char *btf, struct test_core_event *ev)
{
	struct am_bpf_open_state st = {0};
	struct test_core_bpf *skel;
	char resolved[4096];
	__u32 key = 0;
	int err;

	cr_assert_eq(am_btf_resolve(btf, resolved, sizeof(resolved)), 0, "am_btf_resolve(%s)", btf);
	cr_assert_str_eq(resolved, btf, "an explicit BTF file must be used as given");
	cr_assert_eq(am_tracefs_ensure(NULL), 0, "tracefs unavailable");
	skel = AM_SKEL_OPEN(test_core_bpf, "test_core", resolved, &st);
	cr_assert_not_null(skel, "opening test_core with BTF %s failed", btf);
	skel->rodata->target_tgid = getpid();
	err = test_core_bpf__load(skel);
	cr_assert_eq(err, 0, "loading test_core with BTF %s failed: %s", btf, strerror(-err));
	err = test_core_bpf__attach(skel);
	cr_assert_eq(err, 0, "attaching test_core failed: %s", strerror(-err));
	syscall(SYS_getppid);
	err = bpf_map__lookup_elem(skel->maps.result, &key, sizeof(key), ev, sizeof(*ev), 0);
	cr_assert_eq(err, 0);
	test_core_bpf__destroy(skel);
	am_bpf_open_state_release(&st);
}

/* The checks of test_core_reloc.c, so external BTF is held to the native standard. */
static void assert_matches_kernel(const struct test_core_event *ev, const char *btf)
{
	struct am_strbuf comm = {0};
	struct am_kver kv;

	cr_assert_eq(am_kver_host(&kv), 0);
	cr_assert_eq(ev->hits, 1, "[%s] tracepoint fired %d times, want 1", btf, ev->hits);
	cr_assert_eq(ev->tgid, getpid());
	cr_assert_eq(ev->pid, (int)syscall(SYS_gettid));
	cr_assert_eq(ev->ppid, getppid(), "[%s] real_parent->tgid %d != getppid() %d", btf,
		     ev->ppid, getppid());
	cr_assert_eq(ev->state, 0u, "[%s] task state %u, want TASK_RUNNING", btf, ev->state);
	/* task_struct.state became __state in 5.14: the relocation must pick the field this
	 * kernel has (the old one in the 5.10 guest of `make test-kernels`). */
	cr_assert_eq(ev->state_field,
		     am_kver_at_least(&kv, 5, 14, 0) ? TEST_CORE_STATE_NEW : TEST_CORE_STATE_OLD,
		     "[%s] state field %d on %u.%u", btf, ev->state_field, kv.major, kv.minor);
	cr_assert_eq(am_test_read_file("/proc/self/comm", &comm), 0);
	comm.data[strcspn(comm.data, "\n")] = '\0';
	cr_assert_str_eq(ev->comm, comm.data);
	am_strbuf_free(&comm);
}

Test(external_btf, copy_of_native_btf_passes_the_core_checks)
{
	struct test_core_event ev = {0};
	char *copy;

	AM_REQUIRE_BPF();
	need_native_btf();
	copy = copy_native("vmlinux.btf", -1);
	probe_with(copy, &ev);
	assert_matches_kernel(&ev, copy);
	cr_assert_eq(am_btf_verify_running_kernel(copy), 0,
		     "a copy of native BTF failed the check");
	free(copy);
}

static const char *str(const struct am_strbuf *b)
{
	return b->data ? b->data : "";
}

/* Reduce native BTF with ebpf/scripts/btfgen.sh over every object we build, as `make btfgen`
 * does: one file serves every collector. */
static char *make_min_btf(void)
{
	char script[] = AM_TEST_SRC_DIR "/ebpf/scripts/btfgen.sh";
	struct am_strbuf out = {0}, err = {0};
	char *min;
	int status;

	cr_assert_geq(asprintf(&min, "%s/min.btf", tmpdir), 0);
	status = am_test_run((char *[]){"/bin/bash", script, "-i", NATIVE_BTF, "-o", min, NULL},
			     &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "btfgen.sh failed: %s%s",
		  str(&out), str(&err));
	cr_assert_lt(file_size(min) * 20, file_size(NATIVE_BTF),
		     "min_core_btf output (%ld bytes) is not a reduction of %s (%ld bytes)",
		     file_size(min), NATIVE_BTF, file_size(NATIVE_BTF));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	return min;
}

Test(external_btf, min_core_btf_passes_the_core_checks)
{
	struct test_core_event ev = {0};
	char *min;

	AM_REQUIRE_BPF();
	need_native_btf();
	min = make_min_btf();
	probe_with(min, &ev);
	assert_matches_kernel(&ev, min);
	cr_assert_eq(am_btf_verify_running_kernel(min), 0, "the reduced BTF failed the check");
	free(min);
}

Test(external_btf, btf_path_env_names_the_file_to_use)
{
	struct test_core_event ev = {0};
	char resolved[4096];
	char *copy;

	AM_REQUIRE_BPF();
	need_native_btf();
	copy = copy_native("env.btf", -1);
	setenv("ANTIMETAL_BTF_PATH", copy, 1);
	cr_assert_eq(am_btf_resolve(NULL, resolved, sizeof(resolved)), 0);
	cr_assert_str_eq(resolved, copy, "ANTIMETAL_BTF_PATH must win over native BTF");
	unsetenv("ANTIMETAL_BTF_PATH");
	probe_with(resolved, &ev);
	assert_matches_kernel(&ev, copy);
	free(copy);
}

/* Send stderr (where the agent logs) to a file until log_capture_end() returns its text. */
static int log_capture_begin(void)
{
	char *logpath;
	int saved, fd;

	cr_assert_geq(asprintf(&logpath, "%s/log.txt", tmpdir), 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	free(logpath);
	return saved;
}

static void log_capture_end(int saved, struct am_strbuf *log)
{
	char *logpath;

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	cr_assert_geq(asprintf(&logpath, "%s/log.txt", tmpdir), 0);
	cr_assert_eq(am_test_read_file(logpath, log), 0);
	fputs(log->data ? log->data : "", stderr);
	free(logpath);
}

static void resolve_logged(const char *btf, int *ret, struct am_strbuf *log)
{
	char resolved[4096];
	int saved = log_capture_begin();

	*ret = am_btf_resolve(btf, resolved, sizeof(resolved));
	log_capture_end(saved, log);
}

Test(external_btf, truncated_btf_is_refused_naming_the_file)
{
	struct am_strbuf log = {0};
	char *trunc;
	int ret;

	need_native_btf();
	trunc = copy_native("truncated.btf", file_size(NATIVE_BTF) / 2);
	resolve_logged(trunc, &ret, &log);
	cr_assert_lt(ret, 0, "a truncated BTF file was accepted");
	cr_assert_not_null(strstr(log.data ? log.data : "", trunc),
			   "the error does not name %s: '%s'", trunc, log.data ? log.data : "");
	am_strbuf_free(&log);
	free(trunc);
}

/* Passed straight to libbpf (no resolve), a truncated file must fail the load, not crash it. */
Test(external_btf, truncated_btf_given_to_libbpf_fails_the_load)
{
	struct am_bpf_open_state st = {0};
	struct test_core_bpf *skel;
	char *trunc;

	AM_REQUIRE_BPF();
	need_native_btf();
	trunc = copy_native("truncated.btf", file_size(NATIVE_BTF) / 2);
	skel = AM_SKEL_OPEN(test_core_bpf, "test_core", trunc, &st);
	if (skel) {
		cr_assert_neq(test_core_bpf__load(skel), 0, "test_core loaded with truncated BTF");
		test_core_bpf__destroy(skel);
	}
	am_bpf_open_state_release(&st);
	free(trunc);
}

/* Another kernel's BTF: by default the 6.1 guest's, which tests/kernels/run.sh copies out over
 * the second serial port; in that guest, AM_TEST_FOREIGN_BTF names the host kernel's. */
#define FOREIGN_BTF AM_TEST_SRC_DIR "/build/kernels/debian-6.1/vmlinux.btf"

static int same_file_contents(const char *a, const char *b)
{
	struct am_strbuf x = {0}, y = {0};
	int same;

	cr_assert_eq(am_test_read_file(a, &x), 0);
	cr_assert_eq(am_test_read_file(b, &y), 0);
	same = x.len == y.len && !memcmp(x.data, y.data, x.len);
	am_strbuf_free(&x);
	am_strbuf_free(&y);
	return same;
}

Test(external_btf, btf_of_another_kernel_is_caught_naming_file_and_field)
{
	struct test_core_event ev = {0};
	struct am_strbuf log = {0};
	const char *env = getenv("AM_TEST_FOREIGN_BTF");
	char foreign[4096];
	int saved, ret;

	AM_REQUIRE_BPF();
	need_native_btf();
	if (!realpath(env && *env ? env : FOREIGN_BTF, foreign))
		cr_skip_test("skipped: no other kernel's BTF: `make test-kernels` exports the 6.1 "
			     "guest's to build/kernels/debian-6.1/vmlinux.btf");
	if (same_file_contents(foreign, NATIVE_BTF))
		cr_skip_test("skipped: %s is this kernel's own BTF", foreign);
	/* It is valid BTF: parsing alone cannot tell it is the wrong one... */
	resolve_logged(foreign, &ret, &log);
	cr_assert_eq(ret, 0, "%s should parse as BTF", foreign);
	am_strbuf_free(&log);
	/* ...and it loads, reading another kernel's offsets: the parent tgid comes out wrong. */
	probe_with(foreign, &ev);
	cr_assert_eq(ev.hits, 1);
	if (ev.ppid == getppid())
		cr_skip_test(
		    "skipped: %s places task_struct.real_parent and tgid where this kernel "
		    "does: nothing to catch",
		    foreign);
	/* The check catches it, naming the file and the field. */
	saved = log_capture_begin();
	ret = am_btf_verify_running_kernel(foreign);
	log_capture_end(saved, &log);
	cr_assert_eq(ret, -EINVAL, "wrong-kernel BTF not caught: %d", ret);
	cr_assert_not_null(strstr(log.data, foreign), "message does not name the file: %s",
			   log.data);
	cr_assert_not_null(strstr(log.data, "task_struct.real_parent"),
			   "message does not name the field: %s", log.data);
	am_strbuf_free(&log);
	/* And `check` says CO-RE cannot run with it (exit 1), naming both. */
	{
		struct am_strbuf out = {0}, err = {0};
		int status = am_test_run((char *[]){AM_TEST_BUILD_DIR "/antimetal-agent", "check",
						    "--btf", foreign, NULL},
					 &out, &err);

		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1,
			  "check --btf <another kernel's>: status %d\n%s", status, err.data);
		cr_assert_not_null(strstr(err.data, foreign), "%s", err.data);
		cr_assert_not_null(strstr(err.data, "task_struct.real_parent"), "%s", err.data);
		am_strbuf_free(&out);
		am_strbuf_free(&err);
	}
}

/* The subcommands, through their --btf option: each must run on the reduced BTF alone. */
#define AGENT AM_TEST_BUILD_DIR "/antimetal-agent"

/* A subcommand still being written prints "not built yet": skip it, saying so. */
static void skip_if_not_built(const char *cmd)
{
	struct am_strbuf out = {0}, err = {0};

	am_test_run((char *[]){AGENT, (char *)cmd, "--help", NULL}, &out, &err);
	if (strstr(str(&err), "not built yet"))
		cr_skip_test("skipped: '%s' is not built yet", cmd);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(external_btf, check_runs_on_reduced_btf)
{
	struct am_strbuf out = {0}, err = {0};
	char *min;
	int status;

	AM_REQUIRE_BPF();
	need_native_btf();
	skip_if_not_built("check");
	min = make_min_btf();
	status = am_test_run((char *[]){AGENT, "check", "--btf", min, NULL}, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "check --btf exit %d: %s",
		  WEXITSTATUS(status), str(&err));
	cr_assert_not_null(strstr(str(&out), min), "check does not report the BTF used:\n%s",
			   str(&out));
	cr_assert_not_null(strstr(str(&out), "Partial"), "CO-RE level with external BTF:\n%s",
			   str(&out));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	free(min);
}

Test(external_btf, profile_runs_on_reduced_btf)
{
	char hot[] = AM_TEST_BUILD_DIR "/tests/workloads/hot";
	struct am_strbuf out = {0}, err = {0};
	char pid[16], *min;
	int status, wpid;

	AM_REQUIRE_BPF();
	need_native_btf();
	skip_if_not_built("profile");
	cr_assert_eq(access(hot, X_OK), 0, "workload %s not built", hot);
	min = make_min_btf();
	wpid = am_test_spawn((char *[]){hot, "5", NULL}, tmpdir);
	cr_assert_gt(wpid, 0);
	snprintf(pid, sizeof(pid), "%d", wpid);
	status = am_test_run((char *[]){AGENT, "profile", "--btf", min, "-d", "1", "-p", pid,
					"--format", "folded", NULL},
			     &out, &err);
	am_test_reap(wpid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "profile --btf exit %d: %s",
		  WEXITSTATUS(status), str(&err));
	cr_assert_not_null(strstr(str(&out), ";main;"), "no stack through main:\n%s", str(&out));
	cr_assert_not_null(strstr(str(&out), ";hot_a "), "no stack ending in hot_a:\n%s",
			   str(&out));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	free(min);
}

Test(external_btf, execsnoop_runs_on_reduced_btf)
{
	/* On the stack, not in .rodata: a forked child may not have the file-backed page mapped
	 * yet when execve's arguments are read. */
	char true_bin[] = "/bin/true", marker[] = "am-external-btf-marker";
	struct am_strbuf out = {0};
	char *min, *outpath;
	char errpath[4096];
	int status, spid;

	AM_REQUIRE_BPF();
	need_native_btf();
	skip_if_not_built("execsnoop");
	min = make_min_btf();
	spid = am_test_spawn(
	    (char *[]){AGENT, "execsnoop", "--btf", min, "--json", "-d", "3", NULL}, tmpdir);
	cr_assert_gt(spid, 0);
	/* The marker runs once the collector says it is attached. */
	snprintf(errpath, sizeof(errpath), "%s/err.txt", tmpdir);
	if (am_test_wait_file_text(errpath, "tracing execs", 30000, spid))
		am_test_run((char *[]){true_bin, marker, NULL}, NULL, NULL);
	if (am_test_wait_exit(spid, 30000, &status)) {
		am_test_reap(spid);
		cr_assert_fail("execsnoop --btf -d 3 still running after 30 s");
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "execsnoop --btf exit status %d",
		  status);
	cr_assert_geq(asprintf(&outpath, "%s/out.txt", tmpdir), 0);
	cr_assert_eq(am_test_read_file(outpath, &out), 0);
	cr_assert_not_null(strstr(str(&out), "[\"/bin/true\",\"am-external-btf-marker\"]"),
			   "the marker exec was not reported:\n%s", str(&out));
	am_strbuf_free(&out);
	free(outpath);
	free(min);
}

/* Every subcommand: a damaged --btf is bad input (exit 2) named in the message. */
static void truncated_btf_cli(const char *cmd)
{
	struct am_strbuf out = {0}, err = {0};
	char *trunc;
	int status;

	need_native_btf();
	skip_if_not_built(cmd);
	trunc = copy_native("truncated.btf", 4096);
	status = am_test_run((char *[]){AGENT, (char *)cmd, "--btf", trunc, NULL}, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "%s --btf truncated: status %d",
		  cmd, status);
	cr_assert_not_null(strstr(str(&err), trunc), "%s: the error does not name %s: '%s'", cmd,
			   trunc, str(&err));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	free(trunc);
}

Test(external_btf, check_refuses_truncated_btf)
{
	truncated_btf_cli("check");
}

Test(external_btf, profile_refuses_truncated_btf)
{
	truncated_btf_cli("profile");
}

Test(external_btf, execsnoop_refuses_truncated_btf)
{
	truncated_btf_cli("execsnoop");
}

/* A BTF reduced for other objects (here: test_core only) lacks what a collector relocates
 * against: loading fails, and the message names the BTF file and the missing field. */
static void reduced_for_other_objects(const char *cmd, char *const extra[])
{
	char script[] = AM_TEST_SRC_DIR "/ebpf/scripts/btfgen.sh";
	char obj[] = AM_TEST_SRC_DIR "/ebpf/build/test_core.bpf.o";
	struct am_strbuf out = {0}, err = {0};
	char *argv[16], *partial;
	int status, n = 0;

	AM_REQUIRE_BPF();
	need_native_btf();
	skip_if_not_built(cmd);
	cr_assert_geq(asprintf(&partial, "%s/test_core_only.btf", tmpdir), 0);
	status =
	    am_test_run((char *[]){"/bin/bash", script, "-i", NATIVE_BTF, "-o", partial, obj, NULL},
			&out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "btfgen.sh: %s", str(&err));
	am_strbuf_reset(&err);
	argv[n++] = AGENT;
	argv[n++] = (char *)cmd;
	argv[n++] = "--btf";
	argv[n++] = partial;
	while (*extra)
		argv[n++] = *extra++;
	argv[n] = NULL;
	status = am_test_run(argv, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "%s: status %d\n%s", cmd, status,
		  str(&err));
	cr_assert_not_null(strstr(str(&err), partial), "%s: BTF file not named:\n%s", cmd,
			   str(&err));
	cr_assert_not_null(strstr(str(&err), "failed to resolve CO-RE relocation"),
			   "%s: the unresolved relocation is not reported:\n%s", cmd, str(&err));
	cr_assert_not_null(strstr(str(&err), "struct "), "%s: no type named:\n%s", cmd, str(&err));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	free(partial);
}

Test(external_btf, execsnoop_on_btf_reduced_for_other_objects_names_the_field)
{
	reduced_for_other_objects("execsnoop", (char *[]){"-d", "1", NULL});
}

Test(external_btf, profile_on_btf_reduced_for_other_objects_names_the_field)
{
	reduced_for_other_objects("profile", (char *[]){"-d", "1", NULL});
}

/* The operator's path (docs/btf.md): a btfhub-layout tree of .btf.tar.xz files reduced by
 * `btfgen.sh -a`, then found by the agent through ANTIMETAL_BTF_ARCHIVE and /etc/os-release
 * (under a fake root without /sys/kernel/btf, so native BTF is absent), and verified against the
 * running kernel by `check`. */
Test(external_btf, btfhub_archive_reduced_by_btfgen_is_found_and_verified)
{
	char script[] = AM_TEST_SRC_DIR "/ebpf/scripts/btfgen.sh";
	struct am_strbuf out = {0}, err = {0};
	char *hub, *dir, *full, *named, *tarball, *red, *fake, *want;
	struct utsname u;
	int status;

	AM_REQUIRE_BPF();
	need_native_btf();
	if (access("/usr/bin/xz", X_OK) || access("/bin/tar", X_OK))
		cr_skip_test("skipped: needs tar and xz (xz-utils) to build a btfhub .btf.tar.xz");
	skip_if_not_built("check");
	cr_assert_eq(uname(&u), 0);
	cr_assert_geq(asprintf(&hub, "%s/hub", tmpdir), 0);
	cr_assert_geq(asprintf(&dir, "%s/debian/12/%s", hub, u.machine), 0);
	full = copy_native("full.btf", -1);
	cr_assert_geq(asprintf(&tarball, "%s/%s.btf.tar.xz", dir, u.release), 0);
	cr_assert_geq(asprintf(&red, "%s/red", tmpdir), 0);
	cr_assert_eq(am_test_write_file(tarball, "", 0), 0); /* creates the directories */
	/* btfhub packs <release>.btf alone in <release>.btf.tar.xz. */
	cr_assert_geq(asprintf(&named, "%s/%s.btf", tmpdir, u.release), 0);
	cr_assert_eq(rename(full, named), 0);
	free(full);
	/* xz by path: GNU tar runs the compressor through /bin/sh, which in the test-kernels guest
	 * is busybox, whose own xz applet only decompresses. */
	status = am_test_run((char *[]){"/bin/tar", "--use-compress-program=/usr/bin/xz", "-cf",
					tarball, "-C", tmpdir, strrchr(named, '/') + 1, NULL},
			     &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tar: %s", str(&err));
	free(named);
	status =
	    am_test_run((char *[]){"/bin/bash", script, "-a", hub, "-O", red, NULL}, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "btfgen.sh -a: %s%s", str(&out),
		  str(&err));
	cr_assert_geq(asprintf(&want, "%s/debian/12/%s/%s.btf", red, u.machine, u.release), 0);
	cr_assert_lt(file_size(want) * 20, file_size(NATIVE_BTF), "%s is not reduced", want);

	cr_assert_geq(asprintf(&fake, "%s/root", tmpdir), 0);
	cr_assert_geq(asprintf(&full, "%s/etc/os-release", fake), 0);
	cr_assert_eq(am_test_write_file(full, "ID=debian\nVERSION_ID=\"12\"\n",
					strlen("ID=debian\nVERSION_ID=\"12\"\n")),
		     0);
	setenv("ANTIMETAL_BTF_ARCHIVE", red, 1);
	am_strbuf_reset(&out);
	am_strbuf_reset(&err);
	status = am_test_run((char *[]){AGENT, "check", "--root", fake, NULL}, &out, &err);
	unsetenv("ANTIMETAL_BTF_ARCHIVE");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "check via the archive: %d\n%s%s",
		  status, str(&out), str(&err));
	cr_assert_not_null(strstr(str(&out), want), "archive file not used:\n%s", str(&out));
	cr_assert_not_null(strstr(str(&out), "btfhub archive"), "%s", str(&out));
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	free(hub);
	free(dir);
	free(full);
	free(tarball);
	free(red);
	free(fake);
	free(want);
}
