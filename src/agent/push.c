#include "agent/push.h"

#include <errno.h>
#include <stdlib.h>

#include "util/json.h"
#include "util/log.h"

int am_push_add(struct am_push *p, struct am_sender *s)
{
	struct am_sender **n;

	if (p->n == p->cap) {
		n = realloc(p->senders, (p->cap ? p->cap * 2 : 4) * sizeof(*n));
		if (!n) {
			am_sender_free(s);
			return -ENOMEM;
		}
		p->senders = n;
		p->cap = p->cap ? p->cap * 2 : 4;
	}
	p->senders[p->n++] = s;
	return 0;
}

uint64_t am_push_remove(struct am_push *p, struct am_sender *s, uint32_t deadline_ms)
{
	uint64_t left;
	size_t i;

	for (i = 0; i < p->n && p->senders[i] != s; i++)
		;
	if (i == p->n)
		return 0;
	left = am_sender_flush_stop(s, deadline_ms);
	am_sender_free(s);
	p->senders[i] = p->senders[--p->n];
	return left;
}

void am_push_metrics(struct am_push *p, struct am_metric_set *out)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		am_sender_metrics(p->senders[i], out);
}

void am_push_stats_json(struct am_push *p, struct am_strbuf *b, const char *key)
{
	struct am_sender_stats st;
	uint64_t dropped;
	size_t i;
	int r;

	if (!p->n)
		return;
	am_json_key(b, key, false);
	am_strbuf_putc(b, '[');
	for (i = 0; i < p->n; i++) {
		am_sender_get_stats(p->senders[i], &st);
		for (dropped = 0, r = 0; r < AM_SENDER_DROP_NREASONS; r++)
			dropped += st.dropped_items[r];
		if (i)
			am_strbuf_putc(b, ',');
		am_strbuf_putc(b, '{');
		am_json_kv_str(b, "name", am_sender_name(p->senders[i]), true);
		am_json_kv_u64(b, "sent_items", st.sent_items, false);
		am_json_kv_u64(b, "rejected_items", st.rejected_items, false);
		am_json_kv_u64(b, "dropped_items", dropped, false);
		am_json_kv_u64(b, "retries", st.retries, false);
		am_json_kv_u64(b, "queue_bytes", st.queue_bytes, false);
		am_json_kv_u64(b, "last_success_ns", st.last_success_unix_ns, false);
		am_strbuf_putc(b, '}');
	}
	am_strbuf_putc(b, ']');
}

void am_push_stop(struct am_push *p, uint32_t deadline_ms)
{
	size_t i;

	/* All at once: one slow receiver must not eat the others' share of the deadline. */
	for (i = 0; i < p->n; i++)
		am_sender_stop_begin(p->senders[i], deadline_ms);
	for (i = 0; i < p->n; i++) {
		am_sender_flush_stop(p->senders[i], deadline_ms);
		am_sender_free(p->senders[i]);
	}
	free(p->senders);
	*p = (struct am_push){0};
}
