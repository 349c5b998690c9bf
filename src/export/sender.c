/* The sender's queue and its thread: payloads wait in a FIFO bounded in bytes (the one on the
 * wire included), the thread posts the head until it is delivered, refused or given up, and
 * every item leaves counted exactly once. */
#include "export/sender.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/sender_internal.h"
#include "export/sender_retry.h"
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

static uint64_t now_ns(void)
{
	return am_clock_ns(CLOCK_MONOTONIC);
}

void am_sender_log_limited(struct am_sender *s, const char *fmt, ...)
{
	uint64_t now = now_ns();
	char msg[1024];
	va_list ap;

	if (s->log_last_ns && now - s->log_last_ns < AM_SENDER_LOG_INTERVAL_NS) {
		s->log_suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->log_suppressed)
		am_warn("export %s: %s (%llu similar messages suppressed in the last %llu s)",
			s->cfg.name, msg, (unsigned long long)s->log_suppressed,
			(unsigned long long)((now - s->log_last_ns) / 1000000000ull));
	else
		am_warn("export %s: %s", s->cfg.name, msg);
	s->log_last_ns = now;
	s->log_suppressed = 0;
}

/* ---- the queue (lock held) ---- */

static void unlink_item(struct am_sender *s, struct am_sender_item *prev, struct am_sender_item *it)
{
	if (prev)
		prev->next = it->next;
	else
		s->head = it->next;
	if (s->tail == it)
		s->tail = prev;
	if (s->current == it)
		s->current = NULL;
	s->st.queue_bytes -= it->len;
	s->st.queued_items -= it->nitems;
}

static void drop_item(struct am_sender *s, struct am_sender_item *it, enum am_sender_drop why)
{
	s->st.dropped_items[why] += it->nitems;
	s->st.dropped_payloads[why]++;
	free(it->buf);
	free(it);
}

/* Evict the oldest payload that is not on the wire; false when there is none. */
static bool evict_oldest(struct am_sender *s)
{
	struct am_sender_item *prev = NULL, *it = s->head;

	if (it && it == s->current && s->busy) {
		prev = it;
		it = it->next;
	}
	if (!it)
		return false;
	unlink_item(s, prev, it);
	drop_item(s, it, AM_SENDER_DROP_QUEUE_FULL);
	return true;
}

void am_sender_submit(struct am_sender *s, void *buf, size_t len, uint64_t nitems)
{
	struct am_sender_item *it = calloc(1, sizeof(*it));
	uint64_t evicted = 0, before;

	pthread_mutex_lock(&s->mu);
	if (!it) {
		s->st.dropped_items[AM_SENDER_DROP_QUEUE_FULL] += nitems;
		s->st.dropped_payloads[AM_SENDER_DROP_QUEUE_FULL]++;
		am_sender_log_limited(s, "out of memory queueing a payload of %llu items: dropped",
				      (unsigned long long)nitems);
		goto out;
	}
	*it = (struct am_sender_item){.buf = buf, .len = len, .nitems = nitems};
	buf = NULL;
	if (s->stopping) {
		drop_item(s, it, AM_SENDER_DROP_SHUTDOWN);
		goto out;
	}
	before = s->st.dropped_items[AM_SENDER_DROP_QUEUE_FULL];
	while (s->st.queue_bytes + len > s->cfg.queue_max_bytes && evict_oldest(s))
		;
	evicted = s->st.dropped_items[AM_SENDER_DROP_QUEUE_FULL] - before;
	if (s->st.queue_bytes + len > s->cfg.queue_max_bytes) {
		/* Larger than the whole queue, or than what the payload on the wire leaves. */
		am_sender_log_limited(s,
				      "a payload of %zu bytes does not fit in the queue (%llu "
				      "bytes, %llu in use): dropped",
				      len, (unsigned long long)s->cfg.queue_max_bytes,
				      (unsigned long long)s->st.queue_bytes);
		drop_item(s, it, AM_SENDER_DROP_QUEUE_FULL);
		goto out;
	}
	if (evicted)
		am_sender_log_limited(s, "queue full (%llu bytes): dropped the oldest %llu items",
				      (unsigned long long)s->cfg.queue_max_bytes,
				      (unsigned long long)evicted);
	if (s->tail)
		s->tail->next = it;
	else
		s->head = it;
	s->tail = it;
	s->st.queue_bytes += len;
	s->st.queued_items += nitems;
	pthread_cond_broadcast(&s->cv);
out:
	pthread_mutex_unlock(&s->mu);
	free(buf);
}

/* ---- the thread (lock held unless said) ---- */

static bool deadline_passed(const struct am_sender *s)
{
	return s->stopping && now_ns() >= s->stop_deadline_ns;
}

/* Sleep until UNTIL_NS, the stop deadline, or IT's eviction, whichever comes first. */
static void wait_retry(struct am_sender *s, const struct am_sender_item *it, uint64_t until_ns)
{
	struct timespec ts;
	uint64_t end;

	while (s->current == it && !deadline_passed(s) && now_ns() < until_ns) {
		end =
		    s->stopping && s->stop_deadline_ns < until_ns ? s->stop_deadline_ns : until_ns;
		ts.tv_sec = (time_t)(end / 1000000000ull);
		ts.tv_nsec = (long)(end % 1000000000ull);
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
}

static struct am_sender_item *pop_head(struct am_sender *s)
{
	struct am_sender_item *it = s->head;

	unlink_item(s, NULL, it);
	return it;
}

static void account_success(struct am_sender *s, struct am_sender_item *it,
			    const struct am_attempt *a)
{
	uint64_t rejected = a->rejected < it->nitems ? a->rejected : it->nitems;

	s->st.sent_payloads++;
	s->st.sent_items += it->nitems - rejected;
	s->st.rejected_items += rejected;
	s->st.last_success_unix_ns = am_clock_ns(CLOCK_REALTIME);
	if (rejected || a->detail[0])
		am_sender_log_limited(s, "receiver rejected %llu of %llu items: %s",
				      (unsigned long long)rejected, (unsigned long long)it->nitems,
				      a->detail);
	pop_head(s);
	free(it->buf);
	free(it);
}

static uint32_t next_rnd(struct am_sender *s)
{
	/* xorshift32: jitter only needs to differ between agents and retries. */
	s->rnd ^= s->rnd << 13;
	s->rnd ^= s->rnd >> 17;
	s->rnd ^= s->rnd << 5;
	return s->rnd;
}

/* The wait before the next attempt after a retryable failure A. */
static uint64_t retry_wait_ms(struct am_sender *s, const struct am_attempt *a)
{
	if (a->has_retry_after)
		return a->retry_after_ms;
	return am_backoff_ms(s->cfg.initial_backoff_ms, s->cfg.max_backoff_ms, s->failures - 1,
			     next_rnd(s));
}

/* Post the head IT until it is delivered, refused, given up, evicted or the deadline passes. */
static void deliver(struct am_sender *s, struct am_sender_item *it)
{
	uint64_t first_ns = now_ns(), wait_ms;
	struct am_attempt a;
	unsigned attempt;

	s->current = it;
	wait_retry(s, it, s->resume_ns);
	if (s->current != it || deadline_passed(s))
		return;
	for (attempt = 0;; attempt++) {
		s->busy = true;
		pthread_mutex_unlock(&s->mu);
		am_sender_http_attempt(s, it, s->cfg.timeout_ms, &a);
		pthread_mutex_lock(&s->mu);
		s->busy = false;
		s->st.requests++;
		s->st.retries += attempt > 0;
		s->st.request_seconds_sum += a.seconds;
		s->st.request_seconds_count++;
		if (a.result != AM_ATTEMPT_RETRY && a.result != AM_ATTEMPT_ABORTED)
			s->failures = 0;
		switch (a.result) {
		case AM_ATTEMPT_OK:
			account_success(s, it, &a);
			return;
		case AM_ATTEMPT_PERMANENT:
			am_sender_log_limited(s, "%s; dropped a payload of %llu items", a.detail,
					      (unsigned long long)it->nitems);
			drop_item(s, pop_head(s), AM_SENDER_DROP_PERMANENT);
			return;
		case AM_ATTEMPT_ABORTED:
			return; /* left queued: counted with what the deadline left */
		case AM_ATTEMPT_RETRY:
			break;
		}
		s->failures++;
		wait_ms = retry_wait_ms(s, &a);
		s->resume_ns = now_ns() + wait_ms * 1000000ull;
		if ((now_ns() - first_ns) / 1000000 + wait_ms > s->cfg.max_elapsed_ms) {
			am_sender_log_limited(s,
					      "%s; giving up a payload of %llu items after %u "
					      "attempts",
					      a.detail, (unsigned long long)it->nitems,
					      attempt + 1);
			drop_item(s, pop_head(s), AM_SENDER_DROP_RETRIES);
			return;
		}
		am_debug("export %s: %s; retry in %llu ms", s->cfg.name, a.detail,
			 (unsigned long long)wait_ms);
		wait_retry(s, it, s->resume_ns);
		if (s->current != it || deadline_passed(s))
			return;
	}
}

static void *sender_main(void *arg)
{
	struct am_sender *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->head && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->head || deadline_passed(s))
			break;
		deliver(s, s->head);
	}
	s->current = NULL;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- life cycle ---- */

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
	rc = pthread_create(&s->thread, NULL, sender_main, s);
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
	uint64_t dl = now_ns() + (uint64_t)deadline_ms * 1000000ull;

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
		drop_item(s, pop_head(s), AM_SENDER_DROP_SHUTDOWN);
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
		drop_item(s, pop_head(s), AM_SENDER_DROP_SHUTDOWN);
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
