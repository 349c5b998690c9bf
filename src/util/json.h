/* Minimal JSON writer onto an am_strbuf. Callers place commas through the FIRST argument of
 * am_json_key and the am_json_kv_* writers (false: a comma goes first); values are always valid
 * JSON whatever bytes they are given. */
#ifndef ANTIMETAL_UTIL_JSON_H
#define ANTIMETAL_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

/* Length of the well-formed UTF-8 sequence at DATA (N bytes left, N > 0) with its code point in
 * *CP, or 0 when there is none. */
size_t am_utf8_decode(const void *data, size_t n, unsigned *cp);
/* Whether DATA[0..LEN) is well-formed UTF-8 (no overlongs, no surrogates). */
bool am_utf8_valid(const void *data, size_t len);

/* A JSON string of text that is known to be UTF-8 (names, messages); invalid bytes become
 * U+FFFD so the output stays valid. */
void am_json_str(struct am_strbuf *b, const char *s);
/* Bytes from an untrusted source (process arguments, file names), losslessly: a JSON string
 * when they are valid UTF-8 without NUL, else {"base64":"..."} carrying the exact bytes. */
void am_json_bytes(struct am_strbuf *b, const void *data, size_t len);
/* "key": with the comma before it when FIRST is false. */
void am_json_key(struct am_strbuf *b, const char *key, bool first);
void am_json_kv_str(struct am_strbuf *b, const char *key, const char *val, bool first);
void am_json_kv_u64(struct am_strbuf *b, const char *key, uint64_t val, bool first);
void am_json_kv_bool(struct am_strbuf *b, const char *key, bool val, bool first);
/* Finite doubles print with full precision; NaN and infinities become null. */
void am_json_kv_double(struct am_strbuf *b, const char *key, double val, bool first);

/* Standard base64 of DATA (RFC 4648, padded). */
void am_base64(struct am_strbuf *b, const void *data, size_t len);

#endif
