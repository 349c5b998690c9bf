/* Parser of one /proc/pressure file (PSI) (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

static int psi_line(const char *p, double avg[3], uint64_t *total)
{
	static const char *const keys[4] = {"avg10=", "avg60=", "avg300=", "total="};
	int i;

	for (i = 0; i < 4; i++) {
		p = am_skip_blank(p);
		if (strncmp(p, keys[i], strlen(keys[i])))
			return -EINVAL;
		p += strlen(keys[i]);
		if (i < 3 ? am_parse_fixed(&p, &avg[i]) : am_parse_u64(&p, total))
			return -EINVAL;
	}
	return am_at_eol(p) ? 0 : -EINVAL;
}

int am_parse_psi(const char *text, struct am_psi *out, const char **why)
{
	struct am_psi r = {0};
	const char *line;

	for (line = text; line && *line; line = am_next_line(line)) {
		if (am_at_eol(line))
			continue;
		if (!strncmp(line, "some ", 5) && !r.has_some &&
		    !psi_line(line + 5, r.some_avg, &r.some_total_us))
			r.has_some = 1;
		else if (!strncmp(line, "full ", 5) && !r.has_full &&
			 !psi_line(line + 5, r.full_avg, &r.full_total_us))
			r.has_full = 1;
		else
			goto bad;
	}
	if (!r.has_some)
		goto bad;
	*out = r;
	return 0;
bad:
	if (why)
		*why = "expected 'some|full avg10=X avg60=X avg300=X total=N' lines";
	return -EINVAL;
}
