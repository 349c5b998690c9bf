/* What the daemon's continuous (eBPF) sources share: their health and loss series, described
 * once, and the JSON-lines envelope of one event. */
#ifndef ANTIMETAL_AGENT_SOURCE_COMMON_H
#define ANTIMETAL_AGENT_SOURCE_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "export/jsonl.h"
#include "records/metric.h"
#include "util/strbuf.h"

/* antimetal_agent_continuous_collector_up{collector=NAME} and
 * antimetal_agent_bpf_events_lost_total{collector=NAME}. */
void am_source_health(struct am_metric_set *set, const char *name, bool up, uint64_t lost);

/* Write EVENT (one JSON object, a trailing newline allowed) to OUT as the daemon's event line
 * {"type":"event",...,"source":SOURCE,"event":EVENT}, built in LINE. A line or event that ran
 * out of memory is dropped; both buffers are reset for the next event. */
void am_source_write_event(struct am_jsonl *out, struct am_strbuf *line, struct am_strbuf *event,
			   const char *host, uint64_t ts_ns, const char *source);

#endif
