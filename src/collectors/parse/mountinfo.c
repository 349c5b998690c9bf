/* Parser of /proc/self/mountinfo: where cgroup2 is mounted (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

/* Copy a mountinfo field, undoing the kernel's octal escapes (\040 for space). */
static int unescape_field(const char **p, char *out, size_t outlen)
{
	const char *s = am_skip_blank(*p);
	size_t n = 0;

	while (*s && *s != ' ' && *s != '\n') {
		char c = *s++;

		if (c == '\\' && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' &&
		    s[2] >= '0' && s[2] <= '7') {
			c = (char)(((s[0] - '0') << 6) | ((s[1] - '0') << 3) | (s[2] - '0'));
			s += 3;
		}
		if (n + 1 >= outlen)
			return -EINVAL;
		out[n++] = c;
	}
	out[n] = '\0';
	*p = s;
	return n ? 0 : -EINVAL;
}

int am_parse_mountinfo_cgroup2(const char *text, char *out, size_t outlen, const char **why)
{
	const char *line;

	for (line = text; line && *line; line = am_next_line(line)) {
		const char *p = line, *sep;
		char mnt[4096], fstype[32];
		uint64_t id, parent;
		int i;

		if (am_at_eol(line))
			continue;
		if (am_parse_u64(&p, &id) || am_parse_u64(&p, &parent))
			goto bad;
		/* major:minor and root, then the mount point. */
		for (i = 0; i < 2; i++)
			if (!am_next_token(&p, NULL, 0))
				goto bad;
		if (unescape_field(&p, mnt, sizeof(mnt)))
			goto bad;
		/* Optional fields end with a lone "-", then the filesystem type. */
		sep = strstr(p, " - ");
		if (!sep || (strchr(p, '\n') && sep > strchr(p, '\n')))
			goto bad;
		p = sep + 3;
		if (!am_next_token(&p, fstype, sizeof(fstype)))
			goto bad;
		if (strcmp(fstype, "cgroup2"))
			continue;
		if (strlen(mnt) >= outlen)
			goto bad;
		strcpy(out, mnt);
		return 0;
	}
	return -ENOENT;
bad:
	if (why)
		*why = "expected 'ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - FSTYPE ...' lines";
	return -EINVAL;
}
