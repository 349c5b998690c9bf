/* The body of an OTLP/HTTP request, shared by the metrics and logs encoders: the one place
 * where a body is gzip'd (OTEL_EXPORTER_OTLP_COMPRESSION=gzip), so what the sender queues is
 * what goes on the wire and its queue bound counts wire bytes. */
#ifndef ANTIMETAL_EXPORT_OTLP_BODY_H
#define ANTIMETAL_EXPORT_OTLP_BODY_H

#include <stdbool.h>
#include <stddef.h>

/* Take the encoded message BUF (malloc'd, LEN bytes; freed here in every case) and give the
 * body into *OUT (malloc'd, *OUTLEN bytes): BUF itself, or its gzip when GZIP. Returns 0 or
 * -ENOMEM (nothing to free). */
int am_otlp_body_finish(void *buf, size_t len, bool gzip, void **out, size_t *outlen);

#endif
