#include "core/cgroup_path.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
/* kernfs exports cgroups as file handles whose payload is the 64-bit cgroup id. */
#define AM_FILEID_KERNFS 0xfe

struct entry {
	uint64_t id;
	char *path; /* NULL: known not to exist */
};

struct am_cgroup_paths {
	char mount[PATH_MAX];
	size_t mount_len;
	int mount_fd;
	struct entry *tab; /* open addressing, power-of-two size; id 0 marks a free slot */
	size_t cap, n;
	bool handles_work;
	uint64_t last_walk_ns;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int am_cgroup2_mount(const char *mountinfo, char *out, size_t outlen)
{
	FILE *f = am_file_fopen_regular(mountinfo ? mountinfo : "/proc/self/mountinfo");
	char *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - "), *mnt, *save = NULL, *tok;
		int i;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		/* id parent major:minor root mountpoint ... */
		tok = strtok_r(line, " ", &save);
		for (i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save);
		mnt = tok;
		if (!mnt)
			continue;
		unescape(mnt);
		if (strlen(mnt) >= outlen) {
			err = -ENAMETOOLONG;
			break;
		}
		strcpy(out, mnt);
		err = 0;
		break;
	}
	free(line);
	fclose(f);
	return err;
}

int am_cgroup_id_of(const char *dir, uint64_t *id)
{
	struct statfs sfs;
	struct stat st;

	if (statfs(dir, &sfs))
		return -errno;
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -EINVAL;
	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

int am_cgroup2_resolve(const char *arg, char *dir, size_t dirlen, uint64_t *id)
{
	char mnt[PATH_MAX];
	int err = am_cgroup_id_of(arg, id);

	if (!err)
		return (size_t)snprintf(dir, dirlen, "%s", arg) >= dirlen ? -ENAMETOOLONG : 0;
	if (!*arg || am_cgroup2_mount(NULL, mnt, sizeof(mnt)))
		return err;
	if ((size_t)snprintf(dir, dirlen, "%s/%s", mnt, arg + (arg[0] == '/')) >= dirlen)
		return -ENAMETOOLONG;
	return am_cgroup_id_of(dir, id) ? err : 0;
}

int am_cgroup2_level(const char *dir)
{
	char mnt[PATH_MAX];
	size_t n;
	int level = 0;

	if (am_cgroup2_mount(NULL, mnt, sizeof(mnt)))
		return -1;
	n = strcmp(mnt, "/") ? strlen(mnt) : 0;
	if (strncmp(dir, mnt, n) || (dir[n] && dir[n] != '/'))
		return -1;
	for (dir += n; *dir; dir++)
		if (*dir == '/' && dir[1] && dir[1] != '/')
			level++;
	return level;
}

static struct entry *slot(struct am_cgroup_paths *c, uint64_t id)
{
	size_t mask = c->cap - 1, i = (size_t)(id * 0x9e3779b97f4a7c15ull) & mask;

	while (c->tab[i].id && c->tab[i].id != id)
		i = (i + 1) & mask;
	return &c->tab[i];
}

static int grow(struct am_cgroup_paths *c)
{
	struct entry *old = c->tab;
	size_t oldcap = c->cap, i;

	c->tab = calloc(oldcap * 2, sizeof(*c->tab));
	if (!c->tab) {
		c->tab = old;
		return -ENOMEM;
	}
	c->cap = oldcap * 2;
	for (i = 0; i < oldcap; i++)
		if (old[i].id)
			*slot(c, old[i].id) = old[i];
	free(old);
	return 0;
}

/* Record ID -> PATH (relative to the mount; NULL for a known miss). Takes no ownership. */
static struct entry *put(struct am_cgroup_paths *c, uint64_t id, const char *path)
{
	struct entry *e;

	if ((c->n + 1) * 2 > c->cap && grow(c))
		return NULL;
	e = slot(c, id);
	if (e->id) {
		if (e->path || !path)
			return e;
	} else {
		c->n++;
	}
	e->id = id;
	e->path = path ? strdup(*path ? path : "/") : NULL;
	return e;
}

/* Direct lookup through a kernfs file handle: exact and O(1), needs CAP_DAC_READ_SEARCH. */
static int resolve_by_handle(struct am_cgroup_paths *c, uint64_t id, char *out, size_t outlen)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	char link[64], target[PATH_MAX];
	ssize_t n;
	int fd;

	h.fh.handle_bytes = sizeof(uint64_t);
	h.fh.handle_type = AM_FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(c->mount_fd, &h.fh, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (strncmp(target, c->mount, c->mount_len) ||
	    (target[c->mount_len] && target[c->mount_len] != '/'))
		return -EXDEV; /* outside the mount we know (another namespace's view) */
	snprintf(out, outlen, "%s", target[c->mount_len] ? target + c->mount_len : "/");
	return 0;
}

/* Depth-first over the cgroup tree below PATH (LEN bytes used of PATH_MAX), recording every
 * directory. cgroup trees are shallow; depth is bounded anyway. */
static void walk_dir(struct am_cgroup_paths *c, char *path, size_t len, int depth)
{
	struct dirent *d;
	struct stat st;
	DIR *dir;

	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return;
	put(c, st.st_ino, path + c->mount_len);
	if (depth > 32 || !(dir = opendir(path)))
		return;
	while ((d = readdir(dir))) {
		size_t n = strlen(d->d_name);

		if (d->d_type != DT_DIR || !strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (len + 1 + n >= PATH_MAX)
			continue;
		path[len] = '/';
		memcpy(path + len + 1, d->d_name, n + 1);
		walk_dir(c, path, len + 1 + n, depth + 1);
		path[len] = '\0';
	}
	closedir(dir);
}

/* Returns false when skipped by the rate limit. */
static bool walk(struct am_cgroup_paths *c)
{
	uint64_t now = am_clock_ns(CLOCK_MONOTONIC);
	char path[PATH_MAX];

	/* Rate-limited: a burst of execs in unknown cgroups must not turn into a burst of walks. */
	if (c->last_walk_ns && now - c->last_walk_ns < 1000000000ull)
		return false;
	c->last_walk_ns = now;
	snprintf(path, sizeof(path), "%s", c->mount);
	walk_dir(c, path, strlen(path), 0);
	return true;
}

int am_cgroup_paths_open(const char *mountinfo, struct am_cgroup_paths **out)
{
	struct am_cgroup_paths *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	err = am_cgroup2_mount(mountinfo, c->mount, sizeof(c->mount));
	if (err) {
		am_warn("cgroup paths: no cgroup2 mount found: %s", strerror(-err));
		free(c);
		return err;
	}
	c->mount_fd = -1;
	c->mount_len = strlen(c->mount);
	if (c->mount_len == 1) /* mounted at "/": relative paths keep their slash */
		c->mount_len = 0;
	c->mount_fd = open(c->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	c->cap = 64;
	c->tab = calloc(c->cap, sizeof(*c->tab));
	if (c->mount_fd < 0 || !c->tab) {
		err = c->mount_fd < 0 ? -errno : -ENOMEM;
		am_warn("cgroup paths: cannot open %s: %s", c->mount, strerror(-err));
		am_cgroup_paths_free(c);
		return err;
	}
	c->handles_work = true;
	*out = c;
	return 0;
}

const char *am_cgroup_paths_lookup(struct am_cgroup_paths *c, uint64_t id)
{
	struct entry *e;
	char path[PATH_MAX];

	if (!id)
		return NULL;
	e = slot(c, id);
	if (e->id)
		return e->path;
	if (c->handles_work) {
		int err = resolve_by_handle(c, id, path, sizeof(path));

		if (!err) {
			e = put(c, id, path);
			return e ? e->path : NULL;
		}
		if (err == -EPERM || err == -EOPNOTSUPP || err == -ENOSYS || err == -EINVAL) {
			am_debug("cgroup paths: file handles unusable (%s), walking %s instead",
				 strerror(-err), c->mount);
			c->handles_work = false;
		} else if (err == -ESTALE || err == -ENOENT) {
			put(c, id, NULL); /* the cgroup is gone; ids are not reused */
			return NULL;
		}
	}
	if (!walk(c))
		return NULL;
	e = slot(c, id);
	if (e->id)
		return e->path;
	put(c, id, NULL); /* not in the tree: gone, and ids are not reused */
	return NULL;
}

void am_cgroup_paths_disable_handles(struct am_cgroup_paths *c)
{
	c->handles_work = false;
}

const char *am_cgroup_paths_mount(const struct am_cgroup_paths *c)
{
	return c->mount;
}

void am_cgroup_paths_free(struct am_cgroup_paths *c)
{
	size_t i;

	if (!c)
		return;
	if (c->tab)
		for (i = 0; i < c->cap; i++)
			free(c->tab[i].path);
	if (c->mount_fd >= 0)
		close(c->mount_fd);
	free(c->tab);
	free(c);
}
