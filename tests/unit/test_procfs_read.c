/* procfs_read: whole files under a root, errors naming the path, the 1/net -> self/net order. */
#include <criterion/criterion.h>
#include <fcntl.h>

#include "collector_testlib.h"
#include "collectors/parse/procfs_read.h"

Test(procfs_read, reads_a_whole_file_larger_than_one_chunk)
{
	struct am_strbuf b = {0};
	char *dir = am_test_mkdtemp("procfs");
	char path[512], big[10000];

	memset(big, 'x', sizeof(big));
	snprintf(path, sizeof(path), "%s/big", dir);
	cr_assert_eq(am_test_write_file(path, big, sizeof(big)), 0);
	cr_assert_eq(am_procfs_read(dir, "big", &b), 0);
	cr_assert_eq(b.len, sizeof(big));
	cr_assert_eq(am_procfs_read(dir, "missing", &b), -ENOENT);
	am_strbuf_free(&b);
	am_test_rmtree(dir);
	free(dir);
}

Test(procfs_read, empty_file_gives_an_empty_string)
{
	struct am_strbuf b = {0};

	cr_assert_eq(am_procfs_read(FIXTURES "/proc/bad/empty", "loadavg", &b), 0);
	cr_assert_not_null(b.data);
	cr_assert_str_eq(b.data, "");
	am_strbuf_free(&b);
}

Test(procfs_read, logged_read_warns_once_with_the_path)
{
	struct am_strbuf b = {0};
	int warned = 0;

	cr_assert_eq(am_procfs_read_logged("/nonexistent-root", "x", &b, "t", &warned), -ENOENT);
	cr_assert_eq(warned, 1);
	cr_assert_eq(am_procfs_read_logged(FIXTURES "/proc/real", "loadavg", &b, "t", &warned), 0);
	cr_assert_eq(warned, 0);
	am_strbuf_free(&b);
}

Test(procfs_read, live_proc_self_stat)
{
	struct am_strbuf b = {0};
	char line[64];

	cr_assert_eq(am_procfs_read("/proc", "self/stat", &b), 0);
	cr_assert_gt(b.len, 20);
	cr_assert_eq(am_procfs_read_line("/proc/sys", "kernel/ostype", line, sizeof(line)), 0);
	cr_assert_str_eq(line, "Linux");
	am_strbuf_free(&b);
}

Test(procfs_read, roots_default_and_copy)
{
	struct am_collect_roots r = {"/p", NULL, NULL, NULL};
	struct am_roots_buf b;

	am_roots_store(&b, &r);
	cr_assert_str_eq(b.procfs, "/p");
	cr_assert_str_eq(b.sysfs, "/sys");
	cr_assert_str_eq(b.devfs, "/dev");
	am_roots_store(&b, NULL);
	cr_assert_str_eq(b.procfs, "/proc");
}
