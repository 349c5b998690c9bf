/* gzip decoding for tests that read what the agent compressed (pprof profiles, gzip'ed
 * /metrics responses). */
#ifndef ANTIMETAL_TESTS_GUNZIP_H
#define ANTIMETAL_TESTS_GUNZIP_H

#include <stddef.h>

#include "util/strbuf.h"

/* Inflate the gzip stream DATA[0..LEN) into OUT (NUL-terminated past OUT->len); a stream that
 * is not gzip fails the running test. */
void am_test_gunzip(const void *data, size_t len, struct am_strbuf *out);

#endif
