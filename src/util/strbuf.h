/* Growable byte buffer used by every text renderer (JSON, Prometheus, folded). */
#ifndef ANTIMETAL_UTIL_STRBUF_H
#define ANTIMETAL_UTIL_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct am_strbuf {
	char *data; /* always NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
	bool oom; /* sticky: set when an allocation failed; the content is then truncated */
};

/* Append LEN bytes. */
void am_strbuf_append(struct am_strbuf *b, const void *data, size_t len);
/* Append a NUL-terminated string. */
void am_strbuf_puts(struct am_strbuf *b, const char *s);
/* Append one byte. */
void am_strbuf_putc(struct am_strbuf *b, char c);
/* Append printf-formatted text. */
void am_strbuf_printf(struct am_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Make room for EXTRA more bytes and a NUL after them (to fill through data + len, e.g. by
 * read(2)). Returns 0, or -1 with oom set. */
int am_strbuf_reserve(struct am_strbuf *b, size_t extra);
/* Empty the buffer, keeping its memory. */
void am_strbuf_reset(struct am_strbuf *b);
/* Release the memory. */
void am_strbuf_free(struct am_strbuf *b);

#endif
