/* The entity that produces the telemetry, OpenTelemetry's Resource: string attributes
 * (host.name, service.name, ...) in the order they were first set. The agent fills it; the
 * OTLP exporters copy it into every request. */
#ifndef ANTIMETAL_RECORDS_RESOURCE_H
#define ANTIMETAL_RECORDS_RESOURCE_H

#include <stddef.h>

#define AM_RESOURCE_MAX_ATTRS 64

struct am_resource_attr {
	char *key, *value; /* owned */
};

struct am_resource {
	struct am_resource_attr attrs[AM_RESOURCE_MAX_ATTRS];
	size_t n;
};

/* Set KEY to VALUE, replacing an earlier value in its place. Returns 0, -ENOSPC past
 * AM_RESOURCE_MAX_ATTRS attributes, or -ENOMEM. */
int am_resource_set(struct am_resource *r, const char *key, const char *value);
/* The value of KEY, NULL when unset. */
const char *am_resource_get(const struct am_resource *r, const char *key);
/* Free the strings; R is empty after. */
void am_resource_free(struct am_resource *r);

#endif
