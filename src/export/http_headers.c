#include "export/http_headers.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What the sender sets on every request (Content-Type, Content-Encoding), what libcurl derives
 * from the body and the URL, and HTTP's hop-by-hop headers: a second copy of any of them would
 * contradict the request it travels with. (User-Agent, which the sender also sets, is the
 * user's to replace.) */
static const char *const always[] = {"Content-Type",
				     "Content-Encoding",
				     "Content-Length",
				     "Host",
				     "Transfer-Encoding",
				     "Connection",
				     "Keep-Alive",
				     "Expect",
				     "TE",
				     "Upgrade",
				     "Trailer",
				     "Proxy-Connection",
				     NULL};

static bool in_list(const char *name, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcasecmp(name, *list))
			return true;
	return false;
}

bool am_http_header_reserved(const char *name, const char *const *reserved)
{
	return in_list(name, always) || in_list(name, reserved);
}

/* RFC 9110's token: the characters a field name may have. */
static bool token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

int am_http_header_check(const char *name, const char *value, const char *const *reserved,
			 char *why, size_t whylen)
{
	const unsigned char *p;

	if (!token(name)) {
		/* "Authorization: Bearer T=" parsed as a name: the quote stops before a secret. */
		size_t shown = strcspn(name, ":");

		snprintf(why, whylen, "'%.*s%s' is not a valid header name", (int)shown, name,
			 name[shown] ? "..." : "");
		return -EINVAL;
	}
	if (am_http_header_reserved(name, reserved)) {
		snprintf(why, whylen, "%s is set by the protocol, not a header to configure", name);
		return -EINVAL;
	}
	/* CR or LF would start a header of its own; the value may be a secret: not quoted. */
	for (p = (const unsigned char *)value; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			snprintf(why, whylen, "the value of %s has a control character", name);
			return -EINVAL;
		}
	return 0;
}

int am_http_headers_add(struct am_http_headers *h, const char *name, const char *value,
			const char *const *reserved, char *why, size_t whylen)
{
	char **grown, *line;
	int rc = am_http_header_check(name, value, reserved, why, whylen);

	if (rc)
		return rc;
	grown = realloc(h->lines, (h->n + 1) * sizeof(*grown));
	if (!grown || asprintf(&line, "%s: %s", name, value) < 0) {
		if (grown)
			h->lines = grown;
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	h->lines = grown;
	h->lines[h->n++] = line;
	return 0;
}

bool am_http_headers_has(const struct am_http_headers *h, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < h->n; i++)
		if (!strncasecmp(h->lines[i], name, len) && h->lines[i][len] == ':')
			return true;
	return false;
}

void am_http_headers_free(struct am_http_headers *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		/* explicit_bzero: a plain memset before free may be optimised away. */
		explicit_bzero(h->lines[i], strlen(h->lines[i]));
		free(h->lines[i]);
	}
	free(h->lines);
	*h = (struct am_http_headers){0};
}
