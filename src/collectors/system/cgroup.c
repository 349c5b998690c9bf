/* cgroup: per-cgroup CPU, memory, pids, I/O and (v2) pressure on cgroup v1, v2 and hybrid hosts.
 * The hierarchies are found in <procfs>/self/mountinfo; a mount under /sys is read under the
 * sysfs root, so fixture trees work. Every hierarchy is walked and the paths merged, since a
 * cgroup may exist in some v1 controllers only. By default containers, pods, QoS levels, systemd
 * units and the root are exported; every cgroup with the `all` option. At most `max` cgroups are
 * exported per cycle (in path order) and the rest counted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/parse/cgroup_read.h"
#include "collectors/parse/kept_file.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "collectors/parse/rate.h"
#include "collectors/system/cgroup_metrics.h"
#include "collectors/system/collector.h"
#include "util/log.h"

#define MAX_DEPTH 16
/* Paths remembered per walk: beyond this a runaway hierarchy is counted, not followed. */
#define MAX_PATHS 200000
/* Hierarchies walked: the v1 ones of cpu, cpuacct, memory, pids, blkio and the unified one. */
#define MAX_WALKED 6
/* Directories whose limit files were written, remembered per cycle; past this every cgroup's
 * limits are read again. */
#define MAX_MODIFIED 4096

/* wd[] values besides inotify watch descriptors. */
#define WD_ABSENT    -1 /* the cgroup is not in that hierarchy */
#define WD_UNWATCHED -2 /* it is, but no watch tells when it changes */

struct cg_dir {
	char *rel;
	int wd[MAX_WALKED]; /* its directory's watch in each hierarchy walked */
};

struct paths {
	struct cg_dir *v;
	size_t n, cap;
	size_t overflow; /* directories past MAX_PATHS */
	/* inotify descriptor watching every directory walked for cgroups made, removed or renamed
	 * under it, and for writes to the files in it: while it reports no change to the tree,
	 * the last walk still holds; while it reports no write to a cgroup's limit files, their
	 * last values do. -1: walk and read every cycle. */
	int watch;
	bool valid; /* the paths are the last complete walk, every directory watched */
	/* This cycle's: watch descriptors whose limit files were written (sorted), and whether
	 * every cgroup's limits are to be read (the queue overflowed, too many writes, a v2
	 * cgroup.subtree_control written). */
	int modified[MAX_MODIFIED];
	size_t nmodified;
	bool limits_stale;
};

/* A cgroup's kept descriptors and limits, carried from one cycle to the next. */
struct kept_entry {
	char *path;
	struct am_cgroup_kept k;
	int wd[MAX_WALKED]; /* its directories' watches when K was filled */
};

struct kept_list {
	struct kept_entry *v; /* sorted by path, as the walk's paths are */
	size_t n, cap;
};

struct cgroup_state {
	struct am_roots_buf roots;
	struct kept_list kept[2]; /* last cycle's and this cycle's */
	int cur_kept;		  /* index of last cycle's */
	struct am_cgroup_keep keep;
	struct am_strbuf buf;
	struct am_rate_table rates;
	struct am_cgroup_layout layout; /* mounts rewritten under the sysfs root */
	struct am_cgroup_sample sample;
	struct paths paths;
	bool all, found, warned, warned_garbled;
	unsigned max, budget; /* budget: file descriptors the cgroups may keep, all told */
	long user_hz;
	uint64_t dropped_total, garbled_total;
};

/* Descriptors the collector may keep: the configured number of files, within the descriptor
 * limit less what the rest of the agent may hold (the HTTP server's 2,048 connections, the
 * processes collector's 1,024 files, per-CPU perf events, BPF objects, ELF files): half a limit
 * of up to 8192, else a quarter of it but at least 4096 and four per CPU more. Directories, kept
 * for the cgroups whose files are past the budget, share that room, at most as many again as
 * the files (0 files: nothing kept). */
static void keep_budget(unsigned want, unsigned *files, unsigned *room)
{
	uint64_t fds = UINT32_MAX, reserve;
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY) {
		reserve = 4096 + 4 * (uint64_t)(cpus > 0 ? cpus : 1);
		if (rl.rlim_cur / 4 > reserve)
			reserve = rl.rlim_cur / 4;
		if (rl.rlim_cur <= 8192 || reserve > rl.rlim_cur / 2)
			reserve = rl.rlim_cur / 2;
		fds = rl.rlim_cur - reserve;
		if (fds > UINT32_MAX)
			fds = UINT32_MAX;
	}
	*files = want < fds ? want : (unsigned)fds;
	*room = (uint64_t)*files + want < fds ? *files + want : (unsigned)fds;
}

static int cgroup_init(void **state, const struct am_collect_roots *roots)
{
	struct cgroup_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	st->paths.watch = -1;
	st->all = roots && roots->cgroup_all;
	st->max = roots && roots->cgroup_max ? roots->cgroup_max : AM_CGROUP_DEFAULT_MAX;
	keep_budget(roots ? roots->cgroup_keep_open : AM_CGROUP_DEFAULT_KEEP_OPEN, &st->budget,
		    &st->keep.room);
	st->keep.left = st->budget;
	st->user_hz = sysconf(_SC_CLK_TCK);
	if (st->user_hz <= 0)
		st->user_hz = 100;
	*state = st;
	return 0;
}

/* A mount point under /sys belongs to the sysfs root the collector was given. */
static int rebase(const struct cgroup_state *st, char *mnt, size_t len)
{
	char tmp[sizeof(st->layout.v2_mount)];

	if (!*mnt || strncmp(mnt, "/sys/", 5) || !strcmp(st->roots.sysfs, "/sys"))
		return 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s", st->roots.sysfs, mnt + 4) >= sizeof(tmp) ||
	    strlen(tmp) >= len)
		return -ENAMETOOLONG;
	strcpy(mnt, tmp);
	return 0;
}

/* Whether the hierarchies are cgroupfs (a fixture tree's files are not kept open: a test may
 * rewrite them between cycles). */
static bool pseudo_mounts(const struct am_cgroup_layout *l)
{
	const char *mnt = l->v2_mount[0] ? l->v2_mount : l->nv1 ? l->v1[0].mount : NULL;
	bool pseudo = false;
	int fd;

	if (!mnt || (fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return false;
	pseudo = am_kept_pseudo_fs(fd);
	close(fd);
	return pseudo;
}

static int find_layout(struct cgroup_state *st)
{
	const char *why = "";
	size_t i;
	int err;

	err = am_procfs_read(st->roots.procfs, "self/mountinfo", &st->buf);
	if (!err)
		err = am_parse_cgroup_layout(st->buf.data, &st->layout, &why);
	if (!err && st->layout.mode == AM_CGROUP_NONE) {
		err = -ENOENT;
		why = "no cgroup or cgroup2 mount";
	}
	err = err ? err : rebase(st, st->layout.v2_mount, sizeof(st->layout.v2_mount));
	for (i = 0; !err && i < st->layout.nv1; i++)
		err = rebase(st, st->layout.v1[i].mount, sizeof(st->layout.v1[i].mount));
	if (err) {
		if (!st->warned)
			am_info("cgroup: no usable cgroup hierarchy in %s/self/mountinfo (%s): "
				"collector disabled",
				st->roots.procfs,
				err == -EINVAL || err == -ENOENT ? why : strerror(-err));
		st->warned = true;
		return err;
	}
	st->found = true;
	st->warned = false;
	st->keep.pseudo = pseudo_mounts(&st->layout);
	/* A fixture tree is walked every cycle: tests change it between cycles. */
	if (st->keep.pseudo && st->paths.watch < 0)
		st->paths.watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return 0;
}

static int kept_grow(struct kept_list *l)
{
	size_t cap = l->cap ? l->cap * 2 : 64;
	struct kept_entry *v = realloc(l->v, cap * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->cap = cap;
	return 0;
}

static void paths_clear(struct paths *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].rel);
	p->n = 0;
	p->overflow = 0;
}

/* REL, found in the hierarchy walked H-th, whose directory has watch WD. */
static int paths_add(struct paths *p, const char *rel, size_t h, int wd)
{
	struct cg_dir *nv;
	size_t i;

	if (p->n >= MAX_PATHS) {
		p->overflow++;
		return 0;
	}
	if (p->n == p->cap) {
		nv = realloc(p->v, (p->cap ? p->cap * 2 : 256) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = p->cap ? p->cap * 2 : 256;
	}
	if (!(p->v[p->n].rel = strdup(rel)))
		return -ENOMEM;
	for (i = 0; i < MAX_WALKED; i++)
		p->v[p->n].wd[i] = WD_ABSENT;
	p->v[p->n++].wd[h] = wd;
	return 0;
}

/* Watch directory DIR for subdirectories made, removed or renamed (before it is listed, so that
 * nothing made during the walk is missed) and for writes to its files (vfs_write notifies the
 * directory of a file written, on cgroupfs as anywhere). Returns the watch descriptor, or
 * WD_UNWATCHED; a watch refused (the inotify limit) means walking every cycle. */
static int watch(struct paths *p, const char *dir)
{
	int wd;

	if (p->watch < 0)
		return WD_UNWATCHED;
	wd = inotify_add_watch(p->watch, dir,
			       IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
				   IN_DELETE_SELF | IN_MOVE_SELF | IN_MODIFY | IN_ONLYDIR);
	if (wd < 0) {
		p->valid = false;
		return WD_UNWATCHED;
	}
	return wd;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* A write to file NAME in the directory of watch WD: remembered when it may change limits. */
static void modified(struct paths *p, int wd, const char *name)
{
	if (!am_cgroup_limit_file(name))
		return; /* cgroup.procs, memory.events' notifications: nothing held changes */
	if (!strcmp(name, "cgroup.subtree_control") || p->nmodified == MAX_MODIFIED)
		p->limits_stale = true; /* v2: the children's files come and go */
	else
		p->modified[p->nmodified++] = wd;
}

/* The events read from the watch: whether the tree changed since the last walk (or cannot
 * tell); the writes to limit files into P's modified set. */
static bool changed(struct paths *p)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	ssize_t n, off;

	p->nmodified = 0;
	p->limits_stale = p->watch < 0 || !p->valid;
	if (p->watch < 0 || !p->valid)
		return true;
	while ((n = read(p->watch, ev, sizeof(ev))) > 0) {
		for (off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *e = (const void *)(ev + off);

			if (e->mask & IN_Q_OVERFLOW)
				p->limits_stale = true; /* events lost: trust nothing */
			if ((e->mask & IN_MODIFY) && e->len)
				modified(p, e->wd, e->name);
			else
				any = true; /* a change to the tree: one walk, whatever its size */
			off += (ssize_t)sizeof(*e) + e->len;
		}
	}
	qsort(p->modified, p->nmodified, sizeof(int), cmp_int);
	if (n < 0 && errno != EAGAIN)
		p->limits_stale = any = true;
	return any;
}

/* Every directory under DIR (a hierarchy's mount, the H-th walked) into P, as paths relative to
 * the mount. */
static int walk(struct paths *p, size_t h, char *dir, size_t dirlen, char *rel, size_t rellen,
		int depth)
{
	struct dirent *de;
	int err;
	DIR *d;

	if (depth >= MAX_DEPTH)
		return paths_add(p, rellen ? rel : "/", h, WD_UNWATCHED);
	err = paths_add(p, rellen ? rel : "/", h, watch(p, dir));
	if (err)
		return err;
	if (!(d = opendir(dir)))
		return err;
	while (!err && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat sb;

		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (dirlen + 1 + n >= 4096 || rellen + 1 + n >= 4096)
			continue;
		dir[dirlen] = '/';
		memcpy(dir + dirlen + 1, de->d_name, n + 1);
		rel[rellen] = '/';
		memcpy(rel + rellen + 1, de->d_name, n + 1);
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(sb.st_mode))
			continue;
		/* cgroupfs counts subdirectories in a directory's link count: a leaf (most
		 * cgroups) is recorded without opening it, one syscall instead of four. */
		if (sb.st_nlink == 2) /* a leaf that gains a child changes the tree too */
			err = paths_add(p, rel, h, watch(p, dir));
		else
			err = walk(p, h, dir, dirlen + 1 + n, rel, rellen + 1 + n, depth + 1);
	}
	closedir(d);
	dir[dirlen] = '\0';
	rel[rellen] = '\0';
	return err;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct cg_dir *)a)->rel, ((const struct cg_dir *)b)->rel);
}

/* Whether the reader takes any file from the v1 hierarchy at MNT: the others (cpuset, devices,
 * freezer, name=systemd) are not walked, which on a v1 host halves the walk. */
static bool read_from(const struct am_cgroup_layout *l, const char *mnt)
{
	static const char *const used[] = {"cpu", "cpuacct", "memory", "pids", "blkio"};
	const char *m;
	size_t i;

	for (i = 0; i < sizeof(used) / sizeof(used[0]); i++)
		if ((m = am_cgroup_layout_v1(l, used[i])) && !strcmp(m, mnt))
			return true;
	return false;
}

/* The union of the paths of the hierarchies read from, sorted, each once. */
static int gather(struct cgroup_state *st)
{
	const struct am_cgroup_layout *l = &st->layout;
	char dir[4096], rel[4096] = "";
	size_t i, j, k, h = 0;
	int err = 0;

	if (!changed(&st->paths))
		return 0;
	paths_clear(&st->paths);
	st->paths.valid = true; /* until a watch is refused */
	for (i = 0; !err && i <= l->nv1 && h < MAX_WALKED; i++) {
		const char *mnt = i < l->nv1 ? l->v1[i].mount : l->v2_mount;

		if (!*mnt || (i < l->nv1 && !read_from(l, mnt)))
			continue;
		for (j = 0; j < i && strcmp(l->v1[j].mount, mnt); j++)
			;
		if (j < i) /* the same hierarchy mounted twice */
			continue;
		snprintf(dir, sizeof(dir), "%s", mnt);
		err = walk(&st->paths, h++, dir, strlen(dir), rel, 0, 0);
	}
	qsort(st->paths.v, st->paths.n, sizeof(st->paths.v[0]), cmp_path);
	for (i = 0, k = 0; i < st->paths.n; i++) {
		struct cg_dir *prev = k ? &st->paths.v[k - 1] : NULL, *d = &st->paths.v[i];

		if (prev && !strcmp(prev->rel, d->rel)) {
			for (j = 0; j < MAX_WALKED; j++) /* one hierarchy each */
				if (d->wd[j] != WD_ABSENT)
					prev->wd[j] = d->wd[j];
			free(d->rel);
			continue;
		}
		st->paths.v[k++] = *d;
	}
	st->paths.n = k;
	if (err)
		st->paths.valid = false;
	return err;
}

static bool selected(const struct cgroup_state *st, const char *path,
		     const struct am_cgroup_class *c)
{
	return st->all || !strcmp(path, "/") || c->kind != AM_CGROUP_OTHER;
}

/* Close and forget every entry of L from *I on whose path sorts before PATH (NULL: all): those
 * cgroups are gone, or no longer selected. */
static void kept_drop_before(struct cgroup_state *st, struct kept_list *l, size_t *i,
			     const char *path)
{
	for (; *i < l->n && (!path || strcmp(l->v[*i].path, path) < 0); (*i)++) {
		am_cgroup_kept_close(&l->v[*i].k, &st->keep);
		free(l->v[*i].path);
	}
}

/* Whether a directory of D has no watch: its removal and making again would go unseen. */
static bool unwatched(const struct cg_dir *d)
{
	size_t h;

	for (h = 0; h < MAX_WALKED; h++)
		if (d->wd[h] == WD_UNWATCHED)
			return true;
	return false;
}

/* Whether the limits E holds are still those of the cgroup at D: its directories are the same
 * ones (not removed and made again), all watched, and no limit file in them was written. */
static bool limits_unchanged(const struct paths *p, const struct kept_entry *e,
			     const struct cg_dir *d)
{
	size_t h;

	if (p->limits_stale || memcmp(e->wd, d->wd, sizeof(e->wd)) || unwatched(d))
		return false;
	for (h = 0; h < MAX_WALKED; h++)
		if (d->wd[h] >= 0 &&
		    bsearch(&d->wd[h], p->modified, p->nmodified, sizeof(int), cmp_int))
			return false;
	return true;
}

/* This cycle's entry for D, carried over from last cycle's list when it is there (OLD and *I
 * walk it in step with the sorted paths). Every cgroup has one, whether or not the budget lets
 * it keep descriptors: it holds the limits. NULL on a fixture tree, or without memory. */
static struct am_cgroup_kept *kept_for(struct cgroup_state *st, const struct cg_dir *d,
				       struct kept_list *old, size_t *i)
{
	struct kept_list *cur = &st->kept[!st->cur_kept];
	struct kept_entry *e;

	kept_drop_before(st, old, i, d->rel);
	if (*i < old->n && !strcmp(old->v[*i].path, d->rel)) {
		if (cur->n < cur->cap || !kept_grow(cur)) {
			e = &cur->v[cur->n++];
			*e = old->v[(*i)++];
			/* Directories made anew under the path: what was learnt of them is void
			 * (kept files and directories would also fail, but a cgroup without any
			 * would not). */
			if (memcmp(e->wd, d->wd, sizeof(e->wd)) ||
			    (unwatched(d) && !e->k.n && !e->k.ndirs))
				am_cgroup_kept_close(&e->k, &st->keep);
			e->k.limits_unchanged = limits_unchanged(&st->paths, e, d);
			memcpy(e->wd, d->wd, sizeof(e->wd));
			return &e->k;
		}
		kept_drop_before(st, old, i, NULL); /* cannot carry it: let go of all */
	}
	if (!st->keep.pseudo || (cur->n == cur->cap && kept_grow(cur)))
		return NULL;
	e = &cur->v[cur->n];
	if (!(e->path = strdup(d->rel)))
		return NULL;
	am_cgroup_kept_init(&e->k);
	memcpy(e->wd, d->wd, sizeof(e->wd));
	cur->n++;
	return &e->k;
}

/* One cgroup read and emitted; its garbled files counted and the first of a run logged. */
static void one(struct cgroup_state *st, const char *path, const struct am_cgroup_class *c,
		struct am_cgroup_kept *kept, struct am_metric_set *out)
{
	struct am_cgroup_labels l = {path, c->kind == AM_CGROUP_CONTAINER ? c->container_id : "",
				     c->runtime ? c->runtime : "", c->pod_uid,
				     c->qos ? c->qos : ""};

	if (am_cgroup_read_kept(&st->layout, "", path, st->user_hz, &st->buf, kept, &st->keep,
				&st->sample))
		return; /* removed since the walk */
	if (st->sample.garbled) {
		if (!st->warned_garbled)
			am_warn("cgroup: %s: %s (%u garbled files; counted in "
				"antimetal_cgroup_files_garbled_total)",
				path, st->sample.first_garbled, st->sample.garbled);
		st->warned_garbled = true;
		st->garbled_total += st->sample.garbled;
	}
	am_cgroup_emit(&st->sample, &l, out);
}

static void emit_totals(struct cgroup_state *st, size_t exported, struct am_metric_set *out)
{
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_cgroups_exported",
				     .help = "Cgroups whose metrics this cycle exported.",
				     .unit = "{cgroup}", .type = AM_METRIC_GAUGE),
		      (double)exported, NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_cgroups_dropped_total",
				     .help = "Selected cgroups left out by the cap on exported "
					     "cgroups (collectors.cgroup.max), summed over cycles.",
				     .unit = "{cgroup}", .type = AM_METRIC_COUNTER),
		      (double)st->dropped_total, NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_cgroup_files_garbled_total",
				     .help = "cgroup files that did not parse, summed over cycles.",
				     .unit = "{file}", .type = AM_METRIC_COUNTER),
		      (double)st->garbled_total, NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_cgroup_files_kept",
				     .help =
					 "cgroup files kept open between cycles "
					 "(collectors.cgroup.keep_open), each holding about 4 KiB "
					 "of kernel memory.",
				     .unit = "{file}", .type = AM_METRIC_GAUGE),
		      (double)(st->budget - st->keep.left), NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_cgroup_dirs_kept",
				     .help =
					 "cgroup directories kept open between cycles for cgroups "
					 "whose files are past collectors.cgroup.keep_open (their "
					 "files are opened relative to them), about 0.25 KiB of "
					 "kernel memory each.",
				     .unit = "{directory}", .type = AM_METRIC_GAUGE),
		      (double)st->keep.dirs, NULL);
}

static int cgroup_collect(void *state, struct am_metric_set *out)
{
	struct cgroup_state *st = state;
	struct am_cgroup_class c;
	size_t i, oi = 0, mark = out->n, exported = 0;
	struct kept_list *old;
	uint64_t now;
	int err;

	if (!st->found && find_layout(st))
		return 0;
	now = am_roots_now_ns(&st->roots);
	err = gather(st);
	if (err) {
		am_warn("cgroup: walking the hierarchies: %s", strerror(-err));
		return err;
	}
	st->dropped_total += st->paths.overflow;
	old = &st->kept[st->cur_kept];
	st->kept[!st->cur_kept].n = 0;
	for (i = 0; i < st->paths.n; i++) {
		const struct cg_dir *d = &st->paths.v[i];

		am_cgroup_classify(d->rel, &c);
		if (!selected(st, d->rel, &c))
			continue;
		if (exported >= st->max) {
			st->dropped_total++;
			continue;
		}
		exported++;
		one(st, d->rel, &c, kept_for(st, d, old, &oi), out);
	}
	kept_drop_before(st, old, &oi, NULL);
	old->n = 0;
	st->cur_kept = !st->cur_kept;
	am_rate_cycle(&st->rates);
	am_rate_emit(
	    &st->rates, out, mark, "antimetal_cgroup_cpu_usage_seconds_total",
	    AM_METRIC_DESC(.name = "antimetal_cgroup_cpu_usage_ratio",
			   .help = "CPUs used by the cgroup since the last cycle.", .unit = "1",
			   .type = AM_METRIC_GAUGE,
			   .labels = {"cgroup", "container_id", "runtime", "pod_uid", "qos"}),
	    now, 1e6);
	emit_totals(st, exported, out);
	return 0;
}

static void cgroup_destroy(void *state)
{
	struct cgroup_state *st = state;
	size_t i;

	if (!st)
		return;
	paths_clear(&st->paths);
	free(st->paths.v);
	if (st->paths.watch >= 0)
		close(st->paths.watch);
	for (i = 0; i < 2; i++) {
		size_t j = 0;

		kept_drop_before(st, &st->kept[i], &j, NULL);
		free(st->kept[i].v);
	}
	am_strbuf_free(&st->buf);
	am_rate_free(&st->rates);
	free(st);
}

const struct am_collector am_collector_cgroup = {
    .name = "cgroup",
    .init = cgroup_init,
    .collect = cgroup_collect,
    .destroy = cgroup_destroy,
};
