#include "core/tracefs.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util/log.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

static bool is_tracefs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == TRACEFS_MAGIC;
}

bool am_tracefs_present(void)
{
	return is_tracefs("/sys/kernel/tracing") || is_tracefs("/sys/kernel/debug/tracing");
}

int am_tracefs_ensure(bool *mounted)
{
	if (mounted)
		*mounted = false;
	if (am_tracefs_present())
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		int err = -errno;

		am_err("tracefs is not mounted and mounting it at /sys/kernel/tracing failed: %s%s",
		       strerror(errno),
		       errno == EPERM ? " (needs CAP_SYS_ADMIN; or mount it: "
					"mount -t tracefs tracefs /sys/kernel/tracing)"
				      : "");
		return err;
	}
	am_info("mounted tracefs at /sys/kernel/tracing (tracepoints need it)");
	if (mounted)
		*mounted = true;
	return 0;
}
