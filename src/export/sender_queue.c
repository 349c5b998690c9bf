/* The sender's queue: payloads in a FIFO bounded in bytes (the one on the wire included), the
 * oldest evicted to make room, every item leaving it counted once; and its rate-limited log. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "export/sender_internal.h"
#include "util/log.h"

void am_sender_log_limited(struct am_sender *s, const char *fmt, ...)
{
	uint64_t now = am_sender_now_ns();
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

void am_sender_drop_item(struct am_sender *s, struct am_sender_item *it, enum am_sender_drop why)
{
	s->st.dropped_items[why] += it->nitems;
	s->st.dropped_payloads[why]++;
	free(it->buf);
	free(it);
}

struct am_sender_item *am_sender_pop_head(struct am_sender *s)
{
	struct am_sender_item *it = s->head;

	unlink_item(s, NULL, it);
	return it;
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
	am_sender_drop_item(s, it, AM_SENDER_DROP_QUEUE_FULL);
	return true;
}

void am_sender_submit(struct am_sender *s, void *buf, size_t len, uint64_t nitems)
{
	struct am_sender_item *it = calloc(1, sizeof(*it));
	uint64_t evicted = 0, before;

	pthread_mutex_lock(&s->mu);
	/* No payload (an encoder out of memory): its items cannot be sent, only counted. */
	if (!it || !buf) {
		s->st.dropped_items[AM_SENDER_DROP_QUEUE_FULL] += nitems;
		s->st.dropped_payloads[AM_SENDER_DROP_QUEUE_FULL]++;
		am_sender_log_limited(s, "out of memory queueing a payload of %llu items: dropped",
				      (unsigned long long)nitems);
		free(it);
		goto out;
	}
	*it = (struct am_sender_item){.buf = buf, .len = len, .nitems = nitems};
	buf = NULL;
	if (s->stopping) {
		am_sender_drop_item(s, it, AM_SENDER_DROP_SHUTDOWN);
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
		am_sender_drop_item(s, it, AM_SENDER_DROP_QUEUE_FULL);
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
out:
	/* A new head, or the payload waiting to retry evicted: the thread has to look. */
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	free(buf);
}
