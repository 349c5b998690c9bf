/* ebpf/scripts/check_core_support.sh, the pre-build check: its verdict on this host, and the
 * matrix (Full / Partial / None) on fake system trees. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define SCRIPT AM_TEST_SRC_DIR "/ebpf/scripts/check_core_support.sh"

static char *tmpdir;

static void setup(void)
{
	tmpdir = am_test_mkdtemp("coresupport");
	cr_assert_not_null(tmpdir);
	unsetenv("ANTIMETAL_BTF_PATH");
	unsetenv("ANTIMETAL_BTF_ARCHIVE");
}

static void teardown(void)
{
	am_test_rmtree(tmpdir);
	free(tmpdir);
}

TestSuite(core_support, .init = setup, .fini = teardown);

/* Run the script with up to four arguments; returns its exit status, output in OUT. */
static int run(struct am_strbuf *out, const char *a1, const char *a2, const char *a3,
	       const char *a4)
{
	char *argv[] = {"/bin/bash", SCRIPT, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
	struct am_strbuf err = {0};
	int st;

	am_strbuf_reset(out);
	st = am_test_run(argv, out, &err);
	if (!out->data)
		am_strbuf_puts(out, "");
	cr_assert(st != -1 && WIFEXITED(st), "script did not exit normally: %s", err.data);
	am_strbuf_free(&err);
	return WEXITSTATUS(st);
}

Test(core_support, verdict_on_this_host)
{
	struct am_strbuf out = {0};
	int native = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	int rc = run(&out, NULL, NULL, NULL, NULL);

	if (!native)
		cr_skip_test("skipped: this host has no native BTF (verdict %s)", out.data);
	cr_assert_eq(rc, 0, "%s", out.data);
	cr_assert(strstr(out.data, "\nverdict: Full (native BTF"), "%s", out.data);
	cr_assert(strstr(out.data, "  native BTF               yes (/sys/kernel/btf/vmlinux, "));
	cr_assert(strstr(out.data, "  kernel release           "));
	if (!access("/usr/bin/bpftool", X_OK) || !access("/usr/sbin/bpftool", X_OK))
		cr_assert(strstr(out.data, "  bpftool                  yes ("), "%s", out.data);
	if (!access("/usr/bin/clang", X_OK))
		cr_assert(strstr(out.data, "  clang BPF target         yes ("), "%s", out.data);
	if (!access("/proc/config.gz", R_OK))
		cr_assert(strstr(out.data, "  CONFIG_DEBUG_INFO_BTF    y (/proc/config.gz)"), "%s",
			  out.data);
	am_strbuf_free(&out);
}

Test(core_support, fake_trees_cover_the_matrix)
{
	struct am_strbuf out = {0};
	struct utsname u;
	char path[4096];

	cr_assert_eq(uname(&u), 0);
	/* nothing at all: None, exit 1 */
	cr_assert_eq(run(&out, "--root", tmpdir, "--release", "5.4.0-1034-aws"), 1, "%s", out.data);
	cr_assert(strstr(out.data, "\nverdict: None (no native BTF and no external BTF file)"),
		  "%s", out.data);

	/* a btfhub archive entry for this distribution: Partial */
	snprintf(path, sizeof(path), "%s/etc/os-release", tmpdir);
	cr_assert_eq(am_test_write_file(path, "ID=ubuntu\nVERSION_ID=\"20.04\"\n", 29), 0);
	snprintf(path, sizeof(path),
		 "%s/var/lib/antimetal-agent/btf/ubuntu/20.04/%s/5.4.0-1034-aws.btf", tmpdir,
		 strcmp(u.machine, "aarch64") ? u.machine : "arm64");
	cr_assert_eq(am_test_write_file(path, "btf", 3), 0);
	cr_assert_eq(run(&out, "--root", tmpdir, "--release", "5.4.0-1034-aws"), 0, "%s", out.data);
	cr_assert(strstr(out.data, "\nverdict: Partial (external BTF "), "%s", out.data);
	cr_assert(strstr(out.data, path), "%s", out.data);

	/* native BTF on a 4.18 distribution kernel: Full, backported */
	snprintf(path, sizeof(path), "%s/sys/kernel/btf/vmlinux", tmpdir);
	cr_assert_eq(am_test_write_file(path, "btf", 3), 0);
	cr_assert_eq(run(&out, "--root", tmpdir, "--release", "4.18.0-553.el8_10.x86_64"), 0);
	cr_assert(strstr(out.data, "\nverdict: Full (native BTF (backported to 4.18))"), "%s",
		  out.data);

	/* too old whatever the BTF */
	cr_assert_eq(run(&out, "--root", tmpdir, "--release", "4.14.0"), 1);
	cr_assert(strstr(out.data, "\nverdict: None (kernel 4.14 is older than 4.18)"), "%s",
		  out.data);

	cr_assert_eq(run(&out, "--bogus", NULL, NULL, NULL), 2);
	am_strbuf_free(&out);
}
