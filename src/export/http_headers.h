/* The extra header lines a sender sends (OTLP's otlp.headers, remote_write's headers and its
 * Authorization), built and checked in one place for both: a name must be an HTTP token, a value
 * must hold no control character, and the headers HTTP framing and the sender itself set
 * (Content-Type, Content-Encoding, Content-Length, Host, ...), plus those the caller's protocol
 * owns, are refused. Lines may carry credentials: they are zeroed when freed, and no message here
 * quotes a value. */
#ifndef ANTIMETAL_EXPORT_HTTP_HEADERS_H
#define ANTIMETAL_EXPORT_HTTP_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

/* "Name: value" lines, in the order added; zero-initialised is empty. */
struct am_http_headers {
	char **lines;
	size_t n;
};

/* Whether NAME is one of the headers every sender sets or HTTP itself owns, or one of
 * RESERVED (NULL-terminated, may be NULL); case-insensitive. */
bool am_http_header_reserved(const char *name, const char *const *reserved);
/* NAME: VALUE as a line a sender may add: 0, or -EINVAL with the reason (naming the header,
 * never quoting the value) in WHY. */
int am_http_header_check(const char *name, const char *value, const char *const *reserved,
			 char *why, size_t whylen);
/* Check NAME: VALUE as above, then append it to H. Returns 0, -EINVAL (WHY says why) or
 * -ENOMEM. */
int am_http_headers_add(struct am_http_headers *h, const char *name, const char *value,
			const char *const *reserved, char *why, size_t whylen);
/* Whether H has a line for NAME (case-insensitive). */
bool am_http_headers_has(const struct am_http_headers *h, const char *name);
/* Zero every line (they may hold secrets), free them; H is empty again. */
void am_http_headers_free(struct am_http_headers *h);

#endif
