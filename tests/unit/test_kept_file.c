/* Files kept open between cycles (collectors/parse/kept_file.h): a kept descriptor re-read with
 * pread shows the file's new text, a file of many pages is read whole, a descriptor whose
 * process is gone says so, a fixture (regular) file is never kept, and a FIFO does not block. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/parse/kept_file.h"
#include "testutil.h"
#include "util/file.h"

Test(kept_file, kept_descriptor_reads_the_new_text)
{
	struct am_strbuf b = {0};
	char old[16] = "";
	int fd = -1, dir = open("/proc/self", O_RDONLY | O_DIRECTORY);

	cr_assert_geq(dir, 0);
	cr_assert(am_kept_pseudo_fs(dir), "/proc is procfs");
	prctl(PR_GET_NAME, old);
	prctl(PR_SET_NAME, "kept-one");
	cr_assert_eq(am_kept_read(&fd, dir, "comm", true, &b), 0);
	cr_assert_geq(fd, 0, "a procfs file is kept");
	cr_assert_str_eq(b.data, "kept-one\n");
	prctl(PR_SET_NAME, "kept-two");
	cr_assert_eq(am_kept_read(&fd, dir, "comm", true, &b), 0);
	cr_assert_str_eq(b.data, "kept-two\n");
	prctl(PR_SET_NAME, old);
	close(fd);
	close(dir);
	am_strbuf_free(&b);
}

Test(kept_file, many_pages_read_whole_to_eof)
{
	struct am_strbuf kept = {0}, whole = {0};
	int fd = open("/proc/self/mountinfo", O_RDONLY);
	int i;

	/* mountinfo is one record per mount: a seq_file hands out a page at most per read. Bind
	 * mounts are not needed: a page of it is enough on any host with /proc mounted, but the
	 * read must stitch however many there are. */
	cr_assert_geq(fd, 0);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(am_kept_pread(fd, true, &kept), 0);
		cr_assert_eq(am_file_read("/proc/self/mountinfo", 1 << 24, &whole), 0);
		cr_assert_eq(kept.len, whole.len, "read %d: %zu bytes, whole file %zu", i, kept.len,
			     whole.len);
		cr_assert_str_eq(kept.data, whole.data);
	}
	close(fd);
	am_strbuf_free(&kept);
	am_strbuf_free(&whole);
}

Test(kept_file, regular_file_of_many_pages_read_whole)
{
	char *dir = am_test_mkdtemp("kept"), path[512];
	struct am_strbuf b = {0};
	FILE *f;
	int fd, i;

	snprintf(path, sizeof(path), "%s/big", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (i = 0; i < 10000; i++)
		fprintf(f, "line %d\n", i);
	fclose(f);
	fd = open(path, O_RDONLY);
	cr_assert_eq(am_kept_pread(fd, false, &b), 0);
	cr_assert(!strncmp(b.data, "line 0\n", 7));
	cr_assert_str_eq(b.data + b.len - 10, "line 9999\n");
	close(fd);
	am_test_rmtree(dir);
	free(dir);
	am_strbuf_free(&b);
}

Test(kept_file, descriptor_of_an_exited_process_is_gone)
{
	struct am_strbuf b = {0};
	char rel[64];
	pid_t pid = fork();
	int fd = -1, proc = open("/proc", O_RDONLY | O_DIRECTORY), err;

	if (pid == 0) {
		pause();
		_exit(0);
	}
	cr_assert_gt(pid, 0);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	cr_assert_eq(am_kept_read(&fd, proc, rel, true, &b), 0);
	cr_assert_geq(fd, 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	err = am_kept_pread(fd, false, &b);
	cr_assert(am_kept_gone(err), "read of a reaped process's stat: %s", strerror(-err));
	/* am_kept_read closes it and tries the name again: the process is not there. */
	cr_assert_lt(am_kept_read(&fd, proc, rel, true, &b), 0);
	cr_assert_eq(fd, -1);
	close(proc);
	am_strbuf_free(&b);
}

Test(kept_file, fixture_files_are_not_kept_and_rewrites_are_seen)
{
	char *dir = am_test_mkdtemp("kept"), path[512], final[512];
	struct am_kept_paths set = {0};
	struct am_strbuf b = {0};
	FILE *f;

	snprintf(path, sizeof(path), "%s/loadavg", dir);
	f = fopen(path, "w");
	fputs("1 2 3 1/1 1\n", f);
	fclose(f);
	cr_assert_eq(am_kept_paths_read(&set, dir, "loadavg", &b), 0);
	cr_assert_str_eq(b.data, "1 2 3 1/1 1\n");
	cr_assert(set.n == 0 || set.v[0].fd < 0, "a file on a disk file system is not kept");
	/* A test replaces the file (rename): the next read must see the new one. */
	snprintf(path, sizeof(path), "%s/loadavg.new", dir);
	f = fopen(path, "w");
	fputs("4 5 6 1/1 1\n", f);
	fclose(f);
	snprintf(final, sizeof(final), "%s/loadavg", dir);
	cr_assert_eq(rename(path, final), 0);
	cr_assert_eq(am_kept_paths_read(&set, dir, "loadavg", &b), 0);
	cr_assert_str_eq(b.data, "4 5 6 1/1 1\n");
	am_kept_paths_close(&set);
	am_test_rmtree(dir);
	free(dir);
	am_strbuf_free(&b);
}

Test(kept_file, procfs_paths_are_kept_and_refused_fifos_never_block)
{
	char *dir = am_test_mkdtemp("kept"), path[512];
	struct am_kept_paths set = {0};
	struct am_strbuf b = {0};
	int fd = -1, d;

	cr_assert_eq(am_kept_paths_read(&set, "/proc", "loadavg", &b), 0);
	cr_assert_eq(set.n, 1);
	cr_assert_geq(set.v[0].fd, 0, "/proc/loadavg is kept");
	cr_assert_eq(am_kept_paths_read(&set, "/proc", "loadavg", &b), 0);
	cr_assert_eq(set.n, 1, "the same path is found again, not added");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_assert_eq(am_kept_paths_read(&set, dir, "fifo", &b), -AM_ENOTREG);
	d = open(dir, O_RDONLY | O_DIRECTORY);
	cr_assert_eq(am_kept_read(&fd, d, "fifo", false, &b), 0,
		     "a FIFO without a writer is empty");
	cr_assert_eq(b.len, 0);
	close(d);
	am_kept_paths_close(&set);
	am_test_rmtree(dir);
	free(dir);
	am_strbuf_free(&b);
}
