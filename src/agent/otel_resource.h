/* The agent's OpenTelemetry resource: what the host and the agent are, read once at start
 * (and at a reload), attributes by the semantic conventions, then what OTEL_RESOURCE_ATTRIBUTES
 * (otlp.resource_attributes) adds or overrides, then OTEL_SERVICE_NAME (otlp.service_name). */
#ifndef ANTIMETAL_AGENT_OTEL_RESOURCE_H
#define ANTIMETAL_AGENT_OTEL_RESOURCE_H

#include <stddef.h>

#include "agent/config.h"
#include "records/resource.h"

#define AM_OTEL_SERVICE_NAME "antimetal-agent"

/* Fill R: host.name (hostname, else the kernel's), host.id (ROOTFS/etc/machine-id, left out
 * where absent), host.arch (semconv: amd64, arm64, ...), os.type, os.description (os-release's
 * PRETTY_NAME and the kernel), service.name, service.version (VERSION), then the configured
 * attributes. Returns 0 or -errno with the reason in ERR. */
int am_otel_resource_build(const struct am_config *c, const char *version, struct am_resource *r,
			   char *err, size_t errlen);

/* The semconv host.arch for a uname machine (x86_64 -> amd64, aarch64 -> arm64); MACHINE
 * itself where the conventions name no value for it. */
const char *am_otel_host_arch(const char *machine);

#endif
