#include "export/prometheus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "export/prom_text.h"
#include "util/gzip.h"
#include "util/clock.h"
#include "util/log.h"

/* Idle connections must not lock Prometheus out (with 32 slots, 40 idle connections made a
 * scrape wait 10 s for a slot): slots are cheap in MHD's epoll mode, so there are many, one
 * address cannot take them all, each holds a small memory pool, and an idle one is closed after
 * CONNECTION_TIMEOUT_S. Worst case: CONNECTION_LIMIT * CONNECTION_MEMORY bytes (32 MiB). */
#define CONNECTION_LIMIT     2048
#define PER_IP_LIMIT	     1024
#define CONNECTION_MEMORY    (16u * 1024)
#define CONNECTION_TIMEOUT_S 10

/* No more connections than half the descriptors: past RLIMIT_NOFILE accept fails, MHD logs
 * every attempt, and the collectors (processes keeps up to a quarter), BPF maps, rings and
 * outputs need theirs. The daemon raises its soft limit at start (am_agent_run). */
static unsigned connection_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur / 2 >= CONNECTION_LIMIT)
		return CONNECTION_LIMIT;
	return rl.rlim_cur / 2 > 1 ? (unsigned)(rl.rlim_cur / 2) : 1;
}

/* MHD reports every failed TLS handshake and refused connection: anyone who can connect could
 * fill the log. At most LOG_BURST lines a minute; the rest are counted in the next line. */
#define LOG_BURST 5

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct am_prom_server *s = cls;
	uint64_t now = am_clock_ns(CLOCK_MONOTONIC);
	char msg[512];
	size_t n;

	if (now - s->log_window_ns >= 60ull * 1000000000ull) {
		s->log_window_ns = now;
		s->log_lines = 0;
	}
	if (s->log_lines++ >= LOG_BURST) {
		s->log_suppressed++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (s->log_suppressed)
		am_warn("http: %s (%llu similar messages suppressed before)", msg,
			(unsigned long long)s->log_suppressed);
	else
		am_warn("http: %s", msg);
	s->log_suppressed = 0;
}

/* Whether the client takes gzip (Prometheus asks for it): a "gzip" coding in
 * Accept-Encoding whose q value, if any, is above 0. */
static bool accepts_gzip(struct MHD_Connection *conn)
{
	const char *p =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);

	while (p && *p) {
		size_t len;

		p += strspn(p, " \t,");
		len = strcspn(p, " \t;,");
		if (len == 4 && !strncmp(p, "gzip", 4)) {
			const char *q = strstr(p, "q=");
			const char *end = p + strcspn(p, ",");

			return !q || q > end || strtod(q + 2, NULL) > 0;
		}
		p += strcspn(p, ",");
	}
	return false;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, struct am_strbuf *body,
			     const char *content_type, bool gzip)
{
	struct am_strbuf packed = {0};
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (body->oom) {
		am_strbuf_free(body);
		return MHD_NO;
	}
	/* A text exposition shrinks about tenfold, as node_exporter's does. */
	if (gzip && body->len && !am_gzip(body->data, body->len, &packed)) {
		am_strbuf_free(body);
		*body = packed;
	} else {
		am_strbuf_free(&packed);
		gzip = false;
	}
	if (!body->len)
		am_strbuf_free(body);
	/* The buffer's memory passes to MHD, which frees it once the response is sent. */
	r = MHD_create_response_from_buffer(body->len, body->len ? body->data : (void *)"",
					    body->len ? MHD_RESPMEM_MUST_FREE
						      : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		am_strbuf_free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Readiness apart from liveness: a probe may hold traffic back from an agent that is alive
 * but has not collected yet. */
static enum MHD_Result serve_ready(struct am_prom_server *s, struct MHD_Connection *conn)
{
	struct am_strbuf body = {0};
	int status = s->ready(s->ctx, &body);

	return reply(conn, (unsigned)status, &body, "text/plain; charset=utf-8", false);
}

void am_prom_server_set_ready(struct am_prom_server *s, am_prom_health_fn ready)
{
	s->ready = ready;
}

void am_prom_security_free(struct am_prom_security *sec)
{
	if (!sec)
		return;
	free(sec->cert_pem);
	if (sec->key_pem) {
		memset(sec->key_pem, 0, strlen(sec->key_pem));
		free(sec->key_pem);
	}
	free(sec->ca_pem);
	am_basic_auth_free(&sec->auth);
	free(sec);
}

static enum MHD_Result plain_reply(struct MHD_Connection *conn, unsigned status, const char *text,
				   const char *header, const char *value)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (header)
		MHD_add_response_header(r, header, value);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The client certificate against client_auth_type; the CA is in the credentials MHD gave
 * GnuTLS (MHD_OPTION_HTTPS_MEM_TRUST), which also makes it ask for a certificate. */
static bool client_cert_ok(const struct am_prom_security *sec, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *peers;
	unsigned n = 0, status = 0;
	gnutls_session_t tls;

	if (sec->client_auth == AM_CLIENT_NONE || sec->client_auth == AM_CLIENT_REQUEST)
		return true;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	tls = ci->tls_session;
	peers = gnutls_certificate_get_peers(tls, &n);
	if (!peers || !n)
		return sec->client_auth == AM_CLIENT_VERIFY_IF_GIVEN;
	if (sec->client_auth == AM_CLIENT_REQUIRE_ANY)
		return true;
	return gnutls_certificate_verify_peers2(tls, &status) == 0 && status == 0;
}

/* Client certificate, then credentials: *DONE is set when the request was refused, and the
 * result of queueing the refusal returned. */
static enum MHD_Result refuse(struct am_prom_server *s, struct MHD_Connection *conn, bool *done)
{
	struct am_prom_security *sec = s->sec;
	char *user, *pass = NULL;
	enum am_auth_result r;
	enum MHD_Result ret;

	*done = false;
	if (!sec)
		return MHD_YES;
	*done = true;
	if (sec->cert_pem && !client_cert_ok(sec, conn)) {
		s->refused++;
		return plain_reply(conn, MHD_HTTP_FORBIDDEN,
				   "a valid client certificate is required\n", NULL, NULL);
	}
	if (!sec->auth.n) {
		*done = false;
		return MHD_YES;
	}
	user = MHD_basic_auth_get_username_password(conn, &pass);
	r = am_basic_auth_check(&sec->auth, user, pass);
	if (pass) {
		memset(pass, 0, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	if (r == AM_AUTH_OK) {
		*done = false;
		return MHD_YES;
	}
	s->refused++;
	if (r == AM_AUTH_BUSY)
		return plain_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "too many authentication attempts: retry\n",
				   MHD_HTTP_HEADER_RETRY_AFTER, "1");
	{
		static const char text[] = "Unauthorized\n";
		struct MHD_Response *resp = MHD_create_response_from_buffer(
		    sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);

		if (!resp)
			return MHD_NO;
		ret = MHD_queue_basic_auth_fail_response(conn, "antimetal-agent", resp);
		MHD_destroy_response(resp);
	}
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct am_prom_server *s = cls;
	struct am_strbuf body = {0};
	int status;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	{
		bool done;
		enum MHD_Result ret = refuse(s, conn, &done);

		if (done) {
			*upload_data_size = 0;
			return ret;
		}
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		struct MHD_Response *r;
		enum MHD_Result ret;

		/* Requests with a body would need draining first; refuse them outright. */
		*upload_data_size = 0;
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!strcmp(url, "/metrics")) {
		s->scrapes++;
		s->render(s->ctx, &body);
		return reply(conn, MHD_HTTP_OK, &body, AM_PROM_TEXT_CONTENT_TYPE,
			     accepts_gzip(conn));
	}
	if (!strcmp(url, "/healthz")) {
		status = s->health(s->ctx, &body);
		return reply(conn, (unsigned)status, &body, "text/plain; charset=utf-8", false);
	}
	if (s->ready && !strcmp(url, "/readyz"))
		return serve_ready(s, conn);
	if (!strcmp(url, "/")) {
		am_strbuf_puts(&body, "<html><head><title>antimetal-agent</title></head><body>"
				      "<h1>antimetal-agent</h1><p><a href=\"/metrics\">metrics</a> "
				      "<a href=\"/healthz\">healthz</a></p></body></html>\n");
		return reply(conn, MHD_HTTP_OK, &body, "text/html; charset=utf-8", false);
	}
	am_strbuf_puts(&body, "not found: try /metrics or /healthz\n");
	return reply(conn, MHD_HTTP_NOT_FOUND, &body, "text/plain; charset=utf-8", false);
}

/* MHD's options past the listening ones: limits always, TLS when SEC has a certificate. */
static size_t tls_options(const struct am_prom_security *sec, struct MHD_OptionItem *o)
{
	size_t n = 0;

	if (!sec || !sec->cert_pem)
		return 0;
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, sec->cert_pem};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, sec->key_pem};
	if (sec->ca_pem)
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, sec->ca_pem};
	if (sec->priorities[0])
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
						 (void *)sec->priorities};
	return n;
}

int am_prom_server_start(struct am_prom_server *s, const char *address, unsigned port,
			 am_prom_render_fn render, am_prom_health_fn health, void *ctx,
			 struct am_prom_security *sec)
{
	struct sockaddr_in6 a6 = {0};
	struct sockaddr_in a4 = {0};
	struct sockaddr *sa;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG, limit = connection_limit();
	struct MHD_OptionItem opts[16];
	size_t n = 0;

	*s = (struct am_prom_server){.render = render, .health = health, .ctx = ctx, .sec = sec};
	if (inet_pton(AF_INET, address, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		a4.sin_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&a4;
	} else if (inet_pton(AF_INET6, address, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&a6;
		flags |= MHD_USE_IPv6;
	} else {
		am_err("http: '%s' is not an IP address", address);
		am_prom_server_stop(s);
		return -EINVAL;
	}
	if (sec && sec->cert_pem) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			am_err("http: this libmicrohttpd was built without TLS");
			am_prom_server_stop(s);
			return -ENOTSUP;
		}
		flags |= MHD_USE_TLS;
	}
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, sa};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, limit, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
					    limit < PER_IP_LIMIT ? limit : PER_IP_LIMIT, NULL};
	opts[n++] =
	    (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL};
	opts[n++] =
	    (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, NULL};
	n += tls_options(sec, opts + n);
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	s->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, s,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s, MHD_OPTION_ARRAY,
				     opts, MHD_OPTION_END);
	if (!s->daemon) {
		am_err("http: cannot listen on %s:%u%s", address, port,
		       sec && sec->cert_pem ? " with TLS (certificate, key or CA rejected?)" : "");
		am_prom_server_stop(s);
		return -EADDRNOTAVAIL;
	}
	am_info("http: serving /metrics and /healthz on %s%s%s%s:%u%s",
		sec && sec->cert_pem ? "https://" : "", sa->sa_family == AF_INET6 ? "[" : "",
		address, sa->sa_family == AF_INET6 ? "]" : "", port,
		sec && sec->auth.n ? " (basic authentication)" : "");
	return 0;
}

int am_prom_server_fd(const struct am_prom_server *s)
{
	const union MHD_DaemonInfo *i;

	if (!s->daemon)
		return -1;
	i = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	return i ? i->epoll_fd : -1;
}

int am_prom_server_timeout_ms(const struct am_prom_server *s)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (!s->daemon || MHD_get_timeout(s->daemon, &t) != MHD_YES)
		return -1;
	return t > INT_MAX ? INT_MAX : (int)t;
}

void am_prom_server_run(struct am_prom_server *s)
{
	if (s->daemon)
		MHD_run(s->daemon);
}

void am_prom_server_stop(struct am_prom_server *s)
{
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
	am_prom_security_free(s->sec);
	s->sec = NULL;
}
