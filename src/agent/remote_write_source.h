/* Prometheus remote_write inside the daemon: on its own timer (remote_write.interval, default
 * the collection interval) the series /metrics serves are encoded (export/remote_write.h) and
 * queued on a sender (export/sender.h) that the push list owns. Each collector's snapshot is
 * sent once, stamped with its collection time: a push carries the collectors that collected
 * since the last one, plus the agent's own metrics stamped with the push time. */
#ifndef ANTIMETAL_AGENT_REMOTE_WRITE_SOURCE_H
#define ANTIMETAL_AGENT_REMOTE_WRITE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/collector_runner.h"
#include "agent/config.h"
#include "agent/push.h"
#include "agent/remote_write_config.h"
#include "records/metric.h"
#include "util/loop.h"

/* The agent's own metrics, as /metrics shows them. */
typedef void (*am_rw_own_fn)(void *ctx, struct am_metric_set *out);

struct am_rw_sent {
	const struct am_collector *col;
	uint64_t ts_ns; /* collection last queued */
};

struct am_rw_source {
	struct am_sender *sender; /* owned by the push list */
	struct am_loop_source *timer;
	struct am_rw_settings set;
	const struct am_runner *runner;
	am_rw_own_fn own;
	void *own_ctx;
	int legacy_names;
	bool metadata;
	struct am_rw_sent *sent;
	size_t nsent;
	uint64_t last_meta_ns; /* CLOCK_MONOTONIC of the last push with metadata; 0: none */
	uint64_t pushes, series, duplicates, bytes, raw_bytes, encode_failures;
};

/* Start pushing to CFG's remote_write.url (HOST the default instance label): the sender
 * joins PUSH, the timer LOOP. R and OWN give the series. Returns 0 or -errno (logged). */
int am_rw_source_start(struct am_rw_source *s, const struct am_config *cfg, const char *host,
		       struct am_loop *loop, struct am_push *push, const struct am_runner *r,
		       am_rw_own_fn own, void *ctx);
/* Encode and queue what was collected since the last push (the timer's job; also called once
 * at shutdown, before the push list flushes). */
void am_rw_source_push(struct am_rw_source *s);
/* The encoder's counters (antimetal_remote_write_*) appended to OUT. */
void am_rw_source_metrics(const struct am_rw_source *s, struct am_metric_set *out);
/* Whether X and Y differ in what a running source took from its configuration (a SIGHUP
 * reload that changes it replaces the source). */
bool am_rw_config_changed(const struct am_config *x, const struct am_config *y);
/* Whether S, running or meant to run under CFG (HOST the default instance label), would now
 * send other headers: a credential file rotated in place, or a source a reload could not start
 * (so a SIGHUP reads the files again, as Prometheus reads them at each request). */
bool am_rw_source_headers_changed(const struct am_rw_source *s, const struct am_config *cfg,
				  const char *host);
/* Push what is new, deliver what is queued within DEADLINE_MS, take the sender out of PUSH
 * (freed), then as am_rw_source_stop. Safe on a source never started. */
void am_rw_source_close(struct am_rw_source *s, struct am_loop *loop, struct am_push *push,
			uint32_t deadline_ms);
/* Remove the timer and free what the source holds (the sender goes with the push list). */
void am_rw_source_stop(struct am_rw_source *s, struct am_loop *loop);

#endif
