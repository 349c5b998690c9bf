/* JSON rendering of a metric set: a pure function, shared by the `collect` subcommand and the
 * daemon's JSON-lines exporter (which wraps it in its self-describing envelope). */
#ifndef ANTIMETAL_EXPORT_METRICS_JSON_H
#define ANTIMETAL_EXPORT_METRICS_JSON_H

#include "records/metric.h"
#include "util/strbuf.h"

/* Append SET as a JSON array, in the set's order, one object per sample:
 * {"name":"antimetal_load1","type":"gauge","labels":{"cpu":"0"},"value":0.5}.
 * Non-finite values become null. */
void am_metrics_json_array(const struct am_metric_set *set, struct am_strbuf *out);
/* Append the samples of SET from index FROM on as a JSON array, stopping after the sample that
 * takes the array past MAX_BYTES (at least one sample is always written). Returns the index of
 * the first sample left out, SET->n when none was. */
size_t am_metrics_json_array_from(const struct am_metric_set *set, size_t from, size_t max_bytes,
				  struct am_strbuf *out);
/* Append SET as one JSON object on one line (no newline):
 * {"type":"metrics","timestamp_ns":N,"metrics":[...]}. */
void am_metrics_json_render(const struct am_metric_set *set, struct am_strbuf *out);

#endif
