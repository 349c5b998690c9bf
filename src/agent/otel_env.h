/* The OpenTelemetry side of the configuration: the standard OTEL_* environment variables mapped
 * onto the otlp.* keys, and the parsers both share (URLs, "k=v,k2=v2" lists with
 * percent-encoded values, certificate files, protocols).
 *
 * Precedence, lowest first: the defaults, the OTEL_* variables, the configuration file, the
 * flags (--set otlp.KEY=VALUE). A signal's own setting (OTEL_EXPORTER_OTLP_METRICS_HEADERS or
 * otlp.metrics_headers; _ENDPOINT, _HEADERS, _COMPRESSION, _TIMEOUT, _CERTIFICATE,
 * _CLIENT_CERTIFICATE and _CLIENT_KEY, for METRICS and LOGS), from whichever of those it came,
 * beats the general one (OTEL_EXPORTER_OTLP_HEADERS or otlp.headers), as the OpenTelemetry
 * specification says; an environment variable set to the empty string counts as unset, as the
 * specification says. */
#ifndef ANTIMETAL_AGENT_OTEL_ENV_H
#define ANTIMETAL_AGENT_OTEL_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "export/http_headers.h"

/* The OTLP/HTTP default when a signal is switched on with no endpoint (the spec's default). */
#define AM_OTLP_DEFAULT_ENDPOINT "http://localhost:4318"

enum am_otlp_signal { AM_OTLP_METRICS, AM_OTLP_LOGS };

struct am_otel_kv {
	char *key, *value; /* value percent-decoded */
};
struct am_otel_kvs {
	struct am_otel_kv *items;
	size_t n;
};

/* Apply the OTEL_* variables of ENVP (NULL-terminated "NAME=value", like environ) onto C.
 * Returns 0, or -EINVAL with "VARIABLE: reason" in ERR. */
int am_otel_env_apply(struct am_config *c, char *const *envp, char *err, size_t errlen);

/* Parse "k=v,k2=v2" (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES): items split at
 * commas, keys and values trimmed, values percent-decoded; empty items are skipped. An item
 * without '=', an empty key, a bad %XX or a value that decodes to a control character is
 * -EINVAL with the reason in WHY. *OUT is freed with am_otel_kvs_free. */
int am_otel_kv_parse(const char *s, struct am_otel_kvs *out, char *why, size_t whylen);
void am_otel_kvs_free(struct am_otel_kvs *kvs);
/* am_otel_kv_parse, the result thrown away: 0 or -EINVAL with the reason in WHY. */
int am_otel_kv_check(const char *s, char *why, size_t whylen);
/* The "Name=value,..." SPEC (OTEL_EXPORTER_OTLP_HEADERS' form, parsed as above) appended to H
 * as header lines, each checked by export/http_headers.h with RESERVED the protocol's own
 * (NULL: none beyond HTTP's). Returns 0, or -EINVAL or -ENOMEM with the reason in WHY (no
 * value quoted: they may be secrets); H then holds what came before the fault. */
int am_otel_headers_build(const char *spec, const char *const *reserved, struct am_http_headers *h,
			  char *why, size_t whylen);
/* am_otel_headers_build for OTLP, the result thrown away: 0 or -errno with the reason. */
int am_otel_headers_check(const char *spec, char *why, size_t whylen);
/* An absolute http:// or https:// URL with a host (parsed by libcurl). */
int am_otel_url_check(const char *url, char *why, size_t whylen);
/* A regular file this process can open and read. */
int am_otel_file_check(const char *path, char *why, size_t whylen);
/* The reason V is none of CHOICES (NULL-terminated); grpc and http/json are named as protocols
 * this agent does not implement. */
void am_otel_choice_error(const char *const *choices, const char *v, char *why, size_t whylen);

/* Whether SIGNAL is exported under O: on when asked (true), or when asked "auto" and an
 * endpoint is configured. */
bool am_otlp_signal_enabled(const struct am_otlp_config *o, enum am_otlp_signal signal);
/* The URL SIGNAL is sent to: its own endpoint as is, else the general endpoint (else the
 * default) with /v1/metrics or /v1/logs appended. Returns 0 or -ENAMETOOLONG. */
int am_otlp_signal_url(const struct am_otlp_config *o, enum am_otlp_signal signal, char *out,
		       size_t outlen);

/* What one signal is sent with: its own setting where it has one, else the general one. The
 * strings point into the configuration. */
struct am_otlp_signal_settings {
	char url[AM_OTLP_URL_MAX + 16];
	const char *headers; /* "k=v,..." */
	bool gzip;
	uint64_t timeout_ms;
	const char *certificate, *client_certificate, *client_key; /* "": none */
};
/* SIGNAL's settings under O into OUT. Returns 0 or -ENAMETOOLONG (the URL). */
int am_otlp_signal_settings(const struct am_otlp_config *o, enum am_otlp_signal signal,
			    struct am_otlp_signal_settings *out);

#endif
