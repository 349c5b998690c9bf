/* A resource record as the OTLP Resource message, shared by the metrics and logs encoders. The
 * message points into the record's strings: the record must outlive it. */
#ifndef ANTIMETAL_EXPORT_OTLP_RESOURCE_H
#define ANTIMETAL_EXPORT_OTLP_RESOURCE_H

#include "otlp_resource.pb-c.h"
#include "records/resource.h"

struct am_otlp_resource {
	Opentelemetry__Proto__Resource__V1__Resource msg;
	Opentelemetry__Proto__Common__V1__KeyValue kv[AM_RESOURCE_MAX_ATTRS];
	Opentelemetry__Proto__Common__V1__KeyValue *kvp[AM_RESOURCE_MAX_ATTRS];
	Opentelemetry__Proto__Common__V1__AnyValue val[AM_RESOURCE_MAX_ATTRS];
};

/* Fill OUT from R (string attributes, R's order). Nothing to free. */
void am_otlp_resource_init(struct am_otlp_resource *out, const struct am_resource *r);

#endif
