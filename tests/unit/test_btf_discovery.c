/* BTF discovery against fake trees: each search step, their precedence, the btfhub layout, and
 * corrupt or truncated files reported with their name. Valid BTF is built with libbpf's writer
 * so the tests need no kernel BTF; the real vmlinux BTF is used too where it exists. */
#include <bpf/btf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/btf_discovery.h"
#include "core/btf_search.h"
#include "core/root_path.h"
#include "testutil.h"

static char *root;

static void setup(void)
{
	root = am_test_mkdtemp("btf");
	cr_assert_not_null(root);
	unsetenv("ANTIMETAL_BTF_ARCHIVE");
	unsetenv("ANTIMETAL_BTF_PATH");
}

static void teardown(void)
{
	am_test_rmtree(root);
	free(root);
}

/* A small valid raw BTF blob: int, struct with one member. */
static void make_btf(struct am_strbuf *b)
{
	struct btf *btf = btf__new_empty();
	const void *raw;
	__u32 sz;
	int id;

	cr_assert_not_null(btf);
	id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	cr_assert_gt(id, 0);
	cr_assert_gt(btf__add_struct(btf, "task_struct", 4), 0);
	cr_assert_eq(btf__add_field(btf, "pid", id, 0, 0), 0);
	raw = btf__raw_data(btf, &sz);
	cr_assert_not_null(raw);
	am_strbuf_reset(b);
	am_strbuf_append(b, raw, sz);
	btf__free(btf);
}

/* Write a valid BTF at ROOT/REL and return the full path (static buffer). */
static const char *put_btf(const char *rel)
{
	static char path[4096];
	struct am_strbuf b = {0};

	make_btf(&b);
	snprintf(path, sizeof(path), "%s%s", root, rel);
	cr_assert_eq(am_test_write_file(path, b.data, b.len), 0, "writing %s", path);
	am_strbuf_free(&b);
	return path;
}

static const char *put_bytes(const char *rel, const void *data, size_t len)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	cr_assert_eq(am_test_write_file(path, data, len), 0, "writing %s", path);
	return path;
}

static void rm_rel(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	cr_assert_eq(unlink(path), 0, "unlink %s", path);
}

/* Run the search with stderr captured into LOG. */
static int find_logged(const struct am_btf_search *s, struct am_btf_found *f, struct am_strbuf *log)
{
	char path[4096];
	int saved, fd, err;

	snprintf(path, sizeof(path), "%s/stderr.txt", root);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	err = am_btf_find(s, f);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	am_strbuf_reset(log);
	cr_assert_eq(am_test_read_file(path, log), 0);
	if (!log->data)
		am_strbuf_puts(log, "");
	return err;
}

#define REL "5.4.0-1034-aws"

static struct am_btf_search fake(void)
{
	return (struct am_btf_search){.root = root, .release = REL, .arch = "x86_64"};
}

static const char *const all_steps[] = {
    "/usr/lib/debug/boot/vmlinux-" REL,
    "/lib/modules/" REL "/vmlinux-" REL,
    "/boot/vmlinux-" REL,
    "/var/lib/antimetal-agent/btf/ubuntu/20.04/x86_64/" REL ".btf",
    "/sys/kernel/btf/vmlinux",
};
static const enum am_btf_source all_sources[] = {
    AM_BTF_DEBUG, AM_BTF_MODULES, AM_BTF_BOOT, AM_BTF_ARCHIVE, AM_BTF_NATIVE,
};

TestSuite(btf_discovery, .init = setup, .fini = teardown);

Test(btf_discovery, each_step_found_alone_and_in_precedence_order)
{
	struct am_btf_search s = fake();
	struct am_btf_found f;
	char want[4096];
	size_t i;

	put_bytes("/etc/os-release", "NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"20.04\"\n", 44);
	/* Add from lowest to highest precedence: each new file must win over the earlier ones. */
	for (i = 0; i < sizeof(all_steps) / sizeof(all_steps[0]); i++) {
		put_btf(all_steps[i]);
		cr_assert_eq(am_btf_find(&s, &f), 0, "step %s", all_steps[i]);
		snprintf(want, sizeof(want), "%s%s", root, all_steps[i]);
		cr_assert_str_eq(f.path, want);
		cr_assert_eq(f.source, all_sources[i]);
		cr_assert_eq(f.nr_types, 3, "parsed type count (void, int, struct)");
	}
	/* Then remove from the top: the next step down must be found each time. */
	for (i = sizeof(all_steps) / sizeof(all_steps[0]) - 1; i > 0; i--) {
		rm_rel(all_steps[i]);
		cr_assert_eq(am_btf_find(&s, &f), 0);
		cr_assert_eq(f.source, all_sources[i - 1], "after removing %s", all_steps[i]);
	}
}

Test(btf_discovery, explicit_beats_env_beats_native)
{
	struct am_btf_search s = fake();
	struct am_btf_found f;
	char exp[4096], env[4096];

	put_btf("/sys/kernel/btf/vmlinux");
	snprintf(exp, sizeof(exp), "%s", put_btf("/explicit.btf"));
	snprintf(env, sizeof(env), "%s", put_btf("/env.btf"));
	s.env_path = env;
	cr_assert_eq(am_btf_find(&s, &f), 0);
	cr_assert_eq(f.source, AM_BTF_ENV);
	cr_assert_str_eq(f.path, env);
	s.explicit_path = exp;
	cr_assert_eq(am_btf_find(&s, &f), 0);
	cr_assert_eq(f.source, AM_BTF_EXPLICIT);
	cr_assert_str_eq(f.path, exp);
}

Test(btf_discovery, missing_explicit_file_is_an_error_not_a_fallback)
{
	struct am_btf_search s = fake();
	struct am_btf_found f;
	struct am_strbuf log = {0};
	char missing[4096];

	put_btf("/sys/kernel/btf/vmlinux");
	snprintf(missing, sizeof(missing), "%s/nope.btf", root);
	s.explicit_path = missing;
	cr_assert_eq(find_logged(&s, &f, &log), -ENOENT);
	cr_assert(strstr(log.data, missing), "message names the file: %s", log.data);
	am_strbuf_free(&log);
}

Test(btf_discovery, btfhub_layout_uses_os_release_and_hub_arch)
{
	struct am_btf_search s = fake();
	struct am_btf_found f;
	char want[4096], archive[4096];

	put_bytes("/etc/os-release", "ID='centos'\nVERSION_ID=8\n", 25);
	snprintf(archive, sizeof(archive), "%s/archive", root);
	s.archive_dir = archive;
	s.arch = "aarch64";
	put_btf("/archive/centos/8/arm64/" REL ".btf");
	cr_assert_eq(am_btf_find(&s, &f), 0);
	cr_assert_eq(f.source, AM_BTF_ARCHIVE);
	snprintf(want, sizeof(want), "%s/archive/centos/8/arm64/%s.btf", root, REL);
	cr_assert_str_eq(f.path, want);

	/* ANTIMETAL_BTF_ARCHIVE replaces the compiled default when no directory is given. */
	s.archive_dir = NULL;
	setenv("ANTIMETAL_BTF_ARCHIVE", archive, 1);
	cr_assert_eq(am_btf_find(&s, &f), 0);
	cr_assert_str_eq(f.path, want);
	unsetenv("ANTIMETAL_BTF_ARCHIVE");
	cr_assert_eq(am_btf_find(&s, &f), -ENOENT, "default archive dir is under the root");
}

Test(btf_discovery, os_release_quotes_and_missing_keys)
{
	char id[64], ver[64];

	put_bytes("/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12\"\nID=debian\n", 45);
	cr_assert_eq(am_os_release_read(root, id, sizeof(id), ver, sizeof(ver)), 0);
	cr_assert_str_eq(id, "debian");
	cr_assert_str_eq(ver, "");
	rm_rel("/etc/os-release");
	cr_assert_eq(am_os_release_read(root, id, sizeof(id), ver, sizeof(ver)), -ENOENT);
}

Test(btf_discovery, nothing_found_lists_every_candidate)
{
	struct am_btf_search s = fake();
	struct am_btf_found f;
	struct am_strbuf log = {0};

	put_bytes("/etc/os-release", "ID=ubuntu\nVERSION_ID=20.04\n", 27);
	cr_assert_eq(find_logged(&s, &f, &log), -ENOENT);
	cr_assert_eq(f.source, AM_BTF_NONE);
	cr_assert(strstr(log.data, "/sys/kernel/btf/vmlinux"), "%s", log.data);
	cr_assert(strstr(log.data, "/ubuntu/20.04/x86_64/" REL ".btf"), "%s", log.data);
	cr_assert(strstr(log.data, "/usr/lib/debug/boot/vmlinux-" REL), "%s", log.data);
	am_strbuf_free(&log);
}

Test(btf_discovery, garbage_file_is_an_error_naming_it)
{
	struct am_btf_search s = fake();
	struct am_btf_found f;
	struct am_strbuf log = {0};
	const char *p = put_bytes("/boot/vmlinux-" REL, "this is not BTF at all, just bytes", 34);
	char path[4096];

	snprintf(path, sizeof(path), "%s", p);
	put_btf("/usr/lib/debug/boot/vmlinux-" REL);
	/* A corrupt higher-precedence file must not be skipped silently for a lower one. */
	cr_assert_lt(find_logged(&s, &f, &log), 0);
	cr_assert(strstr(log.data, path), "message names the file: %s", log.data);
	am_strbuf_free(&log);
}

Test(btf_discovery, truncated_btf_is_an_error_naming_it)
{
	struct am_btf_search s = fake();
	struct am_btf_found f;
	struct am_strbuf b = {0}, log = {0};
	char path[4096];

	make_btf(&b);
	snprintf(path, sizeof(path), "%s", put_bytes("/trunc.btf", b.data, b.len - 7));
	s.explicit_path = path;
	cr_assert_lt(find_logged(&s, &f, &log), 0);
	cr_assert(strstr(log.data, path), "message names the file: %s", log.data);

	snprintf(path, sizeof(path), "%s", put_bytes("/empty.btf", "", 0));
	cr_assert_lt(find_logged(&s, &f, &log), 0);
	cr_assert(strstr(log.data, path), "message names the file: %s", log.data);
	am_strbuf_free(&b);
	am_strbuf_free(&log);
}

Test(btf_discovery, truncated_kernel_vmlinux_btf_is_an_error)
{
	struct am_btf_search s = fake();
	struct am_btf_found f;
	struct am_strbuf b = {0}, log = {0};
	char path[4096];

	if (am_test_read_file("/sys/kernel/btf/vmlinux", &b) || b.len < 4096)
		cr_skip_test("skipped: no readable /sys/kernel/btf/vmlinux on this host");
	snprintf(path, sizeof(path), "%s", put_bytes("/boot/vmlinux-" REL, b.data, b.len / 2));
	cr_assert_lt(find_logged(&s, &f, &log), 0);
	cr_assert(strstr(log.data, path), "message names the file: %s", log.data);

	/* The whole file is accepted: the truncation, not the content, is what failed. */
	put_bytes("/boot/vmlinux-" REL, b.data, b.len);
	cr_assert_eq(am_btf_find(&s, &f), 0);
	cr_assert_gt(f.nr_types, 1000);
	am_strbuf_free(&b);
	am_strbuf_free(&log);
}

Test(btf_discovery, resolve_on_this_host)
{
	char out[4096] = "unset";
	char exp[4096];

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		cr_skip_test("skipped: no native BTF on this host");
	cr_assert_eq(am_btf_resolve(NULL, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "", "native BTF means no custom path");
	snprintf(exp, sizeof(exp), "%s", put_btf("/x.btf"));
	cr_assert_eq(am_btf_resolve(exp, out, sizeof(out)), 0);
	cr_assert_str_eq(out, exp);
	setenv("ANTIMETAL_BTF_PATH", exp, 1);
	cr_assert_eq(am_btf_resolve(NULL, out, sizeof(out)), 0);
	cr_assert_str_eq(out, exp);
	unsetenv("ANTIMETAL_BTF_PATH");
}

Test(btf_discovery, hub_arch_names)
{
	cr_assert_str_eq(am_btf_hub_arch("aarch64"), "arm64");
	cr_assert_str_eq(am_btf_hub_arch("x86_64"), "x86_64");
}

Test(btf_discovery, root_prefix_joins)
{
	char out[32];

	cr_assert_eq(am_root_path(out, sizeof(out), NULL, "/sys"), 0);
	cr_assert_str_eq(out, "/sys");
	cr_assert_eq(am_root_path(out, sizeof(out), "/", "/sys"), 0);
	cr_assert_str_eq(out, "/sys");
	cr_assert_eq(am_root_path(out, sizeof(out), "", "/sys"), 0);
	cr_assert_str_eq(out, "/sys");
	cr_assert_eq(am_root_path(out, sizeof(out), "/tmp/x//", "/sys"), 0);
	cr_assert_str_eq(out, "/tmp/x/sys");
	cr_assert_eq(am_root_path(out, 8, "/tmp/x", "/sys/kernel"), -ENAMETOOLONG);
}
