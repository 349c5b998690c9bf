/* A tiny blocking HTTP/1.0 GET over a loopback TCP socket, for tests that talk to the agent,
 * Prometheus and node_exporter (libcurl is not a dependency). */
#ifndef ANTIMETAL_TESTS_HTTP_GET_H
#define ANTIMETAL_TESTS_HTTP_GET_H

#include <stdbool.h>

#include "util/strbuf.h"

struct am_http_response {
	int status;		  /* 200, 404, ...; 0 when no valid status line came */
	struct am_strbuf headers; /* the header block, without the status line */
	struct am_strbuf body;
};

/* GET PATH (with its query string, already URL-encoded) from HOST:PORT, HOST an IPv4 literal.
 * Gives up after TIMEOUT_MS in all. Returns 0 or -errno; free R with am_http_response_free. */
int am_http_get(const char *host, int port, const char *path, int timeout_ms,
		struct am_http_response *r);
/* GET PATH from 127.0.0.1:PORT until it answers 200, for up to TIMEOUT_MS (a server starting):
 * true with R holding that answer (free it), false with R freed. */
bool am_http_wait_ok(int port, const char *path, int timeout_ms, struct am_http_response *r);
/* As am_http_get, adding EXTRA_HEADERS (NULL, or "Name: value\r\n" lines) to the request. */
int am_http_get_with(const char *host, int port, const char *path, const char *extra_headers,
		     int timeout_ms, struct am_http_response *r);
/* The value of header NAME (case-insensitive) copied into BUF; NULL when absent. */
const char *am_http_header(const struct am_http_response *r, const char *name, char *buf,
			   size_t len);
/* Release R's buffers. */
void am_http_response_free(struct am_http_response *r);
/* Append S to OUT percent-encoded for a query string value. */
void am_http_urlencode(struct am_strbuf *out, const char *s);
/* An unused loopback TCP port (bound then released), or -1. */
int am_http_free_port(void);

#endif
