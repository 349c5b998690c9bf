/* The two renderings of a check record: a human table and JSON, from the same data. */
#ifndef ANTIMETAL_EXPORT_CHECK_RENDER_H
#define ANTIMETAL_EXPORT_CHECK_RENDER_H

#include <stdbool.h>

#include "records/check.h"
#include "util/strbuf.h"

/* Append the table to B; VERBOSE adds the probe detail of every row, not only of failures. */
void am_check_render_text(const struct am_check_record *r, bool verbose, struct am_strbuf *b);

/* Append one JSON object (and a newline) to B. */
void am_check_render_json(const struct am_check_record *r, struct am_strbuf *b);

#endif
