/* gzip compression (zlib) of a buffer in memory: pprof files and compressed HTTP bodies. */
#ifndef ANTIMETAL_UTIL_GZIP_H
#define ANTIMETAL_UTIL_GZIP_H

#include <stddef.h>

#include "util/strbuf.h"

/* Gzip LEN bytes of DATA onto OUT (one gzip member). Returns 0 or -errno. */
int am_gzip(const void *data, size_t len, struct am_strbuf *out);

#endif
