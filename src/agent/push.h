/* The agent's push exporters' senders, as one list: their self-metrics on /metrics and in the
 * stats line, and one flush of them all at shutdown. */
#ifndef ANTIMETAL_AGENT_PUSH_H
#define ANTIMETAL_AGENT_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "export/sender.h"
#include "util/strbuf.h"

struct am_metric_set;

/* Zero-initialised is empty. */
struct am_push {
	struct am_sender **senders;
	size_t n, cap;
};

/* Take S into P (freed with P). Returns 0, or -ENOMEM (S is then freed). */
int am_push_add(struct am_push *p, struct am_sender *s);
/* Flush S within DEADLINE_MS, free it and take it out of P (an exporter reconfigured or
 * turned off at a reload). Returns the items it left undelivered; S not in P: 0, untouched. */
uint64_t am_push_remove(struct am_push *p, struct am_sender *s, uint32_t deadline_ms);
/* Every sender's self-metrics appended to OUT. */
void am_push_metrics(struct am_push *p, struct am_metric_set *out);
/* A JSON array of the senders' counts under KEY, for the stats line (nothing when empty). */
void am_push_stats_json(struct am_push *p, struct am_strbuf *b, const char *key);
/* Flush every sender at once within DEADLINE_MS in all, log what each could not deliver, free
 * them; P is empty again. */
void am_push_stop(struct am_push *p, uint32_t deadline_ms);

#endif
