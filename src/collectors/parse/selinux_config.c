/* /etc/selinux/config, read the way go-selinux (node_exporter's library) reads it: KEY=VALUE
 * lines, blanks around both trimmed, '#' and ';' lines skipped, quotes around the value dropped;
 * the last SELINUX= wins. */
#include <ctype.h>
#include <string.h>

#include "collectors/parse/parsers.h"

/* [*S, *E) without surrounding blanks. */
static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

int am_parse_selinux_config(const char *text)
{
	const char *line, *end, *eq, *k, *ke, *v, *ve;
	int mode = -1;

	for (line = text; *line; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		k = line;
		ke = end;
		trim(&k, &ke);
		if (k == ke || *k == '#' || *k == ';' || !(eq = memchr(k, '=', (size_t)(ke - k))))
			continue;
		v = eq + 1;
		ve = ke;
		ke = eq;
		trim(&k, &ke);
		trim(&v, &ve);
		while (v < ve && *v == '"')
			v++;
		while (ve > v && ve[-1] == '"')
			ve--;
		if ((size_t)(ke - k) != 7 || strncmp(k, "SELINUX", 7))
			continue;
		if ((size_t)(ve - v) == 9 && !strncmp(v, "enforcing", 9))
			mode = 1;
		else if ((size_t)(ve - v) == 10 && !strncmp(v, "permissive", 10))
			mode = 0;
		else
			mode = -1;
	}
	return mode;
}
