/* OTLP logs: exec/exit records and kernel log records as ExportLogsServiceRequest payloads
 * (protobuf, optionally gzip'd). A batch packs each record as it is added, so its size in bytes
 * is known exactly (for the sender's queue bound and the batch cap) and nothing of the
 * collector's short-lived record is kept. Attributes follow the OpenTelemetry semantic
 * conventions for processes; arguments that are not UTF-8 travel as bytes, never altered. */
#ifndef ANTIMETAL_EXPORT_OTLP_LOGS_H
#define ANTIMETAL_EXPORT_OTLP_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp_resource.pb-c.h"
#include "records/exec_event.h"
#include "records/kmsg_event.h"
#include "util/strbuf.h"

/* The instrumentation scope every record is sent under. */
#define AM_OTLP_LOGS_SCOPE "antimetal-agent"

/* OTel SeverityNumber for syslog level LEVEL (0 emerg .. 7 debug): the logs data model's
 * Appendix B (emerg FATAL, alert ERROR3, crit ERROR2, err ERROR, warning WARN, notice INFO2,
 * info INFO, debug DEBUG); 0 (UNSPECIFIED) outside 0..7. */
int am_otlp_syslog_severity(int level);

struct am_otlp_logs {
	struct am_strbuf records; /* packed LogRecords, each framed as ScopeLogs field 2 */
	uint64_t nrecords;
	char *arena; /* NUL-terminated copies of one record's strings, while it is packed */
	size_t arena_cap;
};

/* Add exec or exit record R, observed by the agent at OBSERVED_NS (CLOCK_REALTIME). Returns 0
 * or -ENOMEM (the batch is unchanged). */
int am_otlp_logs_add_exec(struct am_otlp_logs *b, const struct am_exec_record *r,
			  uint64_t observed_ns);
/* Add kernel log record K, observed at OBSERVED_NS. Returns 0 or -ENOMEM (batch unchanged). */
int am_otlp_logs_add_kmsg(struct am_otlp_logs *b, const struct am_kmsg_event *k,
			  uint64_t observed_ns);
/* Bytes the batch's records take once encoded (before compression), framing included. */
size_t am_otlp_logs_bytes(const struct am_otlp_logs *b);
/* The batch as one ExportLogsServiceRequest under RES (NULL: none), gzip'd when GZIP, in a
 * malloc'd *OUT of *LEN bytes (the sender takes it). Returns 0 or -ENOMEM. The batch is left
 * as it was: am_otlp_logs_reset empties it. */
int am_otlp_logs_encode(const struct am_otlp_logs *b,
			const Opentelemetry__Proto__Resource__V1__Resource *res, bool gzip,
			void **out, size_t *len);
/* The sender's parse_response for /v1/logs: an ExportLogsServiceResponse's partial success
 * (rejected_log_records and its message). A body that does not decode rejects nothing. */
void am_otlp_logs_parse_response(const void *body, size_t len, uint64_t *rejected, char *msg,
				 size_t msglen);
/* Empty the batch, keeping its memory. */
void am_otlp_logs_reset(struct am_otlp_logs *b);
/* Release the memory. */
void am_otlp_logs_free(struct am_otlp_logs *b);

#endif
