/* Renderings of execsnoop records: a text table in the spirit of execsnoop, readable with
 * every hostile byte escaped, and JSON lines from which the exact bytes can be recovered. */
#ifndef ANTIMETAL_EXPORT_EXEC_RENDER_H
#define ANTIMETAL_EXPORT_EXEC_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records/exec_event.h"
#include "util/strbuf.h"

/* Append bytes as one shell word: bare when only safe characters, else '...' or bash's
 * $'...' with \n, \t, \xHH, \uHHHH escapes, so no byte is ambiguous or invisible. */
void am_shell_quote(struct am_strbuf *b, const void *data, size_t len);

/* The table's header line (TIME column when WITH_TIME). */
void am_exec_render_text_header(struct am_strbuf *b, bool with_time);
/* One table line for R, newline included. */
void am_exec_render_text(struct am_strbuf *b, const struct am_exec_record *r, bool with_time);

/* One JSON object for R, newline included. */
void am_exec_render_json(struct am_strbuf *b, const struct am_exec_record *r);
/* {"type":"stats",...}: counters at wall-clock REAL_NS; FINAL marks the one at exit. */
void am_exec_render_stats_json(struct am_strbuf *b, const struct am_execsnoop_stats *st,
			       uint64_t real_ns, bool final);

#endif
