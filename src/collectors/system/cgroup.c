/* cgroup: per-cgroup CPU, memory, pids, I/O and (v2) pressure on cgroup v1, v2 and hybrid hosts.
 * The hierarchies are found in <procfs>/self/mountinfo; a mount under /sys is read under the
 * sysfs root, so fixture trees work. Every hierarchy is walked and the paths merged, since a
 * cgroup may exist in some v1 controllers only. By default containers, pods, QoS levels, systemd
 * units and the root are exported; every cgroup with the `all` option. At most `max` cgroups are
 * exported per cycle (in path order) and the rest counted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

struct paths {
	char **v;
	size_t n, cap;
	size_t overflow; /* directories past MAX_PATHS */
	/* inotify descriptor watching every directory walked for cgroups made, removed or renamed
	 * under it: while it reports nothing, the last walk still holds. -1: walk every cycle. */
	int watch;
	bool valid; /* the paths are the last complete walk, every directory watched */
};

/* A cgroup's kept descriptors, carried from one cycle to the next. */
struct kept_entry {
	char *path;
	struct am_cgroup_kept k;
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
	unsigned max;
	long user_hz;
	uint64_t dropped_total, garbled_total;
};

/* Descriptors the collector may keep: the configured number, but at most half the descriptor
 * limit, the rest being the agent's (perf, BPF, HTTP, the processes collector). */
static unsigned keep_budget(unsigned want)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    want > rl.rlim_cur / 2)
		want = (unsigned)(rl.rlim_cur / 2);
	return want;
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
	st->keep.left = keep_budget(roots ? roots->cgroup_keep_open : AM_CGROUP_DEFAULT_KEEP_OPEN);
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
		free(p->v[i]);
	p->n = 0;
	p->overflow = 0;
}

static int paths_add(struct paths *p, const char *rel)
{
	char **nv;

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
	if (!(p->v[p->n] = strdup(rel)))
		return -ENOMEM;
	p->n++;
	return 0;
}

/* Watch directory DIR for subdirectories made, removed or renamed (before it is listed, so that
 * nothing made during the walk is missed); a watch refused (the inotify limit) means walking
 * every cycle. */
static void watch(struct paths *p, const char *dir)
{
	if (p->watch >= 0 && inotify_add_watch(p->watch, dir,
					       IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
						   IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) < 0)
		p->valid = false;
}

/* Whether the watched hierarchies changed since the last walk (or cannot tell). */
static bool changed(struct paths *p)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	ssize_t n;

	if (p->watch < 0 || !p->valid)
		return true;
	while ((n = read(p->watch, ev, sizeof(ev))) > 0)
		any = true; /* drained: a change means one walk, whatever its size */
	return any || (n < 0 && errno != EAGAIN);
}

/* Every directory under DIR (a hierarchy's mount) into P, as paths relative to the mount. */
static int walk(struct paths *p, char *dir, size_t dirlen, char *rel, size_t rellen, int depth)
{
	struct dirent *de;
	int err = paths_add(p, rellen ? rel : "/");
	DIR *d;

	if (err || depth >= MAX_DEPTH)
		return err;
	watch(p, dir);
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
		if (sb.st_nlink == 2) {
			watch(p, dir); /* a leaf that gains a child changes the tree too */
			err = paths_add(p, rel);
		} else
			err = walk(p, dir, dirlen + 1 + n, rel, rellen + 1 + n, depth + 1);
	}
	closedir(d);
	dir[dirlen] = '\0';
	rel[rellen] = '\0';
	return err;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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
	size_t i, j, k;
	int err = 0;

	if (!changed(&st->paths))
		return 0;
	paths_clear(&st->paths);
	st->paths.valid = true; /* until a watch is refused */
	for (i = 0; !err && i <= l->nv1; i++) {
		const char *mnt = i < l->nv1 ? l->v1[i].mount : l->v2_mount;

		if (!*mnt || (i < l->nv1 && !read_from(l, mnt)))
			continue;
		for (j = 0; j < i && strcmp(l->v1[j].mount, mnt); j++)
			;
		if (j < i) /* the same hierarchy mounted twice */
			continue;
		snprintf(dir, sizeof(dir), "%s", mnt);
		err = walk(&st->paths, dir, strlen(dir), rel, 0, 0);
	}
	qsort(st->paths.v, st->paths.n, sizeof(char *), cmp_path);
	for (i = 0, k = 0; i < st->paths.n; i++) {
		if (k && !strcmp(st->paths.v[k - 1], st->paths.v[i])) {
			free(st->paths.v[i]);
			continue;
		}
		st->paths.v[k++] = st->paths.v[i];
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

/* This cycle's entry for PATH, carried over from last cycle's list when it is there (OLD and
 * *I walk it in step with the sorted paths). NULL when nothing is to be kept, or no memory. */
static struct am_cgroup_kept *kept_for(struct cgroup_state *st, const char *path,
				       struct kept_list *old, size_t *i)
{
	struct kept_list *cur = &st->kept[!st->cur_kept];
	struct kept_entry *e;

	kept_drop_before(st, old, i, path);
	if (*i < old->n && !strcmp(old->v[*i].path, path)) {
		if (cur->n < cur->cap || !kept_grow(cur)) {
			cur->v[cur->n] = old->v[(*i)++];
			return &cur->v[cur->n++].k;
		}
		kept_drop_before(st, old, i, NULL); /* cannot carry it: let go of all */
	}
	if (!st->keep.pseudo || !st->keep.left || (cur->n == cur->cap && kept_grow(cur)))
		return NULL;
	e = &cur->v[cur->n];
	if (!(e->path = strdup(path)))
		return NULL;
	am_cgroup_kept_init(&e->k);
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
		am_cgroup_classify(st->paths.v[i], &c);
		if (!selected(st, st->paths.v[i], &c))
			continue;
		if (exported >= st->max) {
			st->dropped_total++;
			continue;
		}
		exported++;
		one(st, st->paths.v[i], &c, kept_for(st, st->paths.v[i], old, &oi), out);
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
