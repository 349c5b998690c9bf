/* The OOM collector's view of memory cgroups: which hierarchy holds the memory controller
 * (v1's memory mount, or the unified one), a cgroup's path from its kernfs id or from a pid,
 * and the limit in force over it, read from the cgroup files. */
#ifndef ANTIMETAL_COLLECTORS_OOM_CGROUP_H
#define ANTIMETAL_COLLECTORS_OOM_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct am_oom_cgroups {
	char procfs[512];
	char root[512]; /* the memory controller's hierarchy; "" when none is mounted */
	bool v1;	/* root is a v1 hierarchy (memory.limit_in_bytes) */
};

/* Find the memory hierarchy from PROCFS/self/mountinfo, or with ROOTFS (NULL, "" or "/" =
 * none) from PROCFS/1/mountinfo, the mount point then prefixed with ROOTFS. Returns 0, or -errno
 * (-ENOENT: no memory hierarchy; logged by the caller). */
int am_oom_cgroups_init(struct am_oom_cgroups *c, const char *procfs, const char *rootfs);
/* The path ("/test") of the cgroup whose directory has inode ID. Returns 0 or -ENOENT. */
int am_oom_cgroups_by_id(const struct am_oom_cgroups *c, uint64_t id, char *out, size_t len);
/* The memory cgroup of process PID from /proc/PID/cgroup. Returns 0 or -errno. */
int am_oom_cgroups_of_pid(const struct am_oom_cgroups *c, int pid, char *out, size_t len);
/* The tightest memory limit on PATH and its ancestors, in bytes; *UNLIMITED when none.
 * Returns 0 or -errno. */
int am_oom_cgroups_limit(const struct am_oom_cgroups *c, const char *path, uint64_t *bytes,
			 bool *unlimited);

#endif
