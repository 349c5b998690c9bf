/* Prometheus remote_write 1.0: metric sets encoded as one prompb WriteRequest (protobuf-c),
 * compressed with snappy's block format, as the specification requires. The series are those
 * /metrics serves for the same sets: the same names (am_metric_desc_prom_name), the same label
 * values (bytes that are not UTF-8 become '?'), each sample stamped with its set's collection
 * time. Delivery is the sender's job (export/sender.h). */
#ifndef ANTIMETAL_EXPORT_REMOTE_WRITE_H
#define ANTIMETAL_EXPORT_REMOTE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records/metric.h"

/* What the sender must announce with every payload (remote_write 1.0). */
#define AM_RW_CONTENT_TYPE     "application/x-protobuf"
#define AM_RW_CONTENT_ENCODING "snappy"
#define AM_RW_VERSION_HEADER   "X-Prometheus-Remote-Write-Version: 0.1.0"

/* External labels added to every series, as Prometheus' global.external_labels are. */
#define AM_RW_MAX_EXTERNAL 16

struct am_rw_label {
	const char *name, *value;
};

struct am_rw_options {
	/* Added to every series that does not carry a label of the same name already (the
	 * series' own label wins, as with Prometheus' external labels). */
	const struct am_rw_label *external;
	size_t nexternal;
	int legacy_names; /* the agent's antimetal_* names, as http.antimetal_names on /metrics */
	bool metadata;	  /* one MetricMetadata (type, help, unit) per metric family */
};

struct am_rw_payload {
	void *data; /* snappy block of the WriteRequest; malloc'd, the caller frees it */
	size_t len;
	size_t raw_len;	     /* the protobuf before compression */
	uint64_t series;     /* time series (one sample each) in the request */
	uint64_t duplicates; /* series left out: same labels as an earlier one of the sets */
	uint64_t metadata;   /* MetricMetadata entries */
};

/* Encode every sample of SETS[0..NSETS) into OUT. A sample is stamped with its own set's
 * timestamp_ns (in ms, as the protocol wants); labels are sorted by name, __name__ included,
 * labels with empty values are left out (Prometheus treats them as absent). Returns 0, -ENOMEM,
 * or -EINVAL when there is no series to send (OUT then empty). */
int am_rw_encode(const struct am_metric_set *const *sets, size_t nsets,
		 const struct am_rw_options *o, struct am_rw_payload *out);

/* Whether NAME may be an external label name: [a-zA-Z_][a-zA-Z0-9_]*, not reserved (__*). */
bool am_rw_label_name_valid(const char *name);

/* snappy block format both ways; *OUT is malloc'd. Return 0, -ENOMEM or -EINVAL (corrupt). */
int am_rw_snappy_compress(const void *in, size_t len, void **out, size_t *outlen);
int am_rw_snappy_uncompress(const void *in, size_t len, void **out, size_t *outlen);

#endif
