/* The sender's thread: posts the head of the queue until it is delivered, refused, given up,
 * evicted or the stop deadline passes, waiting out backoffs and Retry-After between attempts. */
#include <stdlib.h>

#include "export/sender_internal.h"
#include "export/sender_retry.h"
#include "util/clock.h"
#include "util/log.h"

static bool deadline_passed(const struct am_sender *s)
{
	return s->stopping && am_sender_now_ns() >= s->stop_deadline_ns;
}

/* Sleep until UNTIL_NS, the stop deadline, or IT's eviction, whichever comes first. */
static void wait_retry(struct am_sender *s, const struct am_sender_item *it, uint64_t until_ns)
{
	struct timespec ts;
	uint64_t end;

	while (s->current == it && !deadline_passed(s) && am_sender_now_ns() < until_ns) {
		end =
		    s->stopping && s->stop_deadline_ns < until_ns ? s->stop_deadline_ns : until_ns;
		ts.tv_sec = (time_t)(end / 1000000000ull);
		ts.tv_nsec = (long)(end % 1000000000ull);
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
}

static void account_success(struct am_sender *s, struct am_sender_item *it,
			    const struct am_attempt *a)
{
	uint64_t rejected = a->rejected < it->nitems ? a->rejected : it->nitems;

	s->st.sent_payloads++;
	s->st.sent_items += it->nitems - rejected;
	s->st.rejected_items += rejected;
	s->st.last_success_unix_ns = am_clock_ns(CLOCK_REALTIME);
	if (rejected)
		am_sender_log_limited(s, "receiver rejected %llu of %llu items: %s",
				      (unsigned long long)rejected, (unsigned long long)it->nitems,
				      a->detail);
	else if (a->detail[0])
		am_sender_log_limited(s, "receiver's warning: %s", a->detail);
	am_sender_pop_head(s);
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
	uint64_t first_ns, wait_ms;
	struct am_attempt a;
	unsigned attempt;

	s->current = it;
	wait_retry(s, it, s->resume_ns);
	if (s->current != it || deadline_passed(s))
		return;
	first_ns = am_sender_now_ns();
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
			am_sender_drop_item(s, am_sender_pop_head(s), AM_SENDER_DROP_PERMANENT);
			return;
		case AM_ATTEMPT_ABORTED:
			return; /* left queued: counted with what the deadline left */
		case AM_ATTEMPT_RETRY:
			break;
		}
		s->failures++;
		wait_ms = retry_wait_ms(s, &a);
		s->resume_ns = am_sender_now_ns() + wait_ms * 1000000ull;
		if ((am_sender_now_ns() - first_ns) / 1000000 + wait_ms > s->cfg.max_elapsed_ms) {
			am_sender_log_limited(s,
					      "%s; giving up a payload of %llu items after %u "
					      "attempts",
					      a.detail, (unsigned long long)it->nitems,
					      attempt + 1);
			am_sender_drop_item(s, am_sender_pop_head(s), AM_SENDER_DROP_RETRIES);
			return;
		}
		am_debug("export %s: %s; retry in %llu ms", s->cfg.name, a.detail,
			 (unsigned long long)wait_ms);
		wait_retry(s, it, s->resume_ns);
		if (s->current != it || deadline_passed(s))
			return;
	}
}

void *am_sender_thread_main(void *arg)
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
