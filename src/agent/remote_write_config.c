#include "agent/remote_write_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/otel_env.h"
#include "util/file.h"
#include "util/json.h"

#define TOKEN_MAX (64u * 1024)

/* Calls FN on each "name=value" of V, parsed as OTEL_EXPORTER_OTLP_HEADERS is (otel_env.h:
 * trimmed, values percent-decoded); stops at FN's first error. */
static int each_pair(const char *v, int (*fn)(void *ctx, const char *name, const char *value),
		     void *ctx, char *err, size_t errlen)
{
	struct am_otel_kvs kvs;
	size_t i;
	int rc = am_otel_kv_parse(v, &kvs, err, errlen);

	for (i = 0; !rc && i < kvs.n; i++)
		rc = fn(ctx, kvs.items[i].key, kvs.items[i].value);
	am_otel_kvs_free(&kvs);
	return rc;
}

struct check_ctx {
	char *err;
	size_t errlen;
	size_t n;
};

static bool header_token(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

/* The protocol's own headers are not the user's to change. */
static bool reserved_header(const char *name)
{
	static const char *const names[] = {"Content-Type", "Content-Encoding", "Content-Length",
					    "X-Prometheus-Remote-Write-Version"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

static int check_header(void *ctx, const char *name, const char *value)
{
	struct check_ctx *c = ctx;

	if (!header_token(name)) {
		snprintf(c->err, c->errlen, "'%s' is not a valid header name", name);
		return -EINVAL;
	}
	if (reserved_header(name)) {
		snprintf(c->err, c->errlen, "%s is set by the protocol, not a header to configure",
			 name);
		return -EINVAL;
	}
	if (strpbrk(value, "\r\n")) {
		snprintf(c->err, c->errlen, "the value of %s has a line break", name);
		return -EINVAL;
	}
	if (++c->n > AM_RW_MAX_HEADERS) {
		snprintf(c->err, c->errlen, "more than %d headers", AM_RW_MAX_HEADERS);
		return -EINVAL;
	}
	return 0;
}

static int check_label(void *ctx, const char *name, const char *value)
{
	struct check_ctx *c = ctx;

	if (!am_rw_label_name_valid(name)) {
		snprintf(c->err, c->errlen,
			 "'%s' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting __)",
			 name);
		return -EINVAL;
	}
	if (!am_utf8_valid(value, strlen(value))) {
		snprintf(c->err, c->errlen, "the value of %s is not UTF-8", name);
		return -EINVAL;
	}
	if (++c->n > AM_RW_MAX_EXTERNAL - 2) {
		snprintf(c->err, c->errlen, "more than %d labels", AM_RW_MAX_EXTERNAL - 2);
		return -EINVAL;
	}
	return 0;
}

int am_rw_check_headers(const char *v, char *err, size_t errlen)
{
	struct check_ctx c = {err, errlen, 0};

	return each_pair(v, check_header, &c, err, errlen);
}

int am_rw_check_labels(const char *v, char *err, size_t errlen)
{
	struct check_ctx c = {err, errlen, 0};

	return each_pair(v, check_label, &c, err, errlen);
}

/* ---- building the settings ---- */

static int add_header(struct am_rw_settings *s, const char *fmt, const char *a, const char *b)
{
	char *line;

	if (asprintf(&line, fmt, a, b) < 0)
		return -ENOMEM;
	s->headers[s->nheaders++] = line;
	return 0;
}

static int header_fn(void *ctx, const char *name, const char *value)
{
	struct am_rw_settings *s = ctx;

	if (s->nheaders >= AM_RW_MAX_HEADERS + 1)
		return -E2BIG; /* am_rw_check_headers refused it when it was set */
	return add_header(s, "%s: %s", name, value);
}

/* Set label NAME to VALUE, replacing an earlier one; an empty VALUE removes it. */
static int label_fn(void *ctx, const char *name, const char *value)
{
	struct am_rw_settings *s = ctx;
	size_t i;
	char *n, *v;

	for (i = 0; i < s->nexternal; i++) {
		if (strcmp(s->external[i].name, name))
			continue;
		free((char *)s->external[i].name);
		free((char *)s->external[i].value);
		s->external[i] = s->external[--s->nexternal];
		break;
	}
	if (!*value)
		return 0;
	n = strdup(name);
	v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	s->external[s->nexternal++] = (struct am_rw_label){n, v};
	return 0;
}

/* The token without its trailing newline, as an "Authorization: Bearer" header. */
static int bearer(struct am_rw_settings *s, const char *path, char *err, size_t errlen)
{
	struct am_strbuf b = {0};
	size_t len;
	int rc = am_file_read(path, TOKEN_MAX, &b);

	if (rc) {
		snprintf(err, errlen, "remote_write.bearer_token_file: %s: %s", path,
			 am_file_strerror(-rc));
		return rc;
	}
	len = b.len;
	while (len && isspace((unsigned char)b.data[len - 1]))
		len--;
	if (!len || memchr(b.data, '\n', len) || memchr(b.data, '\r', len) ||
	    memchr(b.data, '\0', len)) {
		snprintf(err, errlen, "remote_write.bearer_token_file: %s: %s", path,
			 len ? "the token spans lines" : "empty");
		am_strbuf_free(&b);
		return -EINVAL;
	}
	b.data[len] = '\0';
	rc = add_header(s, "Authorization: %s%s", "Bearer ", b.data);
	memset(b.data, 0, b.len);
	am_strbuf_free(&b);
	return rc;
}

static int readable(const char *key, const char *path, char *err, size_t errlen)
{
	char why[400];
	int rc;

	if (!*path)
		return 0;
	rc = am_otel_file_check(path, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "%s: %s", key, why);
	return rc;
}

int am_rw_settings_build(const struct am_config *c, const char *host, struct am_rw_settings *s,
			 char *err, size_t errlen)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if (add_header(s, "%s%s", AM_RW_VERSION_HEADER, ""))
		goto oom;
	rc = each_pair(c->rw_headers, header_fn, s, err, errlen);
	if (rc)
		return rc;
	if (c->rw_bearer_token_file[0]) {
		size_t i;

		for (i = 0; i < s->nheaders; i++)
			if (!strncasecmp(s->headers[i], "Authorization:", 14)) {
				snprintf(
				    err, errlen,
				    "remote_write.bearer_token_file: remote_write.headers has an "
				    "Authorization already");
				return -EINVAL;
			}
		rc = bearer(s, c->rw_bearer_token_file, err, errlen);
		if (rc)
			return rc;
	}
	/* Who sent the series, as a scrape's target labels would say. */
	if (label_fn(s, "job", "antimetal-agent") || label_fn(s, "instance", host))
		goto oom;
	rc = each_pair(c->rw_external_labels, label_fn, s, err, errlen);
	if (rc)
		return rc;
	if (!c->rw_cert_file[0] != !c->rw_key_file[0]) {
		snprintf(err, errlen,
			 "remote_write.tls.%s_file: needed with remote_write.tls.%s_file",
			 c->rw_cert_file[0] ? "key" : "cert", c->rw_cert_file[0] ? "cert" : "key");
		return -EINVAL;
	}
	rc = readable("remote_write.tls.ca_file", c->rw_ca_file, err, errlen);
	if (!rc)
		rc = readable("remote_write.tls.cert_file", c->rw_cert_file, err, errlen);
	if (!rc)
		rc = readable("remote_write.tls.key_file", c->rw_key_file, err, errlen);
	return rc;
oom:
	snprintf(err, errlen, "remote_write: out of memory");
	return -ENOMEM;
}

void am_rw_settings_free(struct am_rw_settings *s)
{
	size_t i;

	for (i = 0; i < s->nheaders; i++) {
		memset(s->headers[i], 0, strlen(s->headers[i]));
		free(s->headers[i]);
	}
	for (i = 0; i < s->nexternal; i++) {
		free((char *)s->external[i].name);
		free((char *)s->external[i].value);
	}
	memset(s, 0, sizeof(*s));
}
