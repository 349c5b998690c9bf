/* Paths under a root prefix (node_exporter's --path.rootfs idea), so probes and the BTF search
 * read fake trees in tests. */
#ifndef ANTIMETAL_CORE_ROOT_PATH_H
#define ANTIMETAL_CORE_ROOT_PATH_H

#include <stddef.h>

/* Write ROOT + PATH (PATH absolute) to OUT; ROOT NULL, "" or "/" means the live system.
 * Returns 0, or -ENAMETOOLONG when it does not fit. */
int am_root_path(char *out, size_t len, const char *root, const char *path);

#endif
