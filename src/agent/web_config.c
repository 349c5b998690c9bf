#include "agent/web_config.h"

#include <errno.h>
#include <stdbool.h>
#include <gnutls/gnutls.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/yaml_load.h"
#include "util/file.h"

#define MAX_FILE (1u << 20)

struct wc {
	const char *path;
	yaml_document_t *doc;
	struct am_prom_security *sec;
	char *err;
	size_t errlen;
	const char *min_version, *max_version, *client_auth;
	const char *cert_file, *key_file, *ca_file;
	yaml_mark_t tls_mark, cert_mark, key_mark, ca_mark, auth_mark;
	bool tls; /* tls_server_config present */
};

static int at(struct wc *w, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int at(struct wc *w, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = am_yaml_verr_at(w->err, w->errlen, w->path, m, fmt, ap);
	va_end(ap);
	return rc;
}

/* The plain text of scalar N, or NULL after reporting what it is instead. */
static const char *scalar(struct wc *w, yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SCALAR_NODE) {
		at(w, n->start_mark, "%s: expected a single value", key);
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		at(w, n->start_mark, "%s: the value contains a NUL character", key);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

typedef int (*pair_fn)(struct wc *w, const char *key, yaml_node_t *k, yaml_node_t *v);

static int each_pair(struct wc *w, yaml_node_t *map, const char *what, pair_fn fn)
{
	yaml_node_pair_t *p;
	int err;

	if (map->type == YAML_SCALAR_NODE && !*map->data.scalar.value)
		return 0; /* "key:" with nothing under it */
	if (map->type != YAML_MAPPING_NODE)
		return at(w, map->start_mark, "%s: expected a mapping", what);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		const char *ks;

		if (!k || !v)
			continue;
		ks = scalar(w, k, what);
		if (!ks)
			return -EINVAL;
		err = fn(w, ks, k, v);
		if (err)
			return err;
	}
	return 0;
}

static int tls_key(struct wc *w, const char *key, yaml_node_t *k, yaml_node_t *v)
{
	static const char *const unsupported[] = {"cipher_suites", "curve_preferences",
						  "prefer_server_cipher_suites", "cert", "key"};
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (!strcmp(key, unsupported[i]))
			return at(w, k->start_mark,
				  "tls_server_config.%s is not supported by antimetal-agent", key);
	s = scalar(w, v, key);
	if (!s)
		return -EINVAL;
	if (!strcmp(key, "cert_file")) {
		w->cert_file = s;
		w->cert_mark = v->start_mark;
	} else if (!strcmp(key, "key_file")) {
		w->key_file = s;
		w->key_mark = v->start_mark;
	} else if (!strcmp(key, "client_ca_file")) {
		w->ca_file = s;
		w->ca_mark = v->start_mark;
	} else if (!strcmp(key, "client_auth_type")) {
		w->client_auth = s;
		w->auth_mark = v->start_mark;
	} else if (!strcmp(key, "min_version")) {
		w->min_version = s;
	} else if (!strcmp(key, "max_version")) {
		w->max_version = s;
	} else {
		return at(w, k->start_mark, "unknown key 'tls_server_config.%s'", key);
	}
	return 0;
}

static int user_key(struct wc *w, const char *user, yaml_node_t *k, yaml_node_t *v)
{
	const char *hash = scalar(w, v, user);
	int err;

	(void)k;
	if (!hash)
		return -EINVAL;
	err = am_basic_auth_add(&w->sec->auth, user, hash);
	if (err == -EINVAL)
		return at(w, v->start_mark,
			  "basic_auth_users.%s: not a bcrypt hash ($2y$, $2b$ or $2a$, as "
			  "htpasswd -nbB makes)",
			  user);
	return err;
}

static int top_key(struct wc *w, const char *key, yaml_node_t *k, yaml_node_t *v)
{
	if (!strcmp(key, "tls_server_config")) {
		w->tls_mark = k->start_mark;
		w->tls = true;
		return each_pair(w, v, key, tls_key);
	}
	if (!strcmp(key, "basic_auth_users"))
		return each_pair(w, v, key, user_key);
	if (!strcmp(key, "http_server_config"))
		return at(w, k->start_mark,
			  "http_server_config is not supported by antimetal-agent");
	return at(w, k->start_mark, "unknown key '%s'", key);
}

/* NAME resolved against the web configuration's directory, read whole into *OUT. */
static int read_named(struct wc *w, const char *name, yaml_mark_t m, char **out)
{
	struct am_strbuf b = {0};
	const char *slash = strrchr(w->path, '/');
	char full[4096];
	int err;

	if (name[0] == '/' || !slash)
		snprintf(full, sizeof(full), "%s", name);
	else
		snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - w->path), w->path, name);
	err = am_file_read(full, MAX_FILE, &b);
	if (err) {
		am_strbuf_free(&b);
		return at(w, m, "%s: %s", full, am_file_strerror(-err));
	}
	*out = b.data;
	return 0;
}

static int version_of(const char *v)
{
	static const char *const names[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
	int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(v, names[i]))
			return i;
	return -1;
}

static int set_priorities(struct wc *w)
{
	static const char *const vers[] = {"+VERS-TLS1.0", "+VERS-TLS1.1", "+VERS-TLS1.2",
					   "+VERS-TLS1.3"};
	int lo = w->min_version ? version_of(w->min_version) : 2; /* exporter-toolkit's TLS12 */
	int hi = w->max_version ? version_of(w->max_version) : 3, i;
	size_t n;

	if (lo < 0 || hi < 0 || lo > hi)
		return at(w, w->tls_mark,
			  "tls_server_config: min_version and max_version must be TLS10, TLS11, "
			  "TLS12 or TLS13, the minimum not above the maximum");
	n = (size_t)snprintf(w->sec->priorities, sizeof(w->sec->priorities), "NORMAL:-VERS-ALL");
	for (i = lo; i <= hi; i++)
		n += (size_t)snprintf(w->sec->priorities + n, sizeof(w->sec->priorities) - n, ":%s",
				      vers[i]);
	return 0;
}

static int client_auth(struct wc *w)
{
	static const char *const names[] = {"NoClientCert", "RequestClientCert",
					    "RequireAnyClientCert", "VerifyClientCertIfGiven",
					    "RequireAndVerifyClientCert"};
	int i;

	if (!w->client_auth || !*w->client_auth) {
		if (w->ca_file)
			return at(w, w->ca_mark,
				  "client_ca_file without client_auth_type: say how client "
				  "certificates are checked");
		return 0;
	}
	for (i = 0; i < 5; i++)
		if (!strcmp(w->client_auth, names[i]))
			break;
	if (i == 5)
		return at(
		    w, w->auth_mark,
		    "client_auth_type: '%s' is not one of NoClientCert, RequestClientCert, "
		    "RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert",
		    w->client_auth);
	w->sec->client_auth = (enum am_client_auth)i;
	if (i != AM_CLIENT_NONE && !w->ca_file)
		return at(w, w->auth_mark, "client_auth_type %s needs client_ca_file",
			  w->client_auth);
	return 0;
}

/* Load the PEMs into GnuTLS once here, so a bad pair is a configuration error (exit 2, or a
 * refused reload) rather than a listener that fails to start. */
static int check_pems(struct wc *w)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t c = {(unsigned char *)w->sec->cert_pem, (unsigned)strlen(w->sec->cert_pem)};
	gnutls_datum_t k = {(unsigned char *)w->sec->key_pem, (unsigned)strlen(w->sec->key_pem)};
	int rc, err = 0;

	if (gnutls_certificate_allocate_credentials(&cred))
		return -ENOMEM;
	rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
	if (rc < 0)
		err = at(w, w->cert_mark, "cert_file and key_file: %s", gnutls_strerror(rc));
	if (!err && w->sec->ca_pem) {
		gnutls_datum_t a = {(unsigned char *)w->sec->ca_pem,
				    (unsigned)strlen(w->sec->ca_pem)};

		rc = gnutls_certificate_set_x509_trust_mem(cred, &a, GNUTLS_X509_FMT_PEM);
		if (rc <= 0)
			err = at(w, w->ca_mark, "client_ca_file: %s",
				 rc < 0 ? gnutls_strerror(rc) : "no certificate in it");
	}
	gnutls_certificate_free_credentials(cred);
	return err;
}

static int finish_tls(struct wc *w)
{
	int err;

	if (!w->cert_file || !w->key_file)
		return at(w, w->tls_mark, "tls_server_config needs both cert_file and key_file");
	err = client_auth(w);
	if (!err)
		err = set_priorities(w);
	if (!err)
		err = read_named(w, w->cert_file, w->cert_mark, &w->sec->cert_pem);
	if (!err)
		err = read_named(w, w->key_file, w->key_mark, &w->sec->key_pem);
	if (!err && w->ca_file)
		err = read_named(w, w->ca_file, w->ca_mark, &w->sec->ca_pem);
	return err ? err : check_pems(w);
}

int am_web_config_load(const char *path, struct am_prom_security **out, char *err, size_t errlen)
{
	struct wc w = {.path = path, .err = err, .errlen = errlen};
	struct am_strbuf text = {0};
	yaml_document_t doc;
	yaml_node_t *root;
	int rc;

	*out = NULL;
	rc = am_file_read(path, MAX_FILE, &text);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, am_file_strerror(-rc));
		am_strbuf_free(&text);
		return rc;
	}
	rc = am_yaml_load(text.data ? text.data : "", text.len, path, &doc, err, errlen);
	am_strbuf_free(&text);
	if (rc)
		return rc;
	w.doc = &doc;
	w.sec = calloc(1, sizeof(*w.sec));
	root = yaml_document_get_root_node(&doc);
	if (!w.sec)
		rc = -ENOMEM;
	else if (root)
		rc = each_pair(&w, root, "the web configuration", top_key);
	if (!rc && w.tls)
		rc = finish_tls(&w);
	yaml_document_delete(&doc);
	if (rc) {
		am_prom_security_free(w.sec);
		return rc;
	}
	*out = w.sec;
	return 0;
}
