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

#define SECRET_MAX (64u * 1024)

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

/* The protocol's own header is not the user's to change. */
static const char *const rw_reserved[] = {"X-Prometheus-Remote-Write-Version", NULL};

/* SPEC's headers onto H (which holds no Authorization yet). Authorization is the auth keys'
 * (Prometheus refuses it among the headers too: one way to set it, so two cannot disagree). */
static int rw_header(struct am_http_headers *h, const char *spec, char *err, size_t errlen)
{
	int rc = am_otel_headers_build(spec, rw_reserved, h, err, errlen);

	if (!rc && am_http_headers_has(h, "Authorization")) {
		snprintf(err, errlen,
			 "Authorization is set by remote_write.basic_auth, "
			 "remote_write.authorization or remote_write.bearer_token_file");
		rc = -EINVAL;
	}
	return rc;
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
	struct am_http_headers h = {0};
	int rc = rw_header(&h, v, err, errlen);

	am_http_headers_free(&h);
	return rc;
}

int am_rw_check_labels(const char *v, char *err, size_t errlen)
{
	struct check_ctx c = {err, errlen, 0};

	return each_pair(v, check_label, &c, err, errlen);
}

/* ---- building the settings ---- */

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

/* PATH's content without surrounding blanks (Prometheus trims its credential files the same
 * way) into B, NUL-terminated. A line break inside is refused: it cannot travel in a header. */
static int read_secret(const char *key, const char *path, struct am_strbuf *b, char *err,
		       size_t errlen)
{
	size_t from = 0, len;
	int rc = am_file_read(path, SECRET_MAX, b);

	if (rc) {
		snprintf(err, errlen, "%s: %s: %s", key, path, am_file_strerror(-rc));
		return rc;
	}
	len = b->len;
	while (len && isspace((unsigned char)b->data[len - 1]))
		len--;
	while (from < len && isspace((unsigned char)b->data[from]))
		from++;
	if (from == len || memchr(b->data + from, '\n', len - from) ||
	    memchr(b->data + from, '\r', len - from) || memchr(b->data + from, '\0', len - from)) {
		snprintf(err, errlen, "%s: %s: %s", key, path,
			 from == len ? "empty" : "the secret spans lines");
		return -EINVAL;
	}
	memmove(b->data, b->data + from, len - from);
	explicit_bzero(b->data + (len - from), b->len - (len - from));
	b->len = len - from;
	b->data[b->len] = '\0';
	return 0;
}

static void secret_free(struct am_strbuf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->len);
	am_strbuf_free(b);
}

/* One Authorization line, VALUE checked like any header's. */
static int add_authorization(struct am_rw_settings *s, const char *key, const char *value,
			     char *err, size_t errlen)
{
	char why[256];
	int rc = am_http_headers_add(&s->headers, "Authorization", value, NULL, why, sizeof(why));

	if (rc)
		snprintf(err, errlen, "%s: %s", key, why);
	return rc;
}

/* basic_auth: "Basic " and base64 of user:password (RFC 7617). */
static int basic_auth(struct am_rw_settings *s, const struct am_config *c, char *err, size_t errlen)
{
	struct am_strbuf pass = {0}, pair = {0}, line = {0};
	int rc = 0;

	if (strchr(c->rw_basic_username, ':')) {
		snprintf(err, errlen,
			 "remote_write.basic_auth.username: a colon would end the user name "
			 "(RFC 7617)");
		return -EINVAL;
	}
	if (c->rw_basic_password_file[0])
		rc = read_secret("remote_write.basic_auth.password_file", c->rw_basic_password_file,
				 &pass, err, errlen);
	if (!rc) {
		am_strbuf_printf(&pair, "%s:%s", c->rw_basic_username,
				 pass.data ? pass.data : c->rw_basic_password);
		am_strbuf_puts(&line, "Basic ");
		am_base64(&line, pair.data, pair.len);
		rc = pair.oom || line.oom
			 ? -ENOMEM
			 : add_authorization(s, "remote_write.basic_auth", line.data, err, errlen);
	}
	secret_free(&pass);
	secret_free(&pair);
	secret_free(&line);
	return rc;
}

/* authorization (and bearer_token_file, its older spelling): "TYPE CREDENTIALS". */
static int authorization(struct am_rw_settings *s, const char *type, const char *inline_cred,
			 const char *file_key, const char *file, char *err, size_t errlen)
{
	struct am_strbuf cred = {0}, line = {0};
	int rc = 0;

	if (file[0])
		rc = read_secret(file_key, file, &cred, err, errlen);
	if (!rc) {
		am_strbuf_printf(&line, "%s %s", type, cred.data ? cred.data : inline_cred);
		rc = line.oom
			 ? -ENOMEM
			 : add_authorization(s, file[0] ? file_key : "remote_write.authorization",
					     line.data, err, errlen);
	}
	secret_free(&cred);
	secret_free(&line);
	return rc;
}

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

/* At most one way to authenticate, as Prometheus's http client configuration says; the
 * authorization type trimmed into TYPE. 0 or -EINVAL with Prometheus's reason in ERR. */
static int check_auth(const struct am_config *c, bool basic, bool authz, bool bearer, char *type,
		      size_t typelen, char *err, size_t errlen)
{
	const char *t = c->rw_auth_type;
	size_t tlen;

	if (c->rw_basic_password[0] && c->rw_basic_password_file[0])
		return fail(err, errlen,
			    "remote_write.basic_auth: at most one of password and password_file "
			    "must be configured");
	if (c->rw_auth_credentials[0] && c->rw_auth_credentials_file[0])
		return fail(err, errlen,
			    "remote_write.authorization: at most one of credentials and "
			    "credentials_file must be configured");
	if (authz && bearer)
		return fail(err, errlen,
			    "remote_write.authorization: not compatible with "
			    "remote_write.bearer_token_file");
	if (basic && (authz || bearer))
		return fail(err, errlen,
			    "remote_write: at most one of basic_auth, authorization and "
			    "bearer_token_file must be configured");
	while (isspace((unsigned char)*t))
		t++;
	for (tlen = strlen(t); tlen && isspace((unsigned char)t[tlen - 1]); tlen--)
		;
	if (!tlen) /* Prometheus's default for an empty type */
		t = "Bearer", tlen = 6;
	if (authz && strcspn(t, " \t") < tlen)
		return fail(err, errlen,
			    "remote_write.authorization.type: one word, such as Bearer");
	if (authz && tlen == 5 && !strncasecmp(t, "basic", 5))
		return fail(err, errlen,
			    "remote_write.authorization.type: Basic is not allowed: use "
			    "remote_write.basic_auth");
	snprintf(type, typelen, "%.*s", (int)tlen, t);
	return 0;
}

/* The Authorization line C's credentials ask for, if any. */
static int auth(struct am_rw_settings *s, const struct am_config *c, char *err, size_t errlen)
{
	bool basic =
		 c->rw_basic_username[0] || c->rw_basic_password[0] || c->rw_basic_password_file[0],
	     authz = c->rw_auth_credentials[0] || c->rw_auth_credentials_file[0],
	     bearer = c->rw_bearer_token_file[0];
	char type[sizeof(c->rw_auth_type)];
	int rc = check_auth(c, basic, authz, bearer, type, sizeof(type), err, errlen);

	if (rc)
		return rc;
	if (basic)
		return basic_auth(s, c, err, errlen);
	if (authz)
		return authorization(s, type, c->rw_auth_credentials,
				     "remote_write.authorization.credentials_file",
				     c->rw_auth_credentials_file, err, errlen);
	if (bearer)
		return authorization(s, "Bearer", "", "remote_write.bearer_token_file",
				     c->rw_bearer_token_file, err, errlen);
	return 0;
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
	char why[400];
	int rc;

	memset(s, 0, sizeof(*s));
	/* The protocol's header first, as a line of its own (it is reserved to the user). */
	s->headers.lines = calloc(1, sizeof(char *));
	if (!s->headers.lines || !(s->headers.lines[0] = strdup(AM_RW_VERSION_HEADER)))
		goto oom;
	s->headers.n = 1;
	rc = rw_header(&s->headers, c->rw_headers, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "remote_write.headers: %s", why);
		return rc;
	}
	rc = auth(s, c, err, errlen);
	if (rc)
		return rc;
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

	am_http_headers_free(&s->headers);
	for (i = 0; i < s->nexternal; i++) {
		free((char *)s->external[i].name);
		free((char *)s->external[i].value);
	}
	memset(s, 0, sizeof(*s));
}
