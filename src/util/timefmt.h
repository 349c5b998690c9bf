/* Timestamps as text, shared by every renderer so the same instant always reads the same. */
#ifndef ANTIMETAL_UTIL_TIMEFMT_H
#define ANTIMETAL_UTIL_TIMEFMT_H

#include <stdint.h>

#include "util/strbuf.h"

/* Append "2026-11-25T13:24:16.123456789Z" (UTC) for REAL_NS since the epoch. */
void am_rfc3339_ns(struct am_strbuf *b, uint64_t real_ns);

#endif
