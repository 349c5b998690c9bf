/* tracefs: tracepoint attachment needs it mounted (libbpf reads event ids from it). */
#ifndef ANTIMETAL_CORE_TRACEFS_H
#define ANTIMETAL_CORE_TRACEFS_H

#include <stdbool.h>

/* Make sure tracefs is reachable at /sys/kernel/tracing or /sys/kernel/debug/tracing, mounting
 * it at /sys/kernel/tracing when it is not. Returns 0, or -errno with the reason logged.
 * *MOUNTED (may be NULL) is set when this call did the mount. */
int am_tracefs_ensure(bool *mounted);

/* Whether tracefs is mounted at either of the places libbpf looks. */
bool am_tracefs_present(void);

#endif
