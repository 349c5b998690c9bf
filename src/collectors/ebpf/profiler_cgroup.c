/* The profiler's cgroup filter entries, checked one way for `profile --cgroup` and the daemon's
 * profiler.cgroups, so both accept and refuse the same paths with the same words. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "collectors/ebpf/profiler.h"
#include "core/cgroup_path.h"

int am_profiler_cgroup_resolve(const char *arg, uint64_t *id, char *why, size_t whylen)
{
	char dir[PATH_MAX];

	if (am_cgroup2_resolve(arg, dir, sizeof(dir), id)) {
		snprintf(why, whylen, "'%s' is not a cgroup v2 directory", arg);
		return -EINVAL;
	}
	/* The BPF program looks this many ancestors up; a deeper filter could never match. */
	if (am_cgroup2_level(dir) >= PROFILER_MAX_CGROUP_DEPTH) {
		snprintf(why, whylen,
			 "'%s' is nested deeper than %d levels, which the filter searches", arg,
			 PROFILER_MAX_CGROUP_DEPTH - 1);
		return -EINVAL;
	}
	return 0;
}
