#include "export/prometheus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/prom_text.h"
#include "util/gzip.h"
#include "util/log.h"

#define CONNECTION_LIMIT     32
#define CONNECTION_TIMEOUT_S 10

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	am_warn("http: %s", msg);
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

int am_prom_server_start(struct am_prom_server *s, const char *address, unsigned port,
			 am_prom_render_fn render, am_prom_health_fn health, void *ctx)
{
	struct sockaddr_in6 a6 = {0};
	struct sockaddr_in a4 = {0};
	struct sockaddr *sa;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	*s = (struct am_prom_server){.render = render, .health = health, .ctx = ctx};
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
		return -EINVAL;
	}
	s->daemon = MHD_start_daemon(
	    flags, (uint16_t)port, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger,
	    NULL, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	if (!s->daemon) {
		am_err("http: cannot listen on %s:%u", address, port);
		return -EADDRNOTAVAIL;
	}
	am_info("http: serving /metrics and /healthz on %s%s%s:%u",
		sa->sa_family == AF_INET6 ? "[" : "", address, sa->sa_family == AF_INET6 ? "]" : "",
		port);
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
}
