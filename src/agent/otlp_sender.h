/* The sender of one OTLP signal, configured from otlp.* (OTEL_EXPORTER_OTLP_*): the signal's
 * URL, headers, compression, timeout, retry timing, certificates and queue bound, the same for
 * metrics and logs. */
#ifndef ANTIMETAL_AGENT_OTLP_SENDER_H
#define ANTIMETAL_AGENT_OTLP_SENDER_H

#include <stddef.h>

#include "agent/config.h"
#include "agent/otel_env.h"
#include "export/sender.h"

/* A sender named NAME for SIGNAL, answers read by PARSE. Returns 0, or -errno with the reason
 * in ERR naming the key at fault. */
int am_otlp_sender_new(const struct am_otlp_config *o, enum am_otlp_signal signal, const char *name,
		       void (*parse)(const void *, size_t, uint64_t *, char *, size_t),
		       struct am_sender **out, char *err, size_t errlen);

#endif
