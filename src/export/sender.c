/* A sender's life: its settings copied, its thread started, stopped with a deadline, freed.
 * The queue is in sender_queue.c, the thread's work in sender_thread.c, HTTP in
 * sender_http.c. */
#include "export/sender.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/sender_internal.h"
#include "util/clock.h"
#include "util/log.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int am_sender_global_init(void)
{
	pthread_once(&curl_once, curl_init);
	return curl_init_rc == CURLE_OK ? 0 : -EIO;
}

static char *own(struct am_sender *s, const char *str)
{
	char *copy;

	if (!str)
		return NULL;
	copy = strdup(str);
	if (copy)
		s->owned[s->nowned++] = copy;
	return copy;
}

/* Copy C into S with its strings and the defaults of its zero fields. */
static int copy_config(struct am_sender *s, const struct am_sender_config *c)
{
	const char **hdrs;
	size_t i;

	s->owned = calloc(8 + c->nheaders, sizeof(*s->owned));
	hdrs = calloc(c->nheaders + 1, sizeof(*hdrs));
	if (!s->owned || !hdrs) {
		free(hdrs);
		return -ENOMEM;
	}
	s->cfg = *c;
	s->cfg.name = own(s, c->name && c->name[0] ? c->name : "unnamed");
	s->cfg.url = own(s, c->url);
	s->cfg.content_type = own(s, c->content_type);
	s->cfg.content_encoding = own(s, c->content_encoding);
	s->cfg.ca_file = own(s, c->ca_file);
	s->cfg.ca_dir = own(s, c->ca_dir ? c->ca_dir : "/etc/ssl/certs");
	s->cfg.client_cert = own(s, c->client_cert);
	s->cfg.client_key = own(s, c->client_key);
	for (i = 0; i < c->nheaders; i++)
		hdrs[i] = own(s, c->headers[i]);
	s->cfg.headers = hdrs;
	if (!s->cfg.timeout_ms)
		s->cfg.timeout_ms = AM_SENDER_DEFAULT_TIMEOUT_MS;
	if (!s->cfg.queue_max_bytes)
		s->cfg.queue_max_bytes = AM_SENDER_DEFAULT_QUEUE_BYTES;
	if (!s->cfg.max_elapsed_ms)
		s->cfg.max_elapsed_ms = AM_SENDER_DEFAULT_MAX_ELAPSED_MS;
	if (!s->cfg.initial_backoff_ms)
		s->cfg.initial_backoff_ms = AM_SENDER_DEFAULT_INITIAL_BACKOFF_MS;
	if (!s->cfg.max_backoff_ms)
		s->cfg.max_backoff_ms = AM_SENDER_DEFAULT_MAX_BACKOFF_MS;
	if (s->cfg.max_backoff_ms < s->cfg.initial_backoff_ms)
		s->cfg.max_backoff_ms = s->cfg.initial_backoff_ms;
	s->st.queue_max_bytes = s->cfg.queue_max_bytes;
	return 0;
}

static int init_sync(struct am_sender *s)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_mutex_init(&s->mu, NULL))
		return -ENOMEM;
	if (pthread_condattr_init(&ca))
		return -ENOMEM;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&s->cv, &ca) ? -ENOMEM : 0;
	pthread_condattr_destroy(&ca);
	if (rc)
		pthread_mutex_destroy(&s->mu);
	s->sync_ok = !rc;
	return rc;
}

int am_sender_new(const struct am_sender_config *c, struct am_sender **out, char *err,
		  size_t errlen)
{
	struct am_sender *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	char tname[16];
	int rc;

	*out = NULL;
	if (!s || am_sender_global_init() || copy_config(s, c) || init_sync(s)) {
		snprintf(err, errlen, "%s: cannot start a sender: out of memory or libcurl failed",
			 c->name ? c->name : "export");
		am_sender_free(s);
		return -ENOMEM;
	}
	rc = am_sender_http_init(s, err, errlen);
	if (rc) {
		am_sender_free(s);
		return rc;
	}
	s->rnd = (uint32_t)(am_clock_ns(CLOCK_REALTIME) ^ (uintptr_t)s) | 1u;
	/* The thread takes no signals: the agent reads SIGTERM and the rest from a signalfd,
	 * which works only while every thread blocks them, and a peer that closes the
	 * connection must be an EPIPE, never SIGPIPE. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, am_sender_thread_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "%s: cannot start its thread: %s", s->cfg.name, strerror(rc));
		am_sender_free(s);
		return -rc;
	}
	s->thread_started = true;
	snprintf(tname, sizeof(tname), "am-%s", s->cfg.name);
	pthread_setname_np(s->thread, tname);
	*out = s;
	return 0;
}

void am_sender_stop_begin(struct am_sender *s, uint32_t deadline_ms)
{
	uint64_t dl = am_sender_now_ns() + (uint64_t)deadline_ms * 1000000ull;

	pthread_mutex_lock(&s->mu);
	if (!s->stopping || dl < s->stop_deadline_ns)
		s->stop_deadline_ns = dl;
	s->stopping = true;
	__atomic_store_n(&s->abort_at_ns, s->stop_deadline_ns, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

uint64_t am_sender_flush_stop(struct am_sender *s, uint32_t deadline_ms)
{
	uint64_t items = 0, payloads = 0;
	struct am_sender_stats *st = &s->st;

	am_sender_stop_begin(s, deadline_ms);
	if (s->thread_started && !s->joined) {
		pthread_join(s->thread, NULL);
		s->joined = true;
	}
	pthread_mutex_lock(&s->mu);
	while (s->head) {
		items += s->head->nitems;
		payloads++;
		am_sender_drop_item(s, am_sender_pop_head(s), AM_SENDER_DROP_SHUTDOWN);
	}
	if (items || payloads)
		am_warn("export %s: %llu items in %llu payloads not delivered before the shutdown "
			"deadline: dropped",
			s->cfg.name, (unsigned long long)items, (unsigned long long)payloads);
	am_info("export %s: stopped; items sent %llu, rejected by the receiver %llu, dropped: "
		"queue full %llu, refused %llu, retries exhausted %llu, shutdown %llu",
		s->cfg.name, (unsigned long long)st->sent_items,
		(unsigned long long)st->rejected_items,
		(unsigned long long)st->dropped_items[AM_SENDER_DROP_QUEUE_FULL],
		(unsigned long long)st->dropped_items[AM_SENDER_DROP_PERMANENT],
		(unsigned long long)st->dropped_items[AM_SENDER_DROP_RETRIES],
		(unsigned long long)st->dropped_items[AM_SENDER_DROP_SHUTDOWN]);
	pthread_mutex_unlock(&s->mu);
	return items;
}

void am_sender_free(struct am_sender *s)
{
	size_t i;

	if (!s)
		return;
	if (s->thread_started && !s->joined)
		am_sender_flush_stop(s, 0);
	while (s->head)
		am_sender_drop_item(s, am_sender_pop_head(s), AM_SENDER_DROP_SHUTDOWN);
	am_sender_http_free(s);
	if (s->sync_ok) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
	}
	for (i = 0; i < s->nowned; i++)
		free(s->owned[i]);
	free(s->owned);
	free((void *)s->cfg.headers);
	free(s);
}

void am_sender_get_stats(struct am_sender *s, struct am_sender_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	pthread_mutex_unlock(&s->mu);
}

const char *am_sender_name(const struct am_sender *s)
{
	return s->cfg.name;
}
