/* A sender's self-metrics: what it sent, retried, lost and holds, labelled by exporter. */
#include "export/sender.h"
#include "records/metric.h"

static const char *const reasons[AM_SENDER_DROP_NREASONS] = {
    [AM_SENDER_DROP_QUEUE_FULL] = "queue_full",
    [AM_SENDER_DROP_PERMANENT] = "permanent",
    [AM_SENDER_DROP_RETRIES] = "retries",
    [AM_SENDER_DROP_SHUTDOWN] = "shutdown",
};

#define COUNTER(var, nm, hlp, u)                                                                   \
	static const struct am_metric_desc var = {                                                 \
	    .name = nm, .help = hlp, .unit = u, .type = AM_METRIC_COUNTER, .labels = {"exporter"}}
#define GAUGE(var, nm, hlp, u)                                                                     \
	static const struct am_metric_desc var = {                                                 \
	    .name = nm, .help = hlp, .unit = u, .type = AM_METRIC_GAUGE, .labels = {"exporter"}}

COUNTER(requests, "antimetal_export_requests_total",
	"HTTP requests made to the receiver, retries included.", "{request}");
COUNTER(sent_items, "antimetal_export_sent_items_total",
	"Items (points, samples, log records) the receiver accepted.", "{item}");
COUNTER(sent_payloads, "antimetal_export_sent_payloads_total",
	"Payloads the receiver answered with 2xx.", "{payload}");
COUNTER(retries, "antimetal_export_retries_total", "Requests that repeated an earlier failed one.",
	"{request}");
COUNTER(rejected, "antimetal_export_rejected_items_total",
	"Items the receiver rejected inside an accepted payload (OTLP partial success).", "{item}");
COUNTER(request_seconds, "antimetal_export_request_duration_seconds_total",
	"Time spent in HTTP requests; divided by requests_total, the mean latency.", "s");
GAUGE(queue_bytes, "antimetal_export_queue_bytes", "Payload bytes held: queued and on the wire.",
      "By");
GAUGE(queue_max_bytes, "antimetal_export_queue_max_bytes",
      "The queue's bound; the oldest payloads are dropped beyond it.", "By");
GAUGE(queued_items, "antimetal_export_queued_items", "Items held: queued and on the wire.",
      "{item}");
GAUGE(last_success, "antimetal_export_last_success_timestamp_seconds",
      "Unix time of the last payload the receiver accepted; 0: none yet.", "s");

static const struct am_metric_desc dropped_items = {
    .name = "antimetal_export_dropped_items_total",
    .help = "Items never delivered, by reason: queue_full (oldest evicted), permanent (refused "
	    "by the receiver), retries (retried past the limit), shutdown (left at exit).",
    .unit = "{item}",
    .type = AM_METRIC_COUNTER,
    .labels = {"exporter", "reason"},
};

static const struct am_metric_desc dropped_payloads = {
    .name = "antimetal_export_dropped_payloads_total",
    .help = "Payloads never delivered, by reason (as dropped_items_total).",
    .unit = "{payload}",
    .type = AM_METRIC_COUNTER,
    .labels = {"exporter", "reason"},
};

void am_sender_metrics(struct am_sender *s, struct am_metric_set *out)
{
	struct am_sender_stats st;
	const char *name = am_sender_name(s);
	int i;

	am_sender_get_stats(s, &st);
#define ADD(desc, v) am_metric_add(out, &desc, (double)(v), "exporter", name, NULL)
	ADD(requests, st.requests);
	ADD(sent_items, st.sent_items);
	ADD(sent_payloads, st.sent_payloads);
	ADD(retries, st.retries);
	ADD(rejected, st.rejected_items);
	ADD(request_seconds, st.request_seconds_sum);
	ADD(queue_bytes, st.queue_bytes);
	ADD(queue_max_bytes, st.queue_max_bytes);
	ADD(queued_items, st.queued_items);
	ADD(last_success, (double)st.last_success_unix_ns / 1e9);
#undef ADD
	for (i = 0; i < AM_SENDER_DROP_NREASONS; i++) {
		am_metric_add(out, &dropped_items, (double)st.dropped_items[i], "exporter", name,
			      "reason", reasons[i], NULL);
		am_metric_add(out, &dropped_payloads, (double)st.dropped_payloads[i], "exporter",
			      name, "reason", reasons[i], NULL);
	}
}
