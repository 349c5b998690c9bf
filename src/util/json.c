#include "util/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t am_utf8_decode(const void *data, size_t n, unsigned *cp_out)
{
	const unsigned char *p = data;
	unsigned c = p[0];
	size_t len, i;
	unsigned cp;

	if (c < 0x80) {
		*cp_out = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	*cp_out = cp;
	return len;
}

static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned cp;

	return am_utf8_decode(p, n, &cp);
}

bool am_utf8_valid(const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		if (!n)
			return 0;
		i += n;
	}
	return 1;
}

/* Escape into a JSON string; invalid sequences become U+FFFD. */
static void put_escaped(struct am_strbuf *b, const unsigned char *p, size_t len)
{
	size_t i = 0, n;

	am_strbuf_putc(b, '"');
	while (i < len) {
		unsigned c = p[i];
		size_t run = i;

		/* Plain printable ASCII is copied in runs: this runs for every exec argument. */
		while (run < len && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' &&
		       p[run] != '\\')
			run++;
		if (run > i) {
			am_strbuf_append(b, p + i, run - i);
			i = run;
			continue;
		}
		n = utf8_seq_len(p + i, len - i);
		if (!n) {
			am_strbuf_puts(b, "\\ufffd");
			i++;
			continue;
		}
		if (n > 1) {
			am_strbuf_append(b, p + i, n);
		} else if (c == '"' || c == '\\') {
			am_strbuf_putc(b, '\\');
			am_strbuf_putc(b, (char)c);
		} else if (c == '\n') {
			am_strbuf_puts(b, "\\n");
		} else if (c == '\t') {
			am_strbuf_puts(b, "\\t");
		} else if (c == '\r') {
			am_strbuf_puts(b, "\\r");
		} else if (c < 0x20 || c == 0x7f) {
			am_strbuf_printf(b, "\\u%04x", c);
		} else {
			am_strbuf_putc(b, (char)c);
		}
		i += n;
	}
	am_strbuf_putc(b, '"');
}

void am_json_str(struct am_strbuf *b, const char *s)
{
	if (!s) {
		am_strbuf_puts(b, "null");
		return;
	}
	put_escaped(b, (const unsigned char *)s, strlen(s));
}

void am_json_bytes(struct am_strbuf *b, const void *data, size_t len)
{
	if (am_utf8_valid(data, len) && !memchr(data, '\0', len)) {
		put_escaped(b, data, len);
		return;
	}
	am_strbuf_puts(b, "{\"base64\":\"");
	am_base64(b, data, len);
	am_strbuf_puts(b, "\"}");
}

void am_json_key(struct am_strbuf *b, const char *key, bool first)
{
	if (!first)
		am_strbuf_putc(b, ',');
	am_json_str(b, key);
	am_strbuf_putc(b, ':');
}

void am_json_kv_str(struct am_strbuf *b, const char *key, const char *val, bool first)
{
	am_json_key(b, key, first);
	am_json_str(b, val);
}

void am_json_kv_u64(struct am_strbuf *b, const char *key, uint64_t val, bool first)
{
	am_json_key(b, key, first);
	am_strbuf_printf(b, "%llu", (unsigned long long)val);
}

void am_json_kv_bool(struct am_strbuf *b, const char *key, bool val, bool first)
{
	am_json_key(b, key, first);
	am_strbuf_puts(b, val ? "true" : "false");
}

void am_json_kv_double(struct am_strbuf *b, const char *key, double val, bool first)
{
	am_json_key(b, key, first);
	if (!isfinite(val))
		am_strbuf_puts(b, "null");
	else
		am_strbuf_printf(b, "%.17g", val);
}

void am_base64(struct am_strbuf *b, const void *data, size_t len)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		char out[4] = {tbl[p[i] >> 2], tbl[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
			       tbl[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)], tbl[p[i + 2] & 63]};
		am_strbuf_append(b, out, 4);
	}
	if (len - i == 1) {
		char out[4] = {tbl[p[i] >> 2], tbl[(p[i] & 3) << 4], '=', '='};
		am_strbuf_append(b, out, 4);
	} else if (len - i == 2) {
		char out[4] = {tbl[p[i] >> 2], tbl[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
			       tbl[(p[i + 1] & 15) << 2], '='};
		am_strbuf_append(b, out, 4);
	}
}
