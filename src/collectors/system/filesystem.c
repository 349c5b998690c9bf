/* filesystem: statfs(2) of every mounted file system node_exporter 1.5 (Debian's defaults)
 * does not exclude, as node_filesystem_*{device,fstype,mountpoint}.
 *
 * A dead NFS server or a FUSE daemon that stopped answering makes statfs block, in the
 * kernel, for as long as the server is gone; the collection runs on the daemon's one loop, so
 * each statfs runs in a small detached thread and the collector waits at most STATFS_TIMEOUT_MS
 * for all of them together. A mount whose statfs has not returned is "stuck": it reports
 * node_filesystem_device_error 1, is counted in antimetal_filesystem_statfs_timeouts_total, and
 * gets no new statfs (no pile of blocked threads) until the blocked one returns. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>

#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/clock.h"
#include "util/log.h"

#define STATFS_TIMEOUT_MS 1000
#define MAX_STUCK	  64

enum { REQ_RUNNING, REQ_DONE, REQ_ABANDONED };

/* Shared by the collector and one statfs thread; whoever comes last frees it. */
struct statfs_req {
	int state; /* REQ_*, atomically */
	int err;
	struct statfs sfs;
	char mountpoint[512];
};

struct fs_state {
	struct am_simple_state base; /* first: am_simple_* helpers reuse it */
	struct statfs_req *stuck[MAX_STUCK];
	size_t nstuck;
	uint64_t timeouts;
};

enum { F_SIZE, F_FREE, F_AVAIL, F_FILES, F_FILES_FREE, F_RO, F_ERROR, F_N };

/* OTLP: the conventions' attribute names for the labels, and the state a series is. */
#define FS_OTEL(name, state)                                                                       \
	.otel = name, .otel_updown = 1, .otel_attrs = {{"system.filesystem.state", state}},        \
	.otel_labels = {{"device", "system.device"},                                               \
			{"fstype", "system.filesystem.type"},                                      \
			{"mountpoint", "system.filesystem.mountpoint"}}
#define D(n, h, u, ...)                                                                            \
	{                                                                                          \
		.prom = "node_filesystem_" n, .help = h, .unit = u, .type = AM_METRIC_GAUGE,       \
		.labels = {"device", "fstype", "mountpoint"}, __VA_ARGS__                          \
	}
static const struct am_metric_desc fs[F_N] = {
    [F_SIZE] = D("size_bytes", "Filesystem size in bytes.", "By", .otel = "system.filesystem.limit",
		 .otel_updown = 1,
		 .otel_labels = {{"device", "system.device"},
				 {"fstype", "system.filesystem.type"},
				 {"mountpoint", "system.filesystem.mountpoint"}}),
    [F_FREE] = D("free_bytes", "Filesystem free space in bytes.", "By"),
    /* The conventions' free is what statvfs calls available (f_bavail): node's free_bytes
     * also counts the blocks reserved for root. */
    [F_AVAIL] = D("avail_bytes", "Filesystem space available to non-root users in bytes.", "By",
		  FS_OTEL("system.filesystem.usage", "free")),
    [F_FILES] = D("files", "Filesystem total file nodes.", "{inode}"),
    [F_FILES_FREE] = D("files_free", "Filesystem total free file nodes.", "{inode}",
		       FS_OTEL("system.filesystem.inodes.usage", "free")),
    [F_RO] = D("readonly", "Filesystem read-only status.", NULL),
    [F_ERROR] = D("device_error",
		  "Whether an error occurred while getting statistics for the given device.", NULL),
};
#undef D

static const struct am_metric_desc timeouts = {
    .name = "antimetal_filesystem_statfs_timeouts_total",
    .help = "statfs calls that had not returned after the per-mount timeout (hung network or "
	    "FUSE mounts).",
    .type = AM_METRIC_COUNTER,
};
static const struct am_metric_desc stuck_now = {
    .name = "antimetal_filesystem_stuck_mounts",
    .help = "Mounts whose statfs is still blocked, skipped until it returns.",
    .type = AM_METRIC_GAUGE,
};

static void *statfs_thread(void *arg)
{
	struct statfs_req *r = arg;
	int expected = REQ_RUNNING;

	r->err = statfs(r->mountpoint, &r->sfs) ? -errno : 0;
	if (!__atomic_compare_exchange_n(&r->state, &expected, REQ_DONE, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		free(r); /* the collector went away meanwhile */
	return NULL;
}

/* Start a statfs of MOUNTPOINT; NULL when no thread could be made (then it counts as failed). */
static struct statfs_req *start(const char *mountpoint)
{
	struct statfs_req *r = calloc(1, sizeof(*r));
	pthread_attr_t attr;
	pthread_t t;
	int err;

	if (!r)
		return NULL;
	snprintf(r->mountpoint, sizeof(r->mountpoint), "%s", mountpoint);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 << 10);
	err = pthread_create(&t, &attr, statfs_thread, r);
	pthread_attr_destroy(&attr);
	if (err) {
		free(r);
		return NULL;
	}
	return r;
}

static int is_done(struct statfs_req *r)
{
	return __atomic_load_n(&r->state, __ATOMIC_ACQUIRE) == REQ_DONE;
}

/* Hand R over to its thread, or free it when the thread is already done. */
static void abandon(struct statfs_req *r)
{
	int expected = REQ_RUNNING;

	if (!__atomic_compare_exchange_n(&r->state, &expected, REQ_ABANDONED, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		free(r);
}

/* Whether MOUNTPOINT has a statfs still blocked from an earlier cycle. */
static int still_stuck(const struct fs_state *st, const char *mountpoint)
{
	size_t i;

	for (i = 0; i < st->nstuck; i++)
		if (!strcmp(st->stuck[i]->mountpoint, mountpoint))
			return 1;
	return 0;
}

static void emit(const struct am_mount *m, const struct statfs_req *r, struct am_metric_set *out)
{
	const char *l[6] = {"device", m->device, "fstype", m->fstype, "mountpoint", m->mountpoint};
	double bs;

#define ADD(i, v) am_metric_add(out, &fs[i], (v), l[0], l[1], l[2], l[3], l[4], l[5], NULL)
	if (!r || r->err) {
		ADD(F_ERROR, 1);
		return;
	}
	bs = (double)r->sfs.f_bsize;
	ADD(F_SIZE, (double)r->sfs.f_blocks * bs);
	ADD(F_FREE, (double)r->sfs.f_bfree * bs);
	ADD(F_AVAIL, (double)r->sfs.f_bavail * bs);
	ADD(F_FILES, (double)r->sfs.f_files);
	ADD(F_FILES_FREE, (double)r->sfs.f_ffree);
	ADD(F_RO, m->readonly);
	ADD(F_ERROR, 0);
#undef ADD
}

/* Wait until every started request is done or the deadline passes. */
static void wait_all(struct statfs_req **reqs, size_t n)
{
	uint64_t deadline = am_clock_ns(CLOCK_MONOTONIC) + STATFS_TIMEOUT_MS * 1000000ull;
	struct timespec nap = {0, 50000};
	size_t i;

	for (;;) {
		for (i = 0; i < n && (!reqs[i] || is_done(reqs[i])); i++)
			;
		if (i == n || am_clock_ns(CLOCK_MONOTONIC) >= deadline)
			return;
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 5000000)
			nap.tv_nsec *= 2;
	}
}

static int seen_before(const struct am_mount *v, size_t i)
{
	size_t j;

	/* node_exporter serves a mount point mounted twice once (same labels, same series). */
	for (j = 0; j < i; j++)
		if (!strcmp(v[j].mountpoint, v[i].mountpoint) &&
		    !strcmp(v[j].device, v[i].device) && !strcmp(v[j].fstype, v[i].fstype))
			return 1;
	return 0;
}

static int fs_collect(void *state, struct am_metric_set *out)
{
	struct fs_state *st = state;
	struct statfs_req **reqs;
	struct am_mount *mounts;
	const char *why = "";
	size_t n, i;
	int err;

	err = am_procfs_read(st->base.roots.procfs, "1/mounts", &st->base.buf);
	if (err)
		err = am_procfs_read_logged(st->base.roots.procfs, "self/mounts", &st->base.buf,
					    "filesystem", &st->base.warned);
	if (err)
		return err;
	err = am_parse_mounts(st->base.buf.data, &mounts, &n, &why);
	if (err) {
		am_warn("filesystem: %s/1/mounts: %s", st->base.roots.procfs,
			err == -EINVAL ? why : strerror(-err));
		return err;
	}
	/* Forget stuck requests that have returned, mounted or not any more. */
	for (i = 0; i < st->nstuck;) {
		if (is_done(st->stuck[i])) {
			free(st->stuck[i]);
			st->stuck[i] = st->stuck[--st->nstuck];
		} else {
			i++;
		}
	}
	reqs = calloc(n ? n : 1, sizeof(*reqs));
	if (!reqs) {
		free(mounts);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (!am_mount_excluded(&mounts[i]) && !seen_before(mounts, i) &&
		    !still_stuck(st, mounts[i].mountpoint))
			reqs[i] = start(mounts[i].mountpoint);
	wait_all(reqs, n);
	for (i = 0; i < n; i++) {
		if (am_mount_excluded(&mounts[i]) || seen_before(mounts, i))
			continue;
		if (reqs[i] && !is_done(reqs[i])) {
			st->timeouts++;
			am_warn(
			    "filesystem: statfs(%s) still blocked after %d ms: skipped until it "
			    "returns",
			    mounts[i].mountpoint, STATFS_TIMEOUT_MS);
			if (st->nstuck < MAX_STUCK)
				st->stuck[st->nstuck++] = reqs[i];
			else
				abandon(reqs[i]);
			reqs[i] = NULL;
			emit(&mounts[i], NULL, out);
			continue;
		}
		emit(&mounts[i], reqs[i], out);
		free(reqs[i]);
	}
	am_metric_add(out, &timeouts, (double)st->timeouts, NULL);
	am_metric_add(out, &stuck_now, (double)st->nstuck, NULL);
	free(reqs);
	free(mounts);
	return 0;
}

static int fs_init(void **state, const struct am_collect_roots *roots)
{
	struct fs_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->base.roots, roots);
	*state = st;
	return 0;
}

static void fs_destroy(void *state)
{
	struct fs_state *st = state;
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->nstuck; i++)
		abandon(st->stuck[i]);
	am_strbuf_free(&st->base.buf);
	free(st);
}

const struct am_collector am_collector_filesystem = {
    .name = "filesystem",
    .init = fs_init,
    .collect = fs_collect,
    .destroy = fs_destroy,
    .node = {"filesystem"},
};
