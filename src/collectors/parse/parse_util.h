/* Tokenising helpers for the /proc text parsers: no allocation, never read past the NUL. */
#ifndef ANTIMETAL_COLLECTORS_PARSE_UTIL_H
#define ANTIMETAL_COLLECTORS_PARSE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "records/metric.h"

/* Skip spaces and tabs (not newlines). */
const char *am_skip_blank(const char *p);
/* Parse an unsigned decimal at *P (after blanks); advance *P. Returns 0 or -EINVAL (no
 * digits, or a value over 64 bits). */
int am_parse_u64(const char **p, uint64_t *v);
/* Parse a signed decimal like am_parse_u64. */
int am_parse_i64(const char **p, int64_t *v);
/* Parse a non-negative decimal fraction ("0.43", "12") at *P; advance *P. */
int am_parse_fixed(const char **p, double *v);
/* Copy the next blank-delimited token (at most OUTLEN-1 bytes) into OUT and advance *P.
 * Returns the token length, 0 at end of line. */
size_t am_next_token(const char **p, char *out, size_t outlen);
/* Return the start of the line after P's line, or NULL at the end of the text. */
const char *am_next_line(const char *p);
/* Nonzero when P (after blanks) is at the end of the line or text. */
int am_at_eol(const char *p);

/* "Proto: ..." (the label of a /proc/net line): copy the label before the colon into LABEL
 * (LEN bytes with its NUL) and return the text after the colon; NULL when LINE has no label. */
const char *am_line_label(const char *line, char *label, size_t len);

/* The parsers' one way to reject input: set *WHY (when not NULL) to MSG, drop what OUT gained
 * since MARK, and return -EINVAL. */
int am_parse_fail(const char **why, const char *msg, struct am_metric_set *out, size_t mark);

#endif
