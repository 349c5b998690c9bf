/* ebpf/scripts/gen_layout_checks.sh (`make generate-ebpf-types`): the checks it generates from
 * the built objects' BTF compile against the user side, and fail to compile when a shared
 * struct's user-side layout differs from what clang chose for BPF. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define SRC AM_TEST_SRC_DIR

static char *tmpdir;

static void setup(void)
{
	tmpdir = am_test_mkdtemp("layout");
	cr_assert_not_null(tmpdir);
}

static void teardown(void)
{
	am_test_rmtree(tmpdir);
	free(tmpdir);
}

TestSuite(layout_checks, .init = setup, .fini = teardown);

static int sh(const char *cmd, struct am_strbuf *out)
{
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	int st;

	am_strbuf_reset(out);
	st = am_test_run(argv, out, out);
	if (!out->data)
		am_strbuf_puts(out, "");
	cr_assert(st != -1 && WIFEXITED(st));
	return WEXITSTATUS(st);
}

Test(layout_checks, generated_checks_match_and_catch_a_mismatch)
{
	struct am_strbuf out = {0}, hdr = {0};
	char cmd[16384], gen[512], inc[512], path[1024];
	const char *const members[] = {"pid",	      "tgid", "ppid", "state",
				       "state_field", "hits", "comm"};
	char *p;
	size_t i;

	if (access(SRC "/ebpf/build/test_core.bpf.o", R_OK))
		cr_skip_test("skipped: ebpf/build/test_core.bpf.o not built");
	snprintf(gen, sizeof(gen), "%s/checks.c", tmpdir);
	snprintf(cmd, sizeof(cmd), "%s/ebpf/scripts/gen_layout_checks.sh %s %s/ebpf/build/*.bpf.o",
		 SRC, gen, SRC);
	cr_assert_eq(sh(cmd, &out), 0, "%s", out.data);
	cr_assert_eq(am_test_read_file(gen, &hdr), 0);
	cr_assert(strstr(hdr.data, "#include \"test_core_types.h\""), "%s", hdr.data);
	cr_assert(strstr(hdr.data, "_Static_assert(sizeof(struct test_core_event) == "));
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		char want[128];

		snprintf(want, sizeof(want),
			 "offsetof(struct test_core_event, %s) == ", members[i]);
		cr_assert(strstr(hdr.data, want), "no check of %s", members[i]);
	}
	snprintf(cmd, sizeof(cmd), "cc -I%s/ebpf/include -fsyntax-only -Wall -Wextra -Werror %s",
		 SRC, gen);
	cr_assert_eq(sh(cmd, &out), 0, "layouts disagree on an unmodified tree: %s", out.data);

	/* The user side grows a field at the front: every offset moves and compiling must fail. */
	snprintf(inc, sizeof(inc), "%s/include", tmpdir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/ebpf/include/*.h %s/", inc, SRC, inc);
	cr_assert_eq(sh(cmd, &out), 0, "%s", out.data);
	snprintf(path, sizeof(path), "%s/test_core_types.h", inc);
	am_strbuf_reset(&hdr);
	cr_assert_eq(am_test_read_file(path, &hdr), 0);
	p = strstr(hdr.data, "struct test_core_event {");
	cr_assert_not_null(p);
	p += strlen("struct test_core_event {");
	{
		struct am_strbuf mod = {0};

		am_strbuf_append(&mod, hdr.data, (size_t)(p - hdr.data));
		am_strbuf_puts(&mod, "\n\tlong long user_side_only;");
		am_strbuf_puts(&mod, p);
		cr_assert_eq(am_test_write_file(path, mod.data, mod.len), 0);
		am_strbuf_free(&mod);
	}
	snprintf(cmd, sizeof(cmd), "cc -I%s -fsyntax-only %s", inc, gen);
	cr_assert_neq(sh(cmd, &out), 0, "a layout mismatch compiled");
	cr_assert(strstr(out.data, "offsetof(struct test_core_event, pid) is 0 in BTF"), "%s",
		  out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&hdr);
}

Test(layout_checks, no_objects_still_compiles)
{
	struct am_strbuf out = {0};
	char cmd[8192];

	snprintf(cmd, sizeof(cmd),
		 "%s/ebpf/scripts/gen_layout_checks.sh %s/none.c %s/nothing/*.bpf.o && "
		 "cc -I%s/ebpf/include -fsyntax-only -Wall -Wextra -Werror %s/none.c",
		 SRC, tmpdir, tmpdir, SRC, tmpdir);
	cr_assert_eq(sh(cmd, &out), 0, "%s", out.data);
	cr_assert(strstr(out.data, "0 checks"), "%s", out.data);
	am_strbuf_free(&out);
}

Test(layout_checks, unreadable_object_fails_naming_it)
{
	struct am_strbuf out = {0};
	char cmd[8192], obj[1024];

	snprintf(obj, sizeof(obj), "%s/broken.bpf.o", tmpdir);
	cr_assert_eq(am_test_write_file(obj, "not an ELF object", 17), 0);
	snprintf(cmd, sizeof(cmd), "%s/ebpf/scripts/gen_layout_checks.sh %s/out.c %s", SRC, tmpdir,
		 obj);
	cr_assert_neq(sh(cmd, &out), 0, "a broken object was accepted: %s", out.data);
	cr_assert(strstr(out.data, obj), "the error does not name %s: %s", obj, out.data);
	am_strbuf_free(&out);
}
