#include "agent/otlp_sender.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_lines(char **lines, size_t n)
{
	while (n)
		free(lines[--n]);
	free(lines);
}

/* "Name: value" lines for libcurl from otlp.headers ("k=v,k2=v2", checked when it was set). */
static int header_lines(const char *spec, char ***out, size_t *n, char *err, size_t errlen)
{
	struct am_otel_kvs kvs = {0};
	char why[256], **lines;
	size_t want;
	int rc;

	*out = NULL;
	*n = 0;
	rc = am_otel_kv_parse(spec, &kvs, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "otlp.headers: %s", why);
		return rc;
	}
	want = kvs.n;
	lines = calloc(want ? want : 1, sizeof(*lines));
	for (; lines && *n < want; (*n)++)
		if (asprintf(&lines[*n], "%s: %s", kvs.items[*n].key, kvs.items[*n].value) < 0)
			break;
	/* It zeroes KVS: the count to check against is WANT. */
	am_otel_kvs_free(&kvs);
	if (!lines || *n < want) {
		free_lines(lines, *n);
		*n = 0;
		snprintf(err, errlen, "otlp.headers: out of memory");
		return -ENOMEM;
	}
	*out = lines;
	return 0;
}

int am_otlp_sender_new(const struct am_otlp_config *o, enum am_otlp_signal signal, const char *name,
		       void (*parse)(const void *, size_t, uint64_t *, char *, size_t),
		       struct am_sender **out, char *err, size_t errlen)
{
	struct am_sender_config sc = {0};
	char url[AM_OTLP_URL_MAX + 16], **lines;
	size_t n;
	int rc;

	if (am_otlp_signal_url(o, signal, url, sizeof(url))) {
		snprintf(err, errlen, "%s: the URL is too long",
			 signal == AM_OTLP_LOGS ? "otlp.logs_endpoint" : "otlp.metrics_endpoint");
		return -ENAMETOOLONG;
	}
	rc = header_lines(o->headers, &lines, &n, err, errlen);
	if (rc)
		return rc;
	sc.name = name;
	sc.url = url;
	sc.content_type = "application/x-protobuf";
	sc.content_encoding = strcmp(o->compression, "gzip") ? NULL : "gzip";
	sc.headers = (const char *const *)lines;
	sc.nheaders = n;
	sc.timeout_ms = (uint32_t)o->timeout_ms;
	sc.queue_max_bytes = (size_t)o->queue_bytes;
	sc.initial_backoff_ms = (uint32_t)o->retry_initial_backoff_ms;
	sc.max_backoff_ms = (uint32_t)o->retry_max_backoff_ms;
	sc.max_elapsed_ms = (uint32_t)o->retry_max_elapsed_ms;
	sc.ca_file = o->certificate[0] ? o->certificate : NULL;
	sc.client_cert = o->client_certificate[0] ? o->client_certificate : NULL;
	sc.client_key = o->client_key[0] ? o->client_key : NULL;
	sc.parse_response = parse;
	rc = am_sender_new(&sc, out, err, errlen);
	free_lines(lines, n);
	return rc;
}
