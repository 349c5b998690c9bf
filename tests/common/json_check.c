#include "json_check.h"

#include <string.h>

#include "util/json.h"

struct cur {
	const char *p, *end;
	int depth;
};

static void ws(struct cur *c)
{
	while (c->p < c->end && strchr(" \t\r\n", *c->p) && *c->p)
		c->p++;
}

static int lit(struct cur *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
		return 0;
	c->p += n;
	return 1;
}

static int hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static int string(struct cur *c)
{
	const char *start;

	if (c->p >= c->end || *c->p != '"')
		return 0;
	start = ++c->p;
	while (c->p < c->end && *c->p != '"') {
		unsigned char ch = (unsigned char)*c->p;

		if (ch < 0x20)
			return 0;
		if (ch == '\\') {
			if (++c->p >= c->end)
				return 0;
			if (*c->p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (c->p + i >= c->end || !hex(c->p[i]))
						return 0;
				c->p += 4;
			} else if (!strchr("\"\\/bfnrt", *c->p) || !*c->p) {
				return 0;
			}
		}
		c->p++;
	}
	if (c->p >= c->end || !am_utf8_valid(start, (size_t)(c->p - start)))
		return 0;
	c->p++;
	return 1;
}

static int digits(struct cur *c)
{
	const char *s = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > s;
}

static int number(struct cur *c)
{
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (!digits(c))
		return 0;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!digits(c))
			return 0;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!digits(c))
			return 0;
	}
	return 1;
}

static int value(struct cur *c);

static int container(struct cur *c, char close, int object)
{
	c->p++;
	if (++c->depth > 256)
		return 0;
	ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		c->depth--;
		return 1;
	}
	for (;;) {
		if (object) {
			if (!string(c))
				return 0;
			ws(c);
			if (c->p >= c->end || *c->p++ != ':')
				return 0;
		}
		if (!value(c))
			return 0;
		ws(c);
		if (c->p >= c->end)
			return 0;
		if (*c->p == close) {
			c->p++;
			c->depth--;
			return 1;
		}
		if (*c->p++ != ',')
			return 0;
		ws(c);
	}
}

static int value(struct cur *c)
{
	ws(c);
	if (c->p >= c->end)
		return 0;
	switch (*c->p) {
	case '{':
		return container(c, '}', 1);
	case '[':
		return container(c, ']', 0);
	case '"':
		return string(c);
	case 't':
		return lit(c, "true");
	case 'f':
		return lit(c, "false");
	case 'n':
		return lit(c, "null");
	default:
		return number(c);
	}
}

int am_test_json_valid(const char *s, size_t len)
{
	struct cur c = {s, s + len, 0};

	if (!value(&c))
		return 0;
	ws(&c);
	return c.p == c.end;
}
