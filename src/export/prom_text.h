/* Prometheus text exposition (format 0.0.4) of a metric set: a pure function, shared by the
 * `collect` subcommand and the daemon's /metrics endpoint. */
#ifndef ANTIMETAL_EXPORT_PROM_TEXT_H
#define ANTIMETAL_EXPORT_PROM_TEXT_H

#include "records/metric.h"
#include "util/strbuf.h"

/* The Content-Type a scrape response carrying this text must use. */
#define AM_PROM_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Append SET to OUT: samples grouped by metric name (sorted by name, the set's order kept
 * within a name), one HELP and TYPE line per name, label values escaped. */
void am_prom_text_render(const struct am_metric_set *set, struct am_strbuf *out);
/* The same, naming metrics by node_exporter's names (LEGACY 0, the default) or by the agent's
 * own antimetal_* names (LEGACY 1: config prometheus.names: antimetal). */
void am_prom_text_render_names(const struct am_metric_set *set, struct am_strbuf *out, int legacy);
/* Append V as a Prometheus sample value: integers exactly, others in the shortest form that
 * reads back equal, NaN and +Inf/-Inf spelled as Prometheus expects. */
void am_prom_text_value(struct am_strbuf *out, double v);
/* Append S escaped for a label value (backslash, double quote, newline); bytes that are not
 * valid UTF-8 become '?', since the format requires UTF-8. */
void am_prom_text_label_value(struct am_strbuf *out, const char *s);

#endif
