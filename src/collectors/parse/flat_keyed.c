/* Parser of a flat-keyed cgroup file ("key value" lines) (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

int am_parse_flat_keyed(const char *text, const char *key, uint64_t *value)
{
	size_t klen = strlen(key);
	const char *line;

	for (line = text; line && *line; line = am_next_line(line)) {
		const char *p = line + klen;

		if (strncmp(line, key, klen) || (*p != ' ' && *p != '\t'))
			continue;
		if (am_parse_u64(&p, value) || !am_at_eol(p))
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}
