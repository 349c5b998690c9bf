#include "agent/otel_env.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/file.h"

/* How a variable's text becomes a key's: as is, milliseconds (the spec's unit) into a
 * duration, or an exporter name (otlp, none) into a boolean. */
enum conv { C_ASIS, C_MS, C_EXPORTER, C_DISABLED };

/* A signal's own variables, as the specification lists them, onto its otlp.<signal>_* keys. */
#define SIGNAL_VARS(S, s)                                                                          \
	{"OTEL_EXPORTER_OTLP_" S "_ENDPOINT", "otlp." s "_endpoint", C_ASIS},                      \
	    {"OTEL_EXPORTER_OTLP_" S "_HEADERS", "otlp." s "_headers", C_ASIS},                    \
	    {"OTEL_EXPORTER_OTLP_" S "_COMPRESSION", "otlp." s "_compression", C_ASIS},            \
	    {"OTEL_EXPORTER_OTLP_" S "_TIMEOUT", "otlp." s "_timeout", C_MS},                      \
	    {"OTEL_EXPORTER_OTLP_" S "_CERTIFICATE", "otlp." s "_certificate", C_ASIS},            \
	    {"OTEL_EXPORTER_OTLP_" S "_CLIENT_CERTIFICATE", "otlp." s "_client_certificate",       \
	     C_ASIS},                                                                              \
	{                                                                                          \
		"OTEL_EXPORTER_OTLP_" S "_CLIENT_KEY", "otlp." s "_client_key", C_ASIS             \
	}

static const struct {
	const char *var, *key;
	enum conv conv;
} vars[] = {
    {"OTEL_EXPORTER_OTLP_ENDPOINT", "otlp.endpoint", C_ASIS},
    SIGNAL_VARS("METRICS", "metrics"),
    SIGNAL_VARS("LOGS", "logs"),
    {"OTEL_EXPORTER_OTLP_HEADERS", "otlp.headers", C_ASIS},
    {"OTEL_EXPORTER_OTLP_COMPRESSION", "otlp.compression", C_ASIS},
    {"OTEL_EXPORTER_OTLP_TIMEOUT", "otlp.timeout", C_MS},
    {"OTEL_EXPORTER_OTLP_CERTIFICATE", "otlp.certificate", C_ASIS},
    {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "otlp.client_certificate", C_ASIS},
    {"OTEL_EXPORTER_OTLP_CLIENT_KEY", "otlp.client_key", C_ASIS},
    {"OTEL_EXPORTER_OTLP_PROTOCOL", "otlp.protocol", C_ASIS},
    {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "otlp.protocol", C_ASIS},
    {"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "otlp.protocol", C_ASIS},
    {"OTEL_SERVICE_NAME", "otlp.service_name", C_ASIS},
    {"OTEL_RESOURCE_ATTRIBUTES", "otlp.resource_attributes", C_ASIS},
    {"OTEL_METRICS_EXPORTER", "otlp.metrics", C_EXPORTER},
    {"OTEL_LOGS_EXPORTER", "otlp.logs", C_EXPORTER},
    {"OTEL_METRIC_EXPORT_INTERVAL", "otlp.metrics_interval", C_MS},
    {"OTEL_BLRP_SCHEDULE_DELAY", "otlp.logs_delay", C_MS},
    {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "otlp.logs_batch_size", C_ASIS},
    {"OTEL_SDK_DISABLED", NULL, C_DISABLED},
};

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int errf(char *err, size_t errlen, const char *var, const char *v, const char *what)
{
	snprintf(err, errlen, "%s: '%s' is not %s", var, v, what);
	return -EINVAL;
}

/* One variable's value V into its key. */
static int apply(struct am_config *c, size_t i, const char *v, char *err, size_t errlen)
{
	char buf[64];
	char *end;
	unsigned long long ms;

	switch (vars[i].conv) {
	case C_ASIS:
		break;
	case C_MS:
		errno = 0;
		ms = strtoull(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end || errno)
			return errf(err, errlen, vars[i].var, v, "a number of milliseconds");
		snprintf(buf, sizeof(buf), "%llums", ms);
		v = buf;
		break;
	case C_EXPORTER:
		if (strcmp(v, "otlp") && strcmp(v, "none"))
			return errf(err, errlen, vars[i].var, v,
				    "supported: this agent exports otlp or none");
		v = strcmp(v, "otlp") ? "false" : "true";
		break;
	case C_DISABLED:
		if (!strcasecmp(v, "true"))
			c->otlp.metrics = c->otlp.logs = 0;
		else if (strcasecmp(v, "false"))
			return errf(err, errlen, vars[i].var, v, "true or false");
		return 0;
	}
	return am_config_set_named(c, vars[i].key, v, vars[i].var, err, errlen);
}

int am_otel_env_apply(struct am_config *c, char *const *envp, char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = env_get(envp, vars[i].var);

		if (!v || !*v)
			continue;
		rc = apply(c, i, v, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- parsers ---- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* S[0..N) trimmed of blanks into a new string, percent-decoded when DECODE. */
static char *take(const char *s, size_t n, bool decode, char *why, size_t whylen)
{
	char *out, *o;
	size_t i;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	out = o = malloc(n + 1);
	if (!out) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		int hi, lo;

		if (!decode || s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		hi = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			snprintf(why, whylen, "bad percent-encoding at '%.*s' (expected %%XX)",
				 (int)(n - i < 3 ? n - i : 3), s + i);
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

static bool has_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Whether S[0..N) holds a %00, which C strings cannot carry. */
static bool decoded_nul(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i++)
		if (s[i] == '%' && s[i + 1] == '0' && s[i + 2] == '0')
			return true;
	return false;
}

static int kv_item(const char *item, size_t len, struct am_otel_kv *kv, char *why, size_t whylen)
{
	const char *eq = memchr(item, '=', len);
	size_t vlen;

	if (!eq) {
		/* "Authorization: Bearer T" is a likely mistake: the quote stops before a secret
		 * at the header name's colon; any other word longer than 12 bytes (a token pasted
		 * alone) is not quoted at all. */
		size_t shown = strcspn(item, ": \t");

		shown = shown < len ? shown : len;
		if (shown > 12 && !(shown < len && item[shown] == ':'))
			snprintf(why, whylen,
				 "an item of %zu bytes is not key=value (not shown: it may be a "
				 "credential)",
				 len);
		else
			snprintf(why, whylen, "'%.*s%s' is not key=value", (int)shown, item,
				 shown < len ? "..." : "");
		return -EINVAL;
	}
	kv->key = take(item, (size_t)(eq - item), false, why, whylen);
	if (!kv->key)
		return -EINVAL;
	if (!*kv->key) {
		snprintf(why, whylen, "an item has an empty key (its value not shown)");
		return -EINVAL;
	}
	kv->value = take(eq + 1, len - (size_t)(eq + 1 - item), true, why, whylen);
	if (!kv->value)
		return -EINVAL;
	vlen = strlen(kv->value);
	/* CR or LF would split a header; %00 would cut the value short where C reads it. The
	 * value may be a credential (a header's): the message names the key only. */
	if (has_control(kv->key, strlen(kv->key))) {
		snprintf(why, whylen, "a key has a control character");
		return -EINVAL;
	}
	if (has_control(kv->value, vlen) || decoded_nul(eq + 1, len - (size_t)(eq + 1 - item))) {
		snprintf(why, whylen, "the value of '%s' decodes to a control character", kv->key);
		return -EINVAL;
	}
	return 0;
}

int am_otel_kv_parse(const char *s, struct am_otel_kvs *out, char *why, size_t whylen)
{
	const char *p = s;

	*out = (struct am_otel_kvs){0};
	while (*p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *q = p;
		struct am_otel_kv *grown;

		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q < end) {
			grown = realloc(out->items, (out->n + 1) * sizeof(*grown));
			if (!grown) {
				snprintf(why, whylen, "out of memory");
				am_otel_kvs_free(out);
				return -ENOMEM;
			}
			out->items = grown;
			out->items[out->n] = (struct am_otel_kv){0};
			if (kv_item(p, (size_t)(end - p), &out->items[out->n++], why, whylen)) {
				am_otel_kvs_free(out);
				return -EINVAL;
			}
		}
		p = comma ? comma + 1 : end;
	}
	return 0;
}

void am_otel_kvs_free(struct am_otel_kvs *kvs)
{
	size_t i;

	for (i = 0; i < kvs->n; i++) {
		free(kvs->items[i].key);
		free(kvs->items[i].value);
	}
	free(kvs->items);
	*kvs = (struct am_otel_kvs){0};
}

int am_otel_kv_check(const char *s, char *why, size_t whylen)
{
	struct am_otel_kvs kvs;
	int rc = am_otel_kv_parse(s, &kvs, why, whylen);

	am_otel_kvs_free(&kvs);
	return rc;
}

int am_otel_headers_build(const char *spec, const char *const *reserved, struct am_http_headers *h,
			  char *why, size_t whylen)
{
	struct am_otel_kvs kvs;
	size_t i;
	int rc = am_otel_kv_parse(spec, &kvs, why, whylen);

	for (i = 0; !rc && i < kvs.n; i++)
		rc = am_http_headers_add(h, kvs.items[i].key, kvs.items[i].value, reserved, why,
					 whylen);
	/* The values may be credentials: not left behind in freed memory. */
	for (i = 0; i < kvs.n; i++)
		explicit_bzero(kvs.items[i].value, strlen(kvs.items[i].value));
	am_otel_kvs_free(&kvs);
	return rc;
}

int am_otel_headers_check(const char *spec, char *why, size_t whylen)
{
	struct am_http_headers h = {0};
	int rc = am_otel_headers_build(spec, NULL, &h, why, whylen);

	am_http_headers_free(&h);
	return rc;
}

int am_otel_url_check(const char *url, char *why, size_t whylen)
{
	CURLU *u;
	CURLUcode uc;
	char *host = NULL;
	int rc = -EINVAL;

	if (has_control(url, strlen(url)) || strchr(url, ' ')) {
		snprintf(why, whylen, "'%s' is not a URL: it contains a blank or control character",
			 url);
		return -EINVAL;
	}
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		snprintf(why, whylen, "'%s': the scheme must be http:// or https://", url);
		return -EINVAL;
	}
	u = curl_url();
	if (!u) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc)
		snprintf(why, whylen, "'%s' is not a URL: %s", url, curl_url_strerror(uc));
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) || !*host)
		snprintf(why, whylen, "'%s' has no host", url);
	else
		rc = 0;
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

int am_otel_file_check(const char *path, char *why, size_t whylen)
{
	int fd = am_file_open_regular(path), rc = 0;
	char byte;

	if (fd >= 0 && read(fd, &byte, 1) < 0)
		rc = -errno;
	if (fd < 0)
		rc = fd;
	else
		close(fd);
	if (rc)
		snprintf(why, whylen, "cannot read '%s': %s", path, am_file_strerror(-rc));
	return rc;
}

void am_otel_choice_error(const char *const *choices, const char *v, char *why, size_t whylen)
{
	size_t i, off;

	if (!strcmp(v, "grpc") || !strcmp(v, "http/json")) {
		snprintf(why, whylen,
			 "'%s' is not implemented by this agent: it sends OTLP as http/protobuf",
			 v);
		return;
	}
	off = (size_t)snprintf(why, whylen, "'%s' is not one of", v);
	for (i = 0; choices[i] && off < whylen; i++)
		off += (size_t)snprintf(why + off, whylen - off, "%s %s", i ? "," : "", choices[i]);
}

/* ---- the URLs ---- */

static const struct am_otlp_signal_config *own(const struct am_otlp_config *o,
					       enum am_otlp_signal s)
{
	return s == AM_OTLP_METRICS ? &o->metrics_signal : &o->logs_signal;
}

static const char *signal_endpoint(const struct am_otlp_config *o, enum am_otlp_signal s)
{
	return own(o, s)->endpoint;
}

bool am_otlp_signal_enabled(const struct am_otlp_config *o, enum am_otlp_signal s)
{
	int on = s == AM_OTLP_METRICS ? o->metrics : o->logs;

	if (on >= 0)
		return on;
	return o->endpoint[0] || signal_endpoint(o, s)[0];
}

int am_otlp_signal_url(const struct am_otlp_config *o, enum am_otlp_signal s, char *out,
		       size_t outlen)
{
	const char *own = signal_endpoint(o, s),
		   *base = o->endpoint[0] ? o->endpoint : AM_OTLP_DEFAULT_ENDPOINT;
	size_t n = strlen(base);
	int len;

	if (own[0])
		len = snprintf(out, outlen, "%s", own);
	else {
		/* "http://c:4318/prefix/" and "http://c:4318/prefix" both get "/v1/metrics". */
		while (n && base[n - 1] == '/')
			n--;
		len = snprintf(out, outlen, "%.*s/v1/%s", (int)n, base,
			       s == AM_OTLP_METRICS ? "metrics" : "logs");
	}
	return len < 0 || (size_t)len >= outlen ? -ENAMETOOLONG : 0;
}

/* The signal's own setting OWN when it has one, else the general G. */
static const char *pick(const char *own, const char *g)
{
	return own[0] ? own : g;
}

int am_otlp_signal_settings(const struct am_otlp_config *o, enum am_otlp_signal s,
			    struct am_otlp_signal_settings *out)
{
	const struct am_otlp_signal_config *sig = own(o, s);

	out->headers = pick(sig->headers, o->headers);
	out->gzip = !strcmp(pick(sig->compression, o->compression), "gzip");
	out->timeout_ms = sig->timeout_ms ? sig->timeout_ms : o->timeout_ms;
	out->certificate = pick(sig->certificate, o->certificate);
	out->client_certificate = pick(sig->client_certificate, o->client_certificate);
	out->client_key = pick(sig->client_key, o->client_key);
	return am_otlp_signal_url(o, s, out->url, sizeof(out->url));
}
