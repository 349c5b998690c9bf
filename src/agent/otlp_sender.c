#include "agent/otlp_sender.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "export/http_headers.h"

/* The key a SIGNAL's setting came from, for messages: its own when set, else the general. */
static const char *key_of(const struct am_otlp_config *o, enum am_otlp_signal signal,
			  const char *what, char *buf, size_t len)
{
	const struct am_otlp_signal_config *own =
	    signal == AM_OTLP_METRICS ? &o->metrics_signal : &o->logs_signal;

	if (!strcmp(what, "headers") && !own->headers[0])
		return "otlp.headers";
	snprintf(buf, len, "otlp.%s_%s", signal == AM_OTLP_METRICS ? "metrics" : "logs", what);
	return buf;
}

int am_otlp_sender_new(const struct am_otlp_config *o, enum am_otlp_signal signal, const char *name,
		       void (*parse)(const void *, size_t, uint64_t *, char *, size_t),
		       struct am_sender **out, char *err, size_t errlen)
{
	struct am_sender_config sc = {0};
	struct am_otlp_signal_settings set;
	struct am_http_headers h = {0};
	char why[256], key[48];
	int rc;

	if (am_otlp_signal_settings(o, signal, &set)) {
		snprintf(err, errlen, "%s: the URL is too long",
			 key_of(o, signal, "endpoint", key, sizeof(key)));
		return -ENAMETOOLONG;
	}
	/* Checked when the key was set; built here by the same code. */
	rc = am_otel_headers_build(set.headers, NULL, &h, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s: %s", key_of(o, signal, "headers", key, sizeof(key)),
			 why);
		am_http_headers_free(&h);
		return rc;
	}
	sc.name = name;
	sc.url = set.url;
	sc.content_type = "application/x-protobuf";
	/* The encoders gzip the body when set.gzip (export/otlp_body.h); this only labels it. */
	sc.content_encoding = set.gzip ? "gzip" : NULL;
	sc.headers = (const char *const *)h.lines;
	sc.nheaders = h.n;
	sc.timeout_ms = (uint32_t)set.timeout_ms;
	sc.queue_max_bytes = (size_t)o->queue_bytes;
	sc.initial_backoff_ms = (uint32_t)o->retry_initial_backoff_ms;
	sc.max_backoff_ms = (uint32_t)o->retry_max_backoff_ms;
	sc.max_elapsed_ms = (uint32_t)o->retry_max_elapsed_ms;
	sc.ca_file = set.certificate[0] ? set.certificate : NULL;
	sc.client_cert = set.client_certificate[0] ? set.client_certificate : NULL;
	sc.client_key = set.client_key[0] ? set.client_key : NULL;
	sc.parse_response = parse;
	rc = am_sender_new(&sc, out, err, errlen);
	am_http_headers_free(&h);
	return rc;
}
