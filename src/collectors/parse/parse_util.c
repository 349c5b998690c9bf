#include "collectors/parse/parse_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *am_skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int am_parse_u64(const char **p, uint64_t *v)
{
	const char *s = am_skip_blank(*p);
	uint64_t x = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*v = x;
	*p = s;
	return 0;
}

int am_parse_i64(const char **p, int64_t *v)
{
	const char *s = am_skip_blank(*p);
	int neg = *s == '-';
	uint64_t x;

	if (neg)
		s++;
	if (am_parse_u64(&s, &x) || x > (uint64_t)INT64_MAX)
		return -EINVAL;
	*v = neg ? -(int64_t)x : (int64_t)x;
	*p = s;
	return 0;
}

int am_parse_fixed(const char **p, double *v)
{
	const char *s = am_skip_blank(*p), *q = s;
	char tmp[64];
	size_t n;

	/* Validate the shape ourselves, then let strtod round correctly ("0.36" must be the
	 * double nearest 0.36, not 0 + 3/10 + 6/100). */
	while (*q >= '0' && *q <= '9')
		q++;
	if (q == s)
		return -EINVAL;
	if (*q == '.') {
		if (q[1] < '0' || q[1] > '9')
			return -EINVAL;
		for (q++; *q >= '0' && *q <= '9'; q++)
			;
	}
	n = (size_t)(q - s);
	if (n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*v = strtod(tmp, NULL);
	*p = q;
	return 0;
}

size_t am_next_token(const char **p, char *out, size_t outlen)
{
	const char *s = am_skip_blank(*p), *start = s;
	size_t n;

	while (*s && *s != ' ' && *s != '\t' && *s != '\n')
		s++;
	n = (size_t)(s - start);
	if (outlen) {
		size_t c = n < outlen - 1 ? n : outlen - 1;

		memcpy(out, start, c);
		out[c] = '\0';
	}
	*p = s;
	return n;
}

const char *am_next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl && nl[1] ? nl + 1 : NULL;
}

int am_at_eol(const char *p)
{
	p = am_skip_blank(p);
	return *p == '\0' || *p == '\n';
}

const char *am_line_label(const char *line, char *label, size_t len)
{
	const char *c = line;

	while (*c && *c != ':' && *c != ' ' && *c != '\n')
		c++;
	if (*c != ':' || c == line || (size_t)(c - line) >= len)
		return NULL;
	memcpy(label, line, (size_t)(c - line));
	label[c - line] = '\0';
	return c + 1;
}

int am_parse_fail(const char **why, const char *msg, struct am_metric_set *out, size_t mark)
{
	if (why)
		*why = msg;
	am_metric_set_truncate(out, mark);
	return -EINVAL;
}
