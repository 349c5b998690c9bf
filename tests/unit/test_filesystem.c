/* filesystem: statfs of the mounts node_exporter keeps, and a FUSE mount whose daemon never
 * answers (it never replies to the kernel's INIT, so every statfs on it blocks) costs one
 * bounded wait, is reported as a device error and counted, and is skipped afterwards until
 * its statfs returns. The FUSE mount lives in a private mount namespace: nobody else on the
 * host (node_exporter, other tests) ever sees it. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector_testlib.h"
#include "util/clock.h"

Test(filesystem, root_file_system_matches_statfs)
{
	struct am_metric_set s = {0};
	char *dir = am_test_mkdtemp("fs"), path[600];
	static const char mounts[] = "/dev/vdz / ext4 rw,relatime 0 0\n"
				     "proc /proc proc rw 0 0\n"
				     "tmpfs /run tmpfs rw 0 0\n";

	snprintf(path, sizeof(path), "%s/1", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/1/mounts", dir);
	cr_assert_eq(am_test_write_file(path, mounts, sizeof(mounts) - 1), 0);
	cr_assert_eq(collect_once(&am_collector_filesystem, dir, NULL, NULL, &s), 0);
	cr_assert_eq(count_metric(&s, "node_filesystem_size_bytes"), 1, "/proc and /run excluded");
	cr_assert_gt(VALUE(&s, "node_filesystem_size_bytes", "mountpoint", "/", "device",
			   "/dev/vdz", "fstype", "ext4"),
		     0);
	cr_assert_eq(VALUE(&s, "node_filesystem_device_error", "mountpoint", "/"), 0);
	cr_assert_eq(VALUE(&s, "node_filesystem_readonly", "mountpoint", "/"), 0);
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}

static double elapsed_s(uint64_t since)
{
	return (double)(am_clock_ns(CLOCK_MONOTONIC) - since) / 1e9;
}

Test(filesystem, hung_fuse_mount_is_bounded_counted_and_skipped, .timeout = 30)
{
	const struct am_collector *c = &am_collector_filesystem;
	char *dir = am_test_mkdtemp("fshang"), mnt[600], path[700], opts[128], mounts[1400];
	struct am_collect_roots roots = {.procfs = dir};
	struct am_metric_set s = {0};
	void *state = NULL;
	uint64_t t0;
	int fd;

	if (geteuid() != 0)
		cr_skip_test("skipped: mounting FUSE needs root");
	if (access("/dev/fuse", R_OK | W_OK))
		cr_skip_test("skipped: no /dev/fuse");
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		cr_skip_test("skipped: no private mount namespace (%m)");
	snprintf(mnt, sizeof(mnt), "%s/hang", dir);
	cr_assert_eq(mkdir(mnt, 0755), 0);
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
	cr_assert_eq(mount("hang", mnt, "fuse.hang", MS_NOSUID | MS_NODEV, opts), 0, "mount: %m");
	snprintf(path, sizeof(path), "%s/1", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(mounts, sizeof(mounts), "/dev/vdz / ext4 rw 0 0\nhang %s fuse.hang rw 0 0\n", mnt);
	snprintf(path, sizeof(path), "%s/1/mounts", dir);
	cr_assert_eq(am_test_write_file(path, mounts, strlen(mounts)), 0);

	cr_assert_eq(c->init(&state, &roots), 0);
	t0 = am_clock_ns(CLOCK_MONOTONIC);
	cr_assert_eq(c->collect(state, &s), 0);
	cr_assert_lt(elapsed_s(t0), 3.0, "the hung statfs held the collection %.1f s",
		     elapsed_s(t0));
	cr_assert_eq(VALUE(&s, "node_filesystem_device_error", "mountpoint", mnt), 1);
	cr_assert_eq(count_metric(&s, "node_filesystem_size_bytes"), 1, "/ still measured");
	cr_assert_eq(VALUE(&s, "antimetal_filesystem_statfs_timeouts_total"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_filesystem_stuck_mounts"), 1);
	am_metric_set_reset(&s);

	/* Still stuck: no second blocked statfs, no second wait. */
	t0 = am_clock_ns(CLOCK_MONOTONIC);
	cr_assert_eq(c->collect(state, &s), 0);
	cr_assert_lt(elapsed_s(t0), 0.5, "a stuck mount was waited for again");
	cr_assert_eq(VALUE(&s, "node_filesystem_device_error", "mountpoint", mnt), 1);
	cr_assert_eq(VALUE(&s, "antimetal_filesystem_statfs_timeouts_total"), 1);
	am_metric_set_reset(&s);

	/* The daemon goes away: the connection aborts, the blocked statfs returns an error, and
	 * the mount is tried again (and fails quickly, as a device error). */
	close(fd);
	am_test_sleep_ms(200);
	cr_assert_eq(c->collect(state, &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_filesystem_stuck_mounts"), 0);
	cr_assert_eq(VALUE(&s, "node_filesystem_device_error", "mountpoint", mnt), 1);
	c->destroy(state);
	am_metric_set_free(&s);
	umount2(mnt, MNT_DETACH);
	am_test_rmtree(dir);
	free(dir);
}
