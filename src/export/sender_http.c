/* One sender's libcurl handle: the settings checked and applied once, then one POST per
 * attempt, its outcome classified as delivered, worth retrying, refused, or cut off by the
 * stop deadline. */
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export/sender_internal.h"
#include "export/sender_retry.h"
#include "util/clock.h"

/* ---- settings ---- */

static int check_file(const struct am_sender *s, const char *setting, const char *path, char *err,
		      size_t errlen)
{
	struct stat st;
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		int e = fd < 0 ? errno : EISDIR;

		snprintf(err, errlen, "%s: %s '%s': %s", s->cfg.name, setting, path,
			 fd < 0 ? strerror(e) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	close(fd);
	return 0;
}

static int check_url(const struct am_sender *s, char *err, size_t errlen)
{
	const char *u = s->cfg.url;
	CURLU *h;
	int rc = 0;

	if (!u || (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8))) {
		snprintf(err, errlen, "%s: url '%s': not an http:// or https:// URL", s->cfg.name,
			 u ? u : "");
		return -EINVAL;
	}
	h = curl_url();
	if (!h)
		return -ENOMEM;
	if (curl_url_set(h, CURLUPART_URL, u, 0) != CURLUE_OK) {
		snprintf(err, errlen, "%s: url '%s': malformed", s->cfg.name, u);
		rc = -EINVAL;
	}
	curl_url_cleanup(h);
	return rc;
}

/* A header line is "Name: value" with a token for a name and no line break anywhere. */
static bool header_ok(const char *h)
{
	const char *colon = h ? strchr(h, ':') : NULL;
	const char *p;

	if (!colon || colon == h || strpbrk(h, "\r\n"))
		return false;
	for (p = h; p < colon; p++)
		if (!isgraph((unsigned char)*p))
			return false;
	return true;
}

static int check_config(const struct am_sender *s, char *err, size_t errlen)
{
	size_t i;
	int rc;

	rc = check_url(s, err, errlen);
	if (!rc)
		rc = check_file(s, "ca_file", s->cfg.ca_file, err, errlen);
	if (!rc)
		rc = check_file(s, "client_cert", s->cfg.client_cert, err, errlen);
	if (!rc)
		rc = check_file(s, "client_key", s->cfg.client_key, err, errlen);
	if (!rc && s->cfg.client_key && !s->cfg.client_cert) {
		snprintf(err, errlen, "%s: client_key given without client_cert", s->cfg.name);
		rc = -EINVAL;
	}
	for (i = 0; !rc && i < s->cfg.nheaders; i++) {
		if (header_ok(s->cfg.headers[i]))
			continue;
		/* The name only: the value may be a credential. */
		snprintf(err, errlen, "%s: header %zu ('%.*s'): not a 'Name: value' line",
			 s->cfg.name, i + 1,
			 s->cfg.headers[i] ? (int)strcspn(s->cfg.headers[i], ":\r\n") : 0,
			 s->cfg.headers[i] ? s->cfg.headers[i] : "");
		rc = -EINVAL;
	}
	return rc;
}

/* ---- transfer callbacks ---- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct am_sender_http *h = arg;
	size_t len = size * n;

	if (h->body_len + len > AM_SENDER_RESPONSE_MAX) {
		/* Returning short aborts the transfer: a huge answer is never read whole. */
		h->body_cut = true;
		return 0;
	}
	memcpy(h->body + h->body_len, data, len);
	h->body_len += len;
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct am_sender *s = arg;
	uint64_t at = __atomic_load_n(&s->abort_at_ns, __ATOMIC_ACQUIRE);

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return at && am_clock_ns(CLOCK_MONOTONIC) >= at;
}

/* ---- the handle ---- */

static int add_header(struct am_sender_http *h, const char *name, const char *value)
{
	char line[512];
	struct curl_slist *n;

	snprintf(line, sizeof(line), "%s: %s", name, value);
	n = curl_slist_append(h->headers, line);
	if (!n)
		return -ENOMEM;
	h->headers = n;
	return 0;
}

static int build_headers(struct am_sender *s)
{
	struct am_sender_http *h = &s->http;
	struct curl_slist *n;
	size_t i;

	/* Without one, libcurl would label the body a URL-encoded form. */
	if (add_header(h, "Content-Type",
		       s->cfg.content_type ? s->cfg.content_type : "application/octet-stream"))
		return -ENOMEM;
	if (s->cfg.content_encoding && add_header(h, "Content-Encoding", s->cfg.content_encoding))
		return -ENOMEM;
	/* No "Expect: 100-continue" round trip before large payloads. */
	n = curl_slist_append(h->headers, "Expect:");
	if (!n)
		return -ENOMEM;
	h->headers = n;
	for (i = 0; i < s->cfg.nheaders; i++) {
		n = curl_slist_append(h->headers, s->cfg.headers[i]);
		if (!n)
			return -ENOMEM;
		h->headers = n;
	}
	return 0;
}

static int set_options(struct am_sender *s)
{
	CURL *c = s->http.curl;
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(c, opt, val);                                        \
	} while (0)
	SET(CURLOPT_URL, s->cfg.url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_HTTPHEADER, s->http.headers);
	SET(CURLOPT_USERAGENT, "antimetal-agent");
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)s->cfg.timeout_ms);
	SET(CURLOPT_ERRORBUFFER, s->http.errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, &s->http);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, s);
	/* CURLOPT_CAINFO replaces libcurl's bundle: with the system's directory (hashed names)
	 * as CAPATH beside it, OpenSSL trusts both, so a CA file adds to the system's trust. */
	if (s->cfg.ca_file) {
		SET(CURLOPT_CAINFO, s->cfg.ca_file);
		SET(CURLOPT_CAPATH, s->cfg.ca_dir);
	}
	if (s->cfg.client_cert) {
		SET(CURLOPT_SSLCERT, s->cfg.client_cert);
		SET(CURLOPT_SSLKEY, s->cfg.client_key ? s->cfg.client_key : s->cfg.client_cert);
	}
#undef SET
	return rc == CURLE_OK ? 0 : -EINVAL;
}

int am_sender_http_init(struct am_sender *s, char *err, size_t errlen)
{
	int rc = check_config(s, err, errlen);

	if (rc)
		return rc;
	s->http.body = malloc(AM_SENDER_RESPONSE_MAX);
	s->http.curl = curl_easy_init();
	if (!s->http.body || !s->http.curl || build_headers(s)) {
		snprintf(err, errlen, "%s: out of memory", s->cfg.name);
		return -ENOMEM;
	}
	if (set_options(s)) {
		snprintf(err, errlen, "%s: this libcurl lacks an option the sender needs",
			 s->cfg.name);
		return -EINVAL;
	}
	return 0;
}

void am_sender_http_free(struct am_sender *s)
{
	if (s->http.curl)
		curl_easy_cleanup(s->http.curl);
	curl_slist_free_all(s->http.headers);
	free(s->http.body);
	s->http = (struct am_sender_http){0};
}

/* ---- one attempt ---- */

/* Up to AM_SENDER_QUOTE_MAX bytes of the answer, printable ASCII only, for the log. */
static void quote_body(const struct am_sender_http *h, char *out, size_t outlen)
{
	size_t i, n = h->body_len < AM_SENDER_QUOTE_MAX ? h->body_len : AM_SENDER_QUOTE_MAX;

	if (n >= outlen)
		n = outlen - 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)h->body[i];

		out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
	}
	out[n] = '\0';
}

/* The receiver's text goes to the log: no line breaks or escapes of its own. */
static void blank_controls(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* Mask each occurrence in TEXT of the N bytes of SECRET, and a start of it that ends TEXT (the
 * quote was cut there). Values under 8 bytes are left: they would mask words (a version, a
 * tenant) and a credential is longer. */
static void mask(char *text, const char *secret, size_t n)
{
	char *p = text;
	size_t len, j;

	if (n < 8)
		return;
	while ((p = memmem(p, strlen(p), secret, n)) != NULL) {
		memset(p, '*', n);
		p += n;
	}
	len = strlen(text);
	for (j = n - 1 < len ? n - 1 : len; j >= 4; j--)
		if (!memcmp(text + len - j, secret, j)) {
			memset(text + len - j, '*', j);
			break;
		}
}

/* A receiver's text may echo what it was sent (vmauth quotes a token it does not know): the
 * value of every configured header, and its part after a scheme ("Bearer x"), is masked before
 * the text is logged, as any of them may be a credential. */
static void mask_secrets(const struct am_sender *s, char *text)
{
	const char *v, *sp;
	size_t i;

	for (i = 0; i < s->cfg.nheaders; i++) {
		v = strchr(s->cfg.headers[i], ':');
		if (!v)
			continue;
		for (v++; *v == ' '; v++)
			;
		mask(text, v, strlen(v));
		sp = strchr(v, ' ');
		if (sp)
			mask(text, sp + 1, strlen(sp + 1));
	}
}

static bool retryable_status(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

static void classify_status(struct am_sender *s, long status, struct am_attempt *a)
{
	struct curl_header *hdr;
	char quote[AM_SENDER_QUOTE_MAX + 1];

	if (status >= 200 && status < 300) {
		a->result = AM_ATTEMPT_OK;
		/* A cut answer cannot be parsed; the receiver took the payload all the same. */
		if (s->cfg.parse_response && !s->http.body_cut) {
			s->cfg.parse_response(s->http.body, s->http.body_len, &a->rejected,
					      a->detail, sizeof(a->detail));
			blank_controls(a->detail);
			mask_secrets(s, a->detail);
		}
		return;
	}
	quote_body(&s->http, quote, sizeof(quote));
	mask_secrets(s, quote);
	snprintf(a->detail, sizeof(a->detail), "HTTP %ld from %s%s%s%s", status, s->cfg.url,
		 quote[0] ? ": \"" : "", quote, quote[0] ? "\"" : "");
	if (!retryable_status(status)) {
		a->result = AM_ATTEMPT_PERMANENT;
		return;
	}
	a->result = AM_ATTEMPT_RETRY;
	if (curl_easy_header(s->http.curl, "Retry-After", 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK &&
	    !am_retry_after_parse(hdr->value, time(NULL), &a->retry_after_ms))
		a->has_retry_after = true;
}

void am_sender_http_attempt(struct am_sender *s, const struct am_sender_item *it,
			    uint32_t timeout_ms, struct am_attempt *a)
{
	struct am_sender_http *h = &s->http;
	uint64_t t0 = am_clock_ns(CLOCK_MONOTONIC);
	long status = 0;
	CURLcode rc;

	*a = (struct am_attempt){0};
	h->body_len = 0;
	h->body_cut = false;
	h->errbuf[0] = '\0';
	/* Never NULL: libcurl would then read the body from stdin. */
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, it->buf ? (const char *)it->buf : "");
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)it->len);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	rc = curl_easy_perform(h->curl);
	a->seconds = (double)(am_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	a->status = status;
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		a->result = AM_ATTEMPT_ABORTED;
		snprintf(a->detail, sizeof(a->detail), "cut off by the shutdown deadline");
	} else if (status > 0 && (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && h->body_cut))) {
		classify_status(s, status, a);
	} else {
		/* Connection refused or reset, timeout, TLS failure: the receiver may be back
		 * by the next attempt. */
		a->result = AM_ATTEMPT_RETRY;
		snprintf(a->detail, sizeof(a->detail), "%s: %s", s->cfg.url,
			 h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
	}
}
