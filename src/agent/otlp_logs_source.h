/* OTLP logs in the daemon: exec/exit records from execsnoop and kernel log records from
 * /dev/kmsg are packed into one batch as they arrive (nothing is kept unpacked, so nothing is
 * lost between a source and the queue), and the batch goes to the sender when it reaches
 * otlp.logs_batch_size records or a quarter of otlp.queue_bytes, or otlp.logs_delay after its
 * first record
 * (OTEL_BLRP_MAX_EXPORT_BATCH_SIZE, OTEL_BLRP_SCHEDULE_DELAY), gzip'd by the encoder when
 * otlp.logs_compression (else otlp.compression) says so. The sender (export/sender.h) queues,
 * retries and counts from there; a record the batch could not take (out of memory) is counted here.
 */
#ifndef ANTIMETAL_AGENT_OTLP_LOGS_SOURCE_H
#define ANTIMETAL_AGENT_OTLP_LOGS_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "agent/push.h"
#include "export/otlp_logs.h"
#include "export/otlp_resource.h"
#include "records/metric.h"
#include "records/resource.h"
#include "util/loop.h"

struct am_otlp_logs_source {
	struct am_sender *sender; /* owned by the agent's push list; NULL: off */
	struct am_loop *loop;
	struct am_loop_source *timer;
	bool armed;
	struct am_otlp_logs batch;
	struct am_resource resource;
	struct am_otlp_resource res_msg;
	bool gzip;
	uint64_t delay_ns;
	uint64_t max_records;
	uint64_t max_bytes;	/* encoded bytes a batch may reach before it goes */
	uint64_t payloads;	/* handed to the sender */
	uint64_t dropped_nomem; /* records no batch could take, or batches not encoded */
	uint64_t exec_records, kmsg_records; /* offered by each source */
	struct am_otlp_config cfg;	     /* what the running sender was started with */
	char hostname[256];
};

/* Bring OTLP logs in line with CFG, at start and at each reload: on, the sender (added to PUSH,
 * which owns it) and the batch timer in LOOP; unchanged otlp settings and host name keep the
 * running sender and its counts; changed ones hand the batch to the old sender, flush that
 * within export.shutdown_timeout and start anew. Returns 0 (also when off), or -errno with the
 * reason in ERR. */
int am_otlp_logs_source_apply(struct am_otlp_logs_source *x, struct am_loop *loop,
			      const struct am_config *cfg, const char *version,
			      struct am_push *push, char *err, size_t errlen);
/* Whether records are exported (started and on). */
bool am_otlp_logs_source_on(const struct am_otlp_logs_source *x);
/* Take one exec/exit record, or one kernel log record. */
void am_otlp_logs_source_exec(struct am_otlp_logs_source *x, const struct am_exec_record *r);
void am_otlp_logs_source_kmsg(struct am_otlp_logs_source *x, const struct am_kmsg_event *e);
/* Hand the current batch to the sender now. */
void am_otlp_logs_source_flush(struct am_otlp_logs_source *x);
/* antimetal_otlp_logs_records_total{source} and the records lost before the sender. */
void am_otlp_logs_source_metrics(struct am_otlp_logs_source *x, struct am_metric_set *set);
/* Hand the batch to the sender and log the counts; then with PUSH, take the sender out of it
 * (flushed within DEADLINE_MS), or without, leave it to the push list's own stop (call before
 * that). The batch and resource are freed; apply starts it again. */
void am_otlp_logs_source_stop(struct am_otlp_logs_source *x, struct am_push *push,
			      uint32_t deadline_ms);

#endif
