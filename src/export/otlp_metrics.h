/* Metric sets as one OTLP ExportMetricsServiceRequest (protobuf): one Metric per OpenTelemetry
 * name with all its points, names and attributes from each descriptor's OTel fields
 * (records/metric_desc.h), counters as cumulative monotonic Sums, the conventions'
 * UpDownCounters as non-monotonic Sums, everything else as Gauges. */
#ifndef ANTIMETAL_EXPORT_OTLP_METRICS_H
#define ANTIMETAL_EXPORT_OTLP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records/metric.h"
#include "records/resource.h"

#define AM_OTLP_SCOPE_NAME "antimetal-agent"

/* One collection and when its sums started counting. */
struct am_otlp_metrics_input {
	const struct am_metric_set *set; /* its timestamp_ns is every point's time */
	/* start_time_unix_nano of its Sums: the host's boot for kernel counters, the agent's
	 * start for its own */
	uint64_t start_ns;
};

/* D's OTLP name into OUT: D->otel, else "antimetal." and the agent's name (or node_exporter's)
 * without its antimetal_/node_ prefix and _total suffix, its first '_' a '.', in lower case:
 * antimetal_disk_read_bytes_total -> antimetal.disk.read_bytes. */
void am_otlp_metric_name(const struct am_metric_desc *d, char *out, size_t len);
/* D's OTLP unit ("" when none). */
const char *am_otlp_metric_unit(const struct am_metric_desc *d);

/* Encode the NIN inputs into *OUT (malloc'd, *LEN bytes, gzip'd when GZIP: export/otlp_body.h),
 * with resource RES and the scope antimetal-agent VERSION; *NPOINTS is the data points it holds.
 * Returns 0 or -ENOMEM. */
int am_otlp_metrics_encode(const struct am_otlp_metrics_input *in, size_t nin,
			   const struct am_resource *res, const char *version, bool gzip,
			   void **out, size_t *len, uint64_t *npoints);

/* Read an ExportMetricsServiceResponse BODY (the sender's parse_response): the partial
 * success's rejected_data_points into *REJECTED and its error_message into MSG. A body that
 * does not parse rejects nothing and says so in MSG. */
void am_otlp_metrics_parse_response(const void *body, size_t len, uint64_t *rejected, char *msg,
				    size_t msglen);

#endif
