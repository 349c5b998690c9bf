#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct am_strbuf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;
	char *p;

	if (b->oom)
		return -1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int am_strbuf_reserve(struct am_strbuf *b, size_t extra)
{
	return reserve(b, extra);
}

void am_strbuf_append(struct am_strbuf *b, const void *data, size_t len)
{
	if (reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void am_strbuf_puts(struct am_strbuf *b, const char *s)
{
	am_strbuf_append(b, s, strlen(s));
}

void am_strbuf_putc(struct am_strbuf *b, char c)
{
	if (b->len + 2 <= b->cap && !b->oom) { /* the common case: room for it and the NUL */
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return;
	}
	am_strbuf_append(b, &c, 1);
}

void am_strbuf_printf(struct am_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void am_strbuf_reset(struct am_strbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->data)
		b->data[0] = '\0';
}

void am_strbuf_free(struct am_strbuf *b)
{
	free(b->data);
	*b = (struct am_strbuf){0};
}
