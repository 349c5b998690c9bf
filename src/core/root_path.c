#include "core/root_path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int am_root_path(char *out, size_t len, const char *root, const char *path)
{
	size_t rl = root ? strlen(root) : 0;

	/* "/x/" + "/sys" must not become "/x//sys", and "/" alone is no prefix at all */
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	if ((size_t)snprintf(out, len, "%.*s%s", (int)rl, rl ? root : "", path) >= len)
		return -ENAMETOOLONG;
	return 0;
}
