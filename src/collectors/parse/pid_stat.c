/* Parser of /proc/PID/stat (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

int am_parse_pid_stat(const char *text, struct am_pid_stat *out, const char **why)
{
	struct am_pid_stat r = {0};
	const char *p = text, *open, *close;
	uint64_t pid, skip;
	int64_t rss;
	size_t n, i;
	int field;

	if (am_parse_u64(&p, &pid) || pid == 0 || pid > 0x7fffffff)
		goto bad;
	open = am_skip_blank(p);
	/* comm may itself hold ')' and spaces: it ends at the last ')'. */
	close = strrchr(open, ')');
	if (*open != '(' || !close)
		goto bad;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(r.comm))
		n = sizeof(r.comm) - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)open[1 + i];

		r.comm[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	r.comm[n] = '\0';
	p = am_skip_blank(close + 1);
	if (!isalpha((unsigned char)*p))
		goto bad;
	r.state = *p++;
	if (*p != ' ')
		goto bad;
	for (field = 4; field <= 24; field++) {
		uint64_t *dst = field == 14   ? &r.utime
				: field == 15 ? &r.stime
				: field == 20 ? &r.num_threads
				: field == 22 ? &r.starttime
					      : &skip;
		int64_t sv;

		if (field == 24) {
			if (am_parse_i64(&p, &rss))
				goto bad;
			r.rss_pages = rss;
		} else if (am_parse_u64(&p, dst)) {
			/* Some fields are signed (tty_nr, priority, nice, cutime...). */
			if (dst != &skip || am_parse_i64(&p, &sv))
				goto bad;
		}
	}
	r.pid = (int)pid;
	*out = r;
	return 0;
bad:
	if (why)
		*why = "expected 'PID (COMM) STATE' and at least 24 numeric fields";
	return -EINVAL;
}
