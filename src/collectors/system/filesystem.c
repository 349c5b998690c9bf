/* filesystem: statfs(2) of every mounted file system node_exporter 1.5 (Debian's defaults)
 * does not exclude, as node_filesystem_*{device,fstype,mountpoint}.
 *
 * A dead NFS server or a FUSE daemon that stopped answering makes statfs block, in the
 * kernel, for as long as the server is gone; the collection runs on the daemon's one loop, so
 * each statfs runs on a small worker thread (kept between cycles, one per statfs under way) and
 * the collector waits at most the timeout (1 s by
 * default) for all of them together. A mount whose statfs has not returned is "stuck": it reports
 * node_filesystem_device_error 1, is counted in antimetal_filesystem_statfs_timeouts_total, and
 * gets no new statfs (no pile of blocked threads) until the blocked one returns. The mount
 * points and types left out are regular expressions (node_exporter's
 * --collector.filesystem.mount-points-exclude and fs-types-exclude, POSIX extended syntax here),
 * the wait is configurable (collectors.filesystem.timeout). */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>

#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/clock.h"
#include "util/log.h"

#define MAX_STUCK   64
#define MAX_WORKERS 64

enum { REQ_RUNNING, REQ_DONE, REQ_ABANDONED };

/* Shared by the collector and one statfs thread; whoever comes last frees it. */
struct statfs_req {
	int state; /* REQ_*, atomically */
	int err;
	struct statfs sfs;
	char mountpoint[512];
};

/* A statfs thread kept between cycles: making a thread per statfs and cycle cost more than the
 * statfs. Shared by the collector and the thread; whoever lets go last frees it. */
struct worker {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct statfs_req *req; /* the request it works on; NULL: idle */
	int refs;
	bool quit;
};

struct fs_state {
	struct am_simple_state base; /* first: am_simple_* helpers reuse it */
	struct worker *workers[MAX_WORKERS];
	size_t nworkers;
	/* The last mounts file, its mounts and which of them are measured (not excluded, not a
	 * repeat): matched again only when the text changes, the regexes costing more than the
	 * statfs calls. */
	char *text;
	struct am_mount *mounts;
	bool *measured;
	size_t nmounts;
	struct statfs_req *stuck[MAX_STUCK];
	size_t nstuck;
	uint64_t timeouts;
	regex_t mp_exclude, type_exclude;
	int compiled; /* how many of the two are compiled (freed in destroy) */
	unsigned timeout_ms;
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

/* statfs for R, then R handed back: done, or freed when the collector gave up on it. */
static void run(struct statfs_req *r)
{
	int expected = REQ_RUNNING;

	r->err = statfs(r->mountpoint, &r->sfs) ? -errno : 0;
	if (!__atomic_compare_exchange_n(&r->state, &expected, REQ_DONE, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		free(r); /* the collector went away meanwhile */
}

static void *statfs_thread(void *arg)
{
	run(arg);
	return NULL;
}

static void worker_unref(struct worker *w)
{
	bool last;

	pthread_mutex_lock(&w->mu);
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (last) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
	}
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	struct statfs_req *r;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->req && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->req)
			break;
		r = w->req;
		pthread_mutex_unlock(&w->mu);
		run(r); /* may block for as long as the mount does: the worker stays busy */
		pthread_mutex_lock(&w->mu);
		w->req = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	worker_unref(w);
	return NULL;
}

/* A detached thread running FN(ARG) with a small stack. Returns 0 or an error number. */
static int spawn(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 << 10);
	err = pthread_create(&t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return err;
}

/* Hand R to an idle worker, making one when none is idle. Returns 0, or -1 when no worker
 * could take it. */
static int dispatch(struct fs_state *st, struct statfs_req *r)
{
	struct worker *w;
	size_t i;

	for (i = 0; i < st->nworkers; i++) {
		w = st->workers[i];
		pthread_mutex_lock(&w->mu);
		if (!w->req) {
			w->req = r;
			pthread_cond_signal(&w->cv);
			pthread_mutex_unlock(&w->mu);
			return 0;
		}
		pthread_mutex_unlock(&w->mu);
	}
	if (st->nworkers == MAX_WORKERS || !(w = calloc(1, sizeof(*w))))
		return -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->refs = 2;
	w->req = r;
	if (spawn(worker_thread, w)) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return -1;
	}
	st->workers[st->nworkers++] = w;
	return 0;
}

/* Start a statfs of MOUNTPOINT on a worker (a thread of its own when every worker is busy and
 * no more may be made); NULL when it cannot start (then it counts as failed). */
static struct statfs_req *start(struct fs_state *st, const char *mountpoint)
{
	struct statfs_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	snprintf(r->mountpoint, sizeof(r->mountpoint), "%s", mountpoint);
	if (!dispatch(st, r) || !spawn(statfs_thread, r))
		return r;
	free(r);
	return NULL;
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

/* Wait until every started request is done or TIMEOUT_MS passes. */
static void wait_all(struct statfs_req **reqs, size_t n, unsigned timeout_ms)
{
	uint64_t deadline = am_clock_ns(CLOCK_MONOTONIC) + timeout_ms * 1000000ull;
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

static bool excluded(const struct fs_state *st, const struct am_mount *m)
{
	return !regexec(&st->mp_exclude, m->mountpoint, 0, NULL, 0) ||
	       !regexec(&st->type_exclude, m->fstype, 0, NULL, 0);
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

/* The mounts of the mounts file's TEXT and which are measured, parsed and matched only when
 * TEXT differs from the last cycle's. Returns 0 or -errno (logged). */
static int mounts_of(struct fs_state *st, const char *text)
{
	struct am_mount *mounts;
	const char *why = "";
	bool *measured;
	char *copy;
	size_t n, i;
	int err;

	if (st->text && !strcmp(st->text, text))
		return 0;
	err = am_parse_mounts(text, &mounts, &n, &why);
	if (err) {
		am_warn("filesystem: %s/1/mounts: %s", st->base.roots.procfs,
			err == -EINVAL ? why : strerror(-err));
		return err;
	}
	measured = calloc(n ? n : 1, sizeof(*measured));
	copy = strdup(text);
	if (!measured || !copy) {
		free(mounts);
		free(measured);
		free(copy);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		measured[i] = !excluded(st, &mounts[i]) && !seen_before(mounts, i);
	free(st->text);
	free(st->mounts);
	free(st->measured);
	st->text = copy;
	st->mounts = mounts;
	st->measured = measured;
	st->nmounts = n;
	return 0;
}

static int fs_collect(void *state, struct am_metric_set *out)
{
	struct fs_state *st = state;
	struct statfs_req **reqs;
	struct am_mount *mounts;
	size_t n, i;
	int err;

	err = am_kept_paths_read(&st->base.kept, st->base.roots.procfs, "1/mounts", &st->base.buf);
	if (err)
		err =
		    am_kept_paths_read_logged(&st->base.kept, st->base.roots.procfs, "self/mounts",
					      &st->base.buf, "filesystem", &st->base.warned);
	if (err)
		return err;
	err = mounts_of(st, st->base.buf.data);
	if (err)
		return err;
	mounts = st->mounts;
	n = st->nmounts;
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
	if (!reqs)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (st->measured[i] && !still_stuck(st, mounts[i].mountpoint))
			reqs[i] = start(st, mounts[i].mountpoint);
	wait_all(reqs, n, st->timeout_ms);
	for (i = 0; i < n; i++) {
		if (!st->measured[i])
			continue;
		if (reqs[i] && !is_done(reqs[i])) {
			st->timeouts++;
			am_warn(
			    "filesystem: statfs(%s) still blocked after %d ms: skipped until it "
			    "returns",
			    mounts[i].mountpoint, st->timeout_ms);
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
	return 0;
}

/* Compile RE (the exclusion named WHAT) into OUT; the error, naming both, is logged. */
static int compile(regex_t *out, const char *re, const char *what)
{
	char why[160];
	int rc = regcomp(out, re, REG_EXTENDED | REG_NOSUB);

	if (!rc)
		return 0;
	regerror(rc, out, why, sizeof(why));
	am_err("filesystem: %s '%s' is not a POSIX extended regular expression: %s", what, re, why);
	return -EINVAL;
}

static void fs_destroy(void *state);

static int fs_init(void **state, const struct am_collect_roots *roots)
{
	struct fs_state *st = calloc(1, sizeof(*st));
	const char *mp = roots && roots->fs_mount_points_exclude
			     ? roots->fs_mount_points_exclude
			     : AM_FS_DEFAULT_MOUNT_POINTS_EXCLUDE;
	const char *types = roots && roots->fs_types_exclude ? roots->fs_types_exclude
							     : AM_FS_DEFAULT_TYPES_EXCLUDE;

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->base.roots, roots);
	st->timeout_ms =
	    roots && roots->fs_timeout_ms ? roots->fs_timeout_ms : AM_FS_DEFAULT_TIMEOUT_MS;
	if (compile(&st->mp_exclude, mp, "mount point exclusion") ||
	    (st->compiled++, compile(&st->type_exclude, types, "file system type exclusion"))) {
		fs_destroy(st);
		return -EINVAL;
	}
	st->compiled++;
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
	free(st->text);
	free(st->mounts);
	free(st->measured);
	/* A worker blocked in statfs ends when it returns. */
	for (i = 0; i < st->nworkers; i++) {
		pthread_mutex_lock(&st->workers[i]->mu);
		st->workers[i]->quit = true;
		pthread_cond_signal(&st->workers[i]->cv);
		pthread_mutex_unlock(&st->workers[i]->mu);
		worker_unref(st->workers[i]);
	}
	if (st->compiled > 0)
		regfree(&st->mp_exclude);
	if (st->compiled > 1)
		regfree(&st->type_exclude);
	am_kept_paths_close(&st->base.kept);
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
