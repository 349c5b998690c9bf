#include "util/timefmt.h"

#include <time.h>

/* V as exactly N decimal digits at P; returns the end. */
static char *digits(char *p, unsigned v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

void am_rfc3339_ns(struct am_strbuf *b, uint64_t real_ns)
{
	time_t t = (time_t)(real_ns / 1000000000ull);
	char out[40], *p = out;
	struct tm tm;

	/* Without printf: this runs for every record. */
	gmtime_r(&t, &tm);
	p = digits(p, (unsigned)tm.tm_year + 1900, 4);
	*p++ = '-';
	p = digits(p, (unsigned)tm.tm_mon + 1, 2);
	*p++ = '-';
	p = digits(p, (unsigned)tm.tm_mday, 2);
	*p++ = 'T';
	p = digits(p, (unsigned)tm.tm_hour, 2);
	*p++ = ':';
	p = digits(p, (unsigned)tm.tm_min, 2);
	*p++ = ':';
	p = digits(p, (unsigned)tm.tm_sec, 2);
	*p++ = '.';
	p = digits(p, (unsigned)(real_ns % 1000000000ull), 9);
	*p++ = 'Z';
	am_strbuf_append(b, out, (size_t)(p - out));
}
