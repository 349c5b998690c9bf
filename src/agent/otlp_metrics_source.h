/* OTLP metrics push: every otlp.metrics_interval (OTEL_METRIC_EXPORT_INTERVAL) the latest
 * collection of every system collector and the agent's own metrics are encoded as one
 * ExportMetricsServiceRequest, gzip'd by the encoder when otlp.metrics_compression (else
 * otlp.compression) says so, and queued on a sender of the push list;
 * the loop never waits on the receiver. */
#ifndef ANTIMETAL_AGENT_OTLP_METRICS_SOURCE_H
#define ANTIMETAL_AGENT_OTLP_METRICS_SOURCE_H

#include <stdint.h>

#include "agent/collector_runner.h"
#include "agent/config.h"
#include "agent/push.h"
#include "records/metric.h"
#include "records/resource.h"
#include "util/loop.h"

/* The agent's own metrics (health, exporters, sources) appended to OUT. */
typedef void (*am_own_metrics_fn)(void *ctx, struct am_metric_set *out);

/* Zero-initialised is stopped. */
struct am_otlp_metrics_source {
	struct am_sender *sender; /* in the push list, which owns it */
	struct am_loop_source *timer;
	struct am_otlp_config cfg; /* what it was started with: a reload compares */
	char hostname[256];	   /* the resource's host.name comes from it */
	struct am_resource res;
	const struct am_runner *runner;
	am_own_metrics_fn own;
	void *own_ctx;
	const char *version;
	uint64_t start_ns; /* the agent's start: its own counters' start time */
	bool gzip;
	uint64_t exports, encode_errors;
};

/* Start exporting under CFG when its otlp.metrics says so (nothing otherwise), reading RUNNER
 * and OWN at each tick; the sender joins PUSH. A reload calls it again: an unchanged otlp
 * configuration keeps the running sender, a changed one replaces it (the old one flushed
 * within the shutdown timeout). Returns 0, or -errno with the reason logged. */
int am_otlp_metrics_source_apply(struct am_otlp_metrics_source *s, struct am_loop *loop,
				 struct am_push *push, const struct am_config *cfg,
				 const struct am_runner *runner, am_own_metrics_fn own,
				 void *own_ctx, const char *version, uint64_t start_ns);
/* Encode and queue one export now (the timer's work; also the last one at shutdown). */
void am_otlp_metrics_source_export(struct am_otlp_metrics_source *s);
/* Remove the timer and the sender (flushed within DEADLINE_MS). */
void am_otlp_metrics_source_stop(struct am_otlp_metrics_source *s, struct am_loop *loop,
				 struct am_push *push, uint32_t deadline_ms);

#endif
