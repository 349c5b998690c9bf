/* What a metric is, said once: meaning (help), unit, type, label names, and the name each
 * ecosystem knows it by. Collectors point their samples at a static descriptor; each exporter
 * picks its own name from it (Prometheus: node_exporter's where it has one; OTLP: the
 * OpenTelemetry semantic conventions; JSON lines: the agent's own antimetal_* name). */
#ifndef ANTIMETAL_RECORDS_METRIC_DESC_H
#define ANTIMETAL_RECORDS_METRIC_DESC_H

/* node_os_info has twelve. */
#define AM_METRIC_MAX_LABELS 12

/* A (name, value) or (label, attribute) pair of the OTLP rendering. */
struct am_otel_pair {
	const char *a, *b;
};

enum am_metric_type {
	AM_METRIC_GAUGE,
	AM_METRIC_COUNTER,
	/* Value 1, the facts in the labels (node_uname_info); a gauge in the Prometheus text. */
	AM_METRIC_INFO,
};

struct am_metric_desc {
	/* The agent's own name (antimetal_*): JSON lines, and /metrics with
	 * http.antimetal_names: true. NULL for metrics that only exist for node_exporter
	 * compatibility: those use PROM everywhere. */
	const char *name;
	/* node_exporter 1.5's name (node_*, process_*); NULL when node_exporter has none. */
	const char *prom;
	/* OTLP (export/otlp_metrics.c): the OpenTelemetry semantic-conventions name where one
	 * covers this series (system.memory.usage, process.cpu.time); NULL: an antimetal.* name
	 * derived from NAME (or PROM). Several descriptors may share one OTel name when the
	 * conventions split by attributes what node_exporter names apart: they then differ in
	 * OTEL_ATTRS and must agree on unit and kind. */
	const char *otel;
	/* Attributes every point gets under OTEL (system.memory.state=free). */
	struct am_otel_pair otel_attrs[2];
	/* Labels renamed to the conventions' attributes (device -> system.device); labels not
	 * listed keep their names. */
	struct am_otel_pair otel_labels[3];
	const char *otel_unit;	  /* where OTEL's unit differs from UNIT ("{thread}") */
	unsigned otel_updown : 1; /* a non-monotonic Sum (an UpDownCounter in the conventions) */
	const char *help; /* one line, same meaning as node_exporter's HELP where it has one */
	const char *unit; /* UCUM as OTLP wants it: "s", "By", "1", "{packet}"; NULL: none */
	enum am_metric_type type;
	/* node_exporter declares it untyped (vmstat, netstat): so does /metrics, to be a
	 * drop-in; other exporters keep TYPE. */
	unsigned prom_untyped : 1;
	/* Label names in the order samples carry them, NULL-terminated; documentation and
	 * exporters' schema, samples still carry the names they were given. */
	const char *labels[AM_METRIC_MAX_LABELS + 1];
};

/* A static descriptor defined where it is used, for metrics emitted from one place:
 * am_metric_add(out, AM_METRIC_DESC(.name = "...", .help = "...", .type = ...), v, NULL). */
#define AM_METRIC_DESC(...)                                                                        \
	(__extension__({                                                                           \
		static const struct am_metric_desc am_desc_ = {__VA_ARGS__};                       \
		&am_desc_;                                                                         \
	}))

/* The name the Prometheus exposition uses: PROM unless LEGACY (antimetal names asked for) or
 * node_exporter has none. */
static inline const char *am_metric_desc_prom_name(const struct am_metric_desc *d, int legacy)
{
	if (d->prom && (!legacy || !d->name))
		return d->prom;
	return d->name;
}

/* The name JSON lines use: the agent's own, or PROM for compatibility-only metrics. */
static inline const char *am_metric_desc_json_name(const struct am_metric_desc *d)
{
	return d->name ? d->name : d->prom;
}

#endif
