/* cgroup v2 ids (what bpf_get_current_cgroup_id returns: the inode number of the cgroup's
 * directory) to paths, with a cache. The cgroup2 mount is found in mountinfo, so hybrid
 * layouts (/sys/fs/cgroup/unified) work as well as unified ones. */
#ifndef ANTIMETAL_CORE_CGROUP_PATH_H
#define ANTIMETAL_CORE_CGROUP_PATH_H

#include <stddef.h>
#include <stdint.h>

struct am_cgroup_paths;

/* Find the cgroup2 mount point in MOUNTINFO (NULL: /proc/self/mountinfo) into OUT.
 * Returns 0, or -ENOENT when no cgroup2 is mounted. */
int am_cgroup2_mount(const char *mountinfo, char *out, size_t outlen);

/* The cgroup id of cgroup v2 directory DIR. Returns 0, or -errno (-EINVAL when DIR is not on
 * a cgroup2 file system). */
int am_cgroup_id_of(const char *dir, uint64_t *id);

/* The cgroup v2 directory ARG names, absolute or relative to the cgroup2 mount (perf's -G and
 * systemd's unit paths), into DIR and its id into ID. Returns 0, or -errno: -EINVAL when ARG
 * is not a cgroup v2 directory either way. */
int am_cgroup2_resolve(const char *arg, char *dir, size_t dirlen, uint64_t *id);

/* Nesting levels of directory DIR below the cgroup2 mount (0 for the mount itself), or -1
 * when DIR is not under it. */
int am_cgroup2_level(const char *dir);

/* A resolver for the cgroup2 mount in MOUNTINFO (NULL: /proc/self/mountinfo).
 * Returns 0 or -errno (logged). */
int am_cgroup_paths_open(const char *mountinfo, struct am_cgroup_paths **out);

/* Path of cgroup ID relative to the mount ("/" for the root, "/system.slice/x.service"), or
 * NULL when no such cgroup exists (any more). The string lives as long as the resolver. */
const char *am_cgroup_paths_lookup(struct am_cgroup_paths *c, uint64_t id);

/* Resolve only by walking the tree, as happens without CAP_DAC_READ_SEARCH (for tests). */
void am_cgroup_paths_disable_handles(struct am_cgroup_paths *c);

/* The cgroup2 mount point the resolver uses. */
const char *am_cgroup_paths_mount(const struct am_cgroup_paths *c);

/* Release the resolver. */
void am_cgroup_paths_free(struct am_cgroup_paths *c);

#endif
