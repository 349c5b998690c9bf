/* Decoding OTLP payloads with the decoders npm's @opentelemetry/otlp-transformer generated from
 * the official protos (tests/tools/otlp_decode.js, otlp_logs_decode.js, run by node). */
#ifndef ANTIMETAL_TESTS_OTLP_DECODE_H
#define ANTIMETAL_TESTS_OTLP_DECODE_H

#include <stddef.h>

#include "util/strbuf.h"

/* Skip the test unless node and tests/tools/otlp/node_modules are installed. */
void am_test_require_otlp_decoder(void);

/* Write BUF to a file and run node SCRIPT [MODE] FILE on it (MODE NULL: none), asserting it
 * succeeds; its stdout in OUT. */
void am_test_otlp_decode(const char *script, const char *mode, const void *buf, size_t len,
			 struct am_strbuf *out);

#endif
