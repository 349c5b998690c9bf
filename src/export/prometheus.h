/* The HTTP endpoint Prometheus scrapes (libmicrohttpd): /metrics in the text exposition format
 * and /healthz. It runs inside the caller's event loop (MHD's external epoll mode): the caller
 * watches am_prom_server_fd() and calls am_prom_server_run(), so no thread and no lock. The
 * server never collects anything: it asks the caller's callbacks for the bodies. With TLS, a
 * client certificate is checked once the handshake is done (403), not during it. */
#ifndef ANTIMETAL_EXPORT_PROMETHEUS_H
#define ANTIMETAL_EXPORT_PROMETHEUS_H

#include <stdint.h>

#include "export/basic_auth.h"
#include "util/strbuf.h"

struct MHD_Daemon;

/* exporter-toolkit's client_auth_type values. */
enum am_client_auth {
	AM_CLIENT_NONE,		   /* NoClientCert */
	AM_CLIENT_REQUEST,	   /* RequestClientCert: asked for, not checked */
	AM_CLIENT_REQUIRE_ANY,	   /* RequireAnyClientCert: present, not verified */
	AM_CLIENT_VERIFY_IF_GIVEN, /* VerifyClientCertIfGiven */
	AM_CLIENT_REQUIRE_VERIFY,  /* RequireAndVerifyClientCert */
};

/* TLS and basic authentication (node_exporter's web configuration). */
struct am_prom_security {
	char *cert_pem, *key_pem; /* NULL: plain HTTP */
	char *ca_pem;		  /* client CA, NULL unless client_auth is not NONE */
	enum am_client_auth client_auth;
	char priorities[160];	   /* GnuTLS priority string: the allowed TLS versions */
	struct am_basic_auth auth; /* no users: no authentication */
};

/* Free SEC and everything it holds. Safe on NULL. */
void am_prom_security_free(struct am_prom_security *sec);

/* Append the /metrics body (text exposition 0.0.4) to OUT. */
typedef void (*am_prom_render_fn)(void *ctx, struct am_strbuf *out);
/* Append the /healthz body to OUT; return the HTTP status (200 healthy, 503 not). */
typedef int (*am_prom_health_fn)(void *ctx, struct am_strbuf *out);

struct am_prom_server {
	struct MHD_Daemon *daemon;
	am_prom_render_fn render;
	am_prom_health_fn health;
	am_prom_health_fn ready; /* /readyz; NULL: not served */
	void *ctx;
	struct am_prom_security *sec; /* NULL: plain HTTP, no authentication */
	uint64_t scrapes;	      /* /metrics requests answered */
	uint64_t refused;	      /* requests refused: credentials or client certificate */
	uint64_t log_window_ns, log_lines, log_suppressed; /* MHD's messages, rate-limited */
};

/* Listen on ADDRESS (IPv4 or IPv6 literal) and PORT, with TLS and authentication as SEC says
 * (NULL: plain HTTP). SEC is taken over, even on failure. Returns 0 or -errno (logged). */
int am_prom_server_start(struct am_prom_server *s, const char *address, unsigned port,
			 am_prom_render_fn render, am_prom_health_fn health, void *ctx,
			 struct am_prom_security *sec);
/* Serve /readyz from READY (same contract as the health callback), with the server's ctx. */
void am_prom_server_set_ready(struct am_prom_server *s, am_prom_health_fn ready);
/* The fd to watch for readability (an epoll fd of MHD's own). */
int am_prom_server_fd(const struct am_prom_server *s);
/* How long the caller may wait before calling am_prom_server_run() anyway; -1 = no limit. */
int am_prom_server_timeout_ms(const struct am_prom_server *s);
/* Accept, read and answer whatever is ready; never blocks. */
void am_prom_server_run(struct am_prom_server *s);
/* Close every connection and the listening socket. Safe on a server never started. */
void am_prom_server_stop(struct am_prom_server *s);

#endif
