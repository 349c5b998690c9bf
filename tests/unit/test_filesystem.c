/* filesystem: statfs of the mounts node_exporter keeps, and a FUSE mount whose daemon never
 * answers (it never replies to the kernel's INIT, so every statfs on it blocks) costs one
 * bounded wait, is reported as a device error and counted, and is skipped afterwards until
 * its statfs returns. The FUSE mount lives in a private mount namespace: nobody else on the
 * host (node_exporter, other tests) ever sees it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
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

/* A procfs root in DIR whose 1/mounts is MOUNTS. */
static void mounts_file(const char *dir, const char *mounts)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/1", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/1/mounts", dir);
	cr_assert_eq(am_test_write_file(path, mounts, strlen(mounts)), 0);
}

static const char many[] = "/dev/vdz / ext4 rw 0 0\n"
			   "proc /proc proc rw 0 0\n"
			   "tmpfs /run tmpfs rw 0 0\n"
			   "tmpfs /runner tmpfs rw 0 0\n"
			   "/dev/vdz /var/lib/docker ext4 rw 0 0\n"
			   "overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0\n"
			   "/dev/vdy /mnt/data xfs rw 0 0\n"
			   "srv:/x /srv/nfs nfs4 rw 0 0\n";

/* Whether the collection S has a series for mount point MP. */
static bool has_mount(const struct am_metric_set *s, const char *mp)
{
	return find_metric(s, "node_filesystem_device_error", "mountpoint", mp, NULL) != NULL;
}

Test(filesystem, default_exclusions_are_node_exporters_regular_expressions)
{
	struct am_metric_set s = {0};
	char *dir = am_test_mkdtemp("fsre");

	mounts_file(dir, many);
	cr_assert_eq(collect_once(&am_collector_filesystem, dir, NULL, NULL, &s), 0);
	cr_assert(has_mount(&s, "/"));
	cr_assert(!has_mount(&s, "/proc") && !has_mount(&s, "/run"));
	cr_assert(has_mount(&s, "/runner"), "^/(...|run|...)($|/) leaves /runner in");
	cr_assert(has_mount(&s, "/var/lib/docker"), "only what is under it is left out");
	cr_assert(!has_mount(&s, "/var/lib/docker/overlay2/abc/merged"));
	cr_assert(!has_mount(&s, "/mnt/data"));
	cr_assert(has_mount(&s, "/srv/nfs"));
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}

Test(filesystem, configured_exclusions_replace_the_defaults)
{
	struct am_metric_set s = {0};
	char *dir = am_test_mkdtemp("fsre");
	struct am_collect_roots roots = {.procfs = dir,
					 .fs_mount_points_exclude = "^/(proc|srv)($|/)",
					 .fs_types_exclude = "^(proc|nfs4?|xfs)$"};
	void *state = NULL;

	mounts_file(dir, many);
	cr_assert_eq(am_collector_filesystem.init(&state, &roots), 0);
	cr_assert_eq(am_collector_filesystem.collect(state, &s), 0);
	am_collector_filesystem.destroy(state);
	cr_assert(has_mount(&s, "/run"), "no longer excluded");
	cr_assert(has_mount(&s, "/var/lib/docker/overlay2/abc/merged"), "overlay no longer out");
	cr_assert(!has_mount(&s, "/srv/nfs") && !has_mount(&s, "/mnt/data"));
	cr_assert(!has_mount(&s, "/proc"));
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}

Test(filesystem, a_changed_mounts_file_is_matched_again)
{
	struct am_collect_roots roots = {0};
	char *dir = am_test_mkdtemp("fsre"), path[600];
	struct am_metric_set s = {0};
	void *state = NULL;
	static const char more[] = "/dev/vdz / ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n"
				   "/dev/vdx /data ext4 rw 0 0\n";

	roots.procfs = dir;
	mounts_file(dir, "/dev/vdz / ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n");
	cr_assert_eq(am_collector_filesystem.init(&state, &roots), 0);
	cr_assert_eq(am_collector_filesystem.collect(state, &s), 0);
	cr_assert(has_mount(&s, "/") && !has_mount(&s, "/data") && !has_mount(&s, "/run"));
	am_metric_set_reset(&s);
	cr_assert_eq(am_collector_filesystem.collect(state, &s), 0);
	cr_assert(has_mount(&s, "/") && !has_mount(&s, "/data"), "the same file again");
	am_metric_set_reset(&s);
	snprintf(path, sizeof(path), "%s/1/mounts", dir);
	cr_assert_eq(am_test_write_file(path, more, strlen(more)), 0);
	cr_assert_eq(am_collector_filesystem.collect(state, &s), 0);
	cr_assert(has_mount(&s, "/data"), "a mount added since the last cycle");
	cr_assert(!has_mount(&s, "/run"));
	am_collector_filesystem.destroy(state);
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}

Test(filesystem, a_bad_regular_expression_stops_the_collector_with_a_reason)
{
	struct am_collect_roots roots = {.procfs = "/proc", .fs_types_exclude = "^(nfs"};
	void *state = NULL;

	cr_assert_eq(am_collector_filesystem.init(&state, &roots), -EINVAL);
	cr_assert_null(state);
}

static double elapsed_s(uint64_t since)
{
	return (double)(am_clock_ns(CLOCK_MONOTONIC) - since) / 1e9;
}

Test(filesystem, hung_fuse_mount_is_bounded_counted_and_skipped, .timeout = 30)
{
	const struct am_collector *c = &am_collector_filesystem;
	char *dir = am_test_mkdtemp("fshang"), mnt[600], path[700], opts[128], mounts[1400];
	/* collectors.filesystem.timeout: 200 ms instead of the default second */
	struct am_collect_roots roots = {.procfs = dir, .fs_timeout_ms = 200};
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
	cr_assert_lt(elapsed_s(t0), 1.0, "the hung statfs held the collection %.1f s",
		     elapsed_s(t0));
	cr_assert_geq(elapsed_s(t0), 0.19, "the 200 ms wait was cut short");
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
