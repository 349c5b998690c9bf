#include "agent/source_common.h"

#include "util/json.h"

static const struct am_metric_desc up_desc = {
    .name = "antimetal_agent_continuous_collector_up",
    .help = "Whether a continuous eBPF collector is running (1) or not (0).",
    .type = AM_METRIC_GAUGE,
    .labels = {"collector"},
};

static const struct am_metric_desc lost_desc = {
    .name = "antimetal_agent_bpf_events_lost_total",
    .help = "Events a BPF collector lost (buffer full, overwritten, malformed).",
    .type = AM_METRIC_COUNTER,
    .labels = {"collector"},
};

void am_source_health(struct am_metric_set *set, const char *name, bool up, uint64_t lost)
{
	am_metric_add(set, &up_desc, up ? 1 : 0, "collector", name, NULL);
	am_metric_add(set, &lost_desc, (double)lost, "collector", name, NULL);
}

void am_source_write_event(struct am_jsonl *out, struct am_strbuf *line, struct am_strbuf *event,
			   const char *host, uint64_t ts_ns, const char *source)
{
	if (event->len && event->data[event->len - 1] == '\n')
		event->data[--event->len] = '\0';
	am_strbuf_reset(line);
	am_jsonl_begin(line, "event", host, ts_ns);
	am_json_kv_str(line, "source", source, false);
	am_json_key(line, "event", false);
	am_strbuf_append(line, event->data, event->len);
	am_jsonl_end(line);
	if (!line->oom && !event->oom)
		am_jsonl_write(out, line->data, line->len);
	am_strbuf_reset(event);
	line->oom = event->oom = false;
}
