#include "http_get.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = {fd, events, 0};
	long long left;
	int n;

	for (;;) {
		left = deadline - am_test_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int exchange(int fd, const char *req, struct am_strbuf *raw, long long deadline)
{
	size_t len = strlen(req), done = 0;
	char buf[16384];
	int err;

	while (done < len) {
		ssize_t n;

		err = wait_fd(fd, POLLOUT, deadline);
		if (err)
			return err;
		n = send(fd, req + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	/* HTTP/1.0 with Connection: close: the body ends when the server closes. */
	for (;;) {
		ssize_t n;

		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			return err;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		am_strbuf_append(raw, buf, (size_t)n);
	}
}

static int parse(struct am_strbuf *raw, struct am_http_response *r)
{
	char *hdr_end, *line_end;

	if (!raw->data)
		return -EPROTO;
	hdr_end = strstr(raw->data, "\r\n\r\n");
	line_end = strstr(raw->data, "\r\n");
	if (!hdr_end || !line_end || sscanf(raw->data, "HTTP/%*d.%*d %d", &r->status) != 1)
		return -EPROTO;
	am_strbuf_append(&r->headers, line_end + 2, (size_t)(hdr_end + 2 - (line_end + 2)));
	am_strbuf_append(&r->body, hdr_end + 4, raw->len - (size_t)(hdr_end + 4 - raw->data));
	if (!r->body.data)
		am_strbuf_puts(&r->body, "");
	return 0;
}

int am_http_get(const char *host, int port, const char *path, int timeout_ms,
		struct am_http_response *r)
{
	return am_http_get_with(host, port, path, NULL, timeout_ms, r);
}

int am_http_get_with(const char *host, int port, const char *path, const char *extra_headers,
		     int timeout_ms, struct am_http_response *r)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	long long deadline = am_test_now_ms() + timeout_ms;
	struct am_strbuf raw = {0};
	char *req = NULL;
	int fd, err;

	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS) {
		err = -errno;
		goto out;
	}
	err = wait_fd(fd, POLLOUT, deadline);
	if (!err) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		err = -soerr;
	}
	if (err)
		goto out;
	if (asprintf(&req, "GET %s HTTP/1.0\r\nHost: %s:%d\r\nConnection: close\r\n%s\r\n", path,
		     host, port, extra_headers ? extra_headers : "") < 0) {
		req = NULL;
		err = -ENOMEM;
		goto out;
	}
	err = exchange(fd, req, &raw, deadline);
	if (!err)
		err = parse(&raw, r);
out:
	free(req);
	am_strbuf_free(&raw);
	close(fd);
	return err;
}

const char *am_http_header(const struct am_http_response *r, const char *name, char *buf,
			   size_t len)
{
	size_t nlen = strlen(name);
	const char *p = r->headers.data;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > nlen && !strncasecmp(p, name, nlen) && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t vlen;

			while (*v == ' ' || *v == '\t')
				v++;
			vlen = llen - (size_t)(v - p);
			if (vlen >= len)
				vlen = len - 1;
			memcpy(buf, v, vlen);
			buf[vlen] = '\0';
			return buf;
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

void am_http_response_free(struct am_http_response *r)
{
	am_strbuf_free(&r->headers);
	am_strbuf_free(&r->body);
}

bool am_http_wait_ok(int port, const char *path, int timeout_ms, struct am_http_response *r)
{
	long long deadline = am_test_now_ms() + timeout_ms;

	for (;;) {
		if (!am_http_get("127.0.0.1", port, path, 5000, r) && r->status == 200)
			return true;
		am_http_response_free(r);
		if (am_test_now_ms() > deadline)
			return false;
		am_test_sleep_ms(100); /* the retry period of a wait for the server, not a guess */
	}
}

void am_http_urlencode(struct am_strbuf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			am_strbuf_putc(out, (char)c);
		else
			am_strbuf_printf(out, "%%%02X", c);
	}
}

int am_http_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &sl))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}
