#include "collectors/ebpf/oom_cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/strbuf.h"

/* Nesting deeper than this is not searched for a cgroup id. */
#define MAX_DEPTH 16
/* v1 writes "no limit" as the largest page-aligned long; anything this high means none. */
#define UNLIMITED_FROM (1ull << 62)

int am_oom_cgroups_init(struct am_oom_cgroups *c, const char *procfs, const char *rootfs)
{
	struct am_strbuf b = {0};
	struct am_cgroup_layout l;
	const char *mem;
	int err;

	memset(c, 0, sizeof(*c));
	snprintf(c->procfs, sizeof(c->procfs), "%s", procfs && *procfs ? procfs : "/proc");
	if (!rootfs || !strcmp(rootfs, "/"))
		rootfs = "";
	/* Under a host root the host's init names the mounts, in host paths; our own mount
	 * table would name the container's. */
	err = am_procfs_read(c->procfs, *rootfs ? "1/mountinfo" : "self/mountinfo", &b);
	err = err ? err : am_parse_cgroup_layout(b.data, &l, NULL);
	am_strbuf_free(&b);
	if (err)
		return err;
	mem = am_cgroup_layout_v1(&l, "memory");
	c->v1 = mem != NULL;
	if (!mem)
		mem = l.v2_mount[0] ? l.v2_mount : NULL;
	if (!mem)
		return -ENOENT;
	if ((size_t)snprintf(c->root, sizeof(c->root), "%s%s", rootfs, mem) >= sizeof(c->root))
		return -ENAMETOOLONG;
	return 0;
}

/* Depth-first search under DIR (PATHLEN bytes used in PATH) for the directory of inode ID. */
static int find_ino(char *path, size_t cap, size_t pathlen, uint64_t id, int depth)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int found = -ENOENT;

	if (!d)
		return -ENOENT;
	while (found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (de->d_type != DT_DIR || de->d_name[0] == '.' || pathlen + n + 2 > cap)
			continue;
		path[pathlen] = '/';
		memcpy(path + pathlen + 1, de->d_name, n + 1);
		if (de->d_ino == id)
			found = 0;
		else if (depth < MAX_DEPTH)
			found = find_ino(path, cap, pathlen + 1 + n, id, depth + 1);
		if (found)
			path[pathlen] = '\0';
	}
	closedir(d);
	return found;
}

int am_oom_cgroups_by_id(const struct am_oom_cgroups *c, uint64_t id, char *out, size_t len)
{
	char path[4096];
	size_t rl = strlen(c->root);
	struct stat st;

	if (!c->root[0] || rl >= sizeof(path))
		return -ENOENT;
	memcpy(path, c->root, rl + 1);
	if (!stat(path, &st) && st.st_ino == id) {
		snprintf(out, len, "/");
		return 0;
	}
	if (find_ino(path, sizeof(path), rl, id, 0))
		return -ENOENT;
	if ((size_t)snprintf(out, len, "%s", path + rl) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int am_oom_cgroups_of_pid(const struct am_oom_cgroups *c, int pid, char *out, size_t len)
{
	struct am_strbuf b = {0};
	char rel[64];
	int err;

	snprintf(rel, sizeof(rel), "%d/cgroup", pid);
	err = am_procfs_read(c->procfs, rel, &b);
	if (!err)
		err = am_parse_proc_cgroup(b.data, c->v1 ? "memory" : NULL, out, len);
	am_strbuf_free(&b);
	return err;
}

/* The limit file of the cgroup at DIR: *V in bytes, UINT64_MAX for none. */
static int read_limit_file(const char *dir, bool v1, uint64_t *v)
{
	struct am_strbuf b = {0};
	const char *p;
	int err;

	err = am_procfs_read(dir, v1 ? "memory.limit_in_bytes" : "memory.max", &b);
	if (err)
		return err;
	p = am_skip_blank(b.data);
	if (!strncmp(p, "max", 3) && am_at_eol(p + 3))
		*v = UINT64_MAX;
	else if (am_parse_u64(&p, v) || !am_at_eol(p))
		err = -EINVAL;
	else if (*v >= UNLIMITED_FROM)
		*v = UINT64_MAX;
	am_strbuf_free(&b);
	return err;
}

int am_oom_cgroups_limit(const struct am_oom_cgroups *c, const char *path, uint64_t *bytes,
			 bool *unlimited)
{
	char dir[4096];
	uint64_t best = UINT64_MAX, v;
	size_t rl = strlen(c->root);
	char *slash;
	int err;

	if (!c->root[0])
		return -ENOENT;
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", c->root, strcmp(path, "/") ? path : "") >=
	    sizeof(dir))
		return -ENAMETOOLONG;
	err = read_limit_file(dir, c->v1, &v);
	if (err)
		return err;
	/* Up to the root: a child without its own limit is held by its parent's. v2's root has
	 * no memory.max, so an absent file ends the walk there. */
	for (;;) {
		if (v < best)
			best = v;
		slash = strrchr(dir + rl, '/');
		if (!slash)
			break;
		*slash = '\0';
		if (read_limit_file(dir, c->v1, &v))
			break;
	}
	*unlimited = best == UINT64_MAX;
	*bytes = *unlimited ? 0 : best;
	return 0;
}
