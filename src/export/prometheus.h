/* The HTTP endpoint Prometheus scrapes (libmicrohttpd): /metrics in the text exposition format
 * and /healthz. It runs inside the caller's event loop (MHD's external epoll mode): the caller
 * watches am_prom_server_fd() and calls am_prom_server_run(), so no thread and no lock. The
 * server never collects anything: it asks the caller's callbacks for the bodies. */
#ifndef ANTIMETAL_EXPORT_PROMETHEUS_H
#define ANTIMETAL_EXPORT_PROMETHEUS_H

#include <stdint.h>

#include "util/strbuf.h"

struct MHD_Daemon;

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
	uint64_t scrapes; /* /metrics requests answered */
};

/* Listen on ADDRESS (IPv4 or IPv6 literal) and PORT. Returns 0 or -errno (logged). */
int am_prom_server_start(struct am_prom_server *s, const char *address, unsigned port,
			 am_prom_render_fn render, am_prom_health_fn health, void *ctx);
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
