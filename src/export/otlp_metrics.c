#include "export/otlp_metrics.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp_body.h"
#include "export/otlp_resource.h"
#include "otlp_metrics_service.pb-c.h"

#define NAME_MAX_LEN 160

typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint Point;
typedef Opentelemetry__Proto__Metrics__V1__Sum Sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge Gauge;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

static bool strip_suffix(char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	if (n <= k || strcmp(s + n - k, suffix))
		return false;
	s[n - k] = '\0';
	return true;
}

void am_otlp_metric_name(const struct am_metric_desc *d, char *out, size_t len)
{
	const char *src = d->name ? d->name : d->prom;
	char buf[NAME_MAX_LEN], *p;

	if (d->otel) {
		snprintf(out, len, "%s", d->otel);
		return;
	}
	if (!strncmp(src, "antimetal_", 10))
		src += 10;
	else if (!strncmp(src, "node_", 5))
		src += 5;
	snprintf(buf, sizeof(buf), "%s", src);
	/* A Sum says it is a total. The unit words stay: without them node_sockstat_TCP_mem
	 * (pages) and node_sockstat_TCP_mem_bytes would meet under one name. */
	strip_suffix(buf, "_total");
	for (p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	p = strchr(buf, '_');
	if (p)
		*p = '.';
	snprintf(out, len, "antimetal.%s", buf);
}

const char *am_otlp_metric_unit(const struct am_metric_desc *d)
{
	return d->otel_unit ? d->otel_unit : d->unit ? d->unit : "";
}

static bool is_sum(const struct am_metric_desc *d)
{
	return d->type == AM_METRIC_COUNTER || d->otel_updown;
}

/* ---- grouping points by name ---- */

struct ref {
	const struct am_metric *m;
	const struct am_otlp_metrics_input *in;
	const char *name;
	size_t order; /* position in the inputs: kept within a name */
};

static int by_desc(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->m->desc != y->m->desc)
		return (uintptr_t)x->m->desc < (uintptr_t)y->m->desc ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int by_name(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Everything one request points into, allocated once it is sized. */
struct arena {
	struct ref *refs;
	char (*names)[NAME_MAX_LEN];
	Metric *metrics, **mptr;
	Sum *sums;
	Gauge *gauges;
	Point *points, **pptr;
	KeyValue *kv, **kvp;
	AnyValue *av;
	size_t nrefs, nnames, nmetrics, nattrs;
};

static void arena_free(struct arena *a)
{
	free(a->refs);
	free(a->names);
	free(a->metrics);
	free(a->mptr);
	free(a->sums);
	free(a->gauges);
	free(a->points);
	free(a->pptr);
	free(a->kv);
	free(a->kvp);
	free(a->av);
}

/* The point's attribute name for label NAME of D. */
static const char *attr_name(const struct am_metric_desc *d, const char *label)
{
	size_t i;

	for (i = 0; i < sizeof(d->otel_labels) / sizeof(d->otel_labels[0]); i++)
		if (d->otel_labels[i].a && !strcmp(d->otel_labels[i].a, label))
			return d->otel_labels[i].b;
	return label;
}

static size_t fixed_attrs(const struct am_metric_desc *d)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(d->otel_attrs) / sizeof(d->otel_attrs[0]); i++)
		n += d->otel_attrs[i].a != NULL;
	return n;
}

/* Attributes of M: fixed ones, then labels with a value (Prometheus' empty label is no label). */
static size_t count_attrs(const struct am_metric *m)
{
	size_t n = fixed_attrs(m->desc);
	int j;

	for (j = 0; j < m->nlabels; j++)
		n += m->labels[j].value[0] != '\0';
	return n;
}

/* Collect the refs sorted by name; names computed once per descriptor. */
static int collect(struct arena *a, const struct am_otlp_metrics_input *in, size_t nin)
{
	size_t i, j, n = 0;

	for (i = 0; i < nin; i++)
		n += in[i].set->n;
	a->refs = calloc(n ? n : 1, sizeof(*a->refs));
	if (!a->refs)
		return -ENOMEM;
	for (i = 0; i < nin; i++)
		for (j = 0; j < in[i].set->n; j++) {
			a->refs[a->nrefs] =
			    (struct ref){&in[i].set->items[j], &in[i], NULL, a->nrefs};
			a->nattrs += count_attrs(&in[i].set->items[j]);
			a->nrefs++;
		}
	qsort(a->refs, a->nrefs, sizeof(*a->refs), by_desc);
	/* One name per descriptor, not per point (cgroups make tens of thousands of points). */
	for (i = 0, n = 0; i < a->nrefs; i++)
		n += !i || a->refs[i].m->desc != a->refs[i - 1].m->desc;
	a->names = calloc(n ? n : 1, sizeof(*a->names));
	if (!a->names)
		return -ENOMEM;
	for (i = 0; i < a->nrefs; i++) {
		if (!i || a->refs[i].m->desc != a->refs[i - 1].m->desc)
			am_otlp_metric_name(a->refs[i].m->desc, a->names[a->nnames++],
					    NAME_MAX_LEN);
		a->refs[i].name = a->names[a->nnames - 1];
	}
	qsort(a->refs, a->nrefs, sizeof(*a->refs), by_name);
	for (i = 0; i < a->nrefs; i++)
		a->nmetrics += !i || strcmp(a->refs[i].name, a->refs[i - 1].name);
	return 0;
}

static int allocate(struct arena *a)
{
	size_t m = a->nmetrics ? a->nmetrics : 1, p = a->nrefs ? a->nrefs : 1,
	       k = a->nattrs ? a->nattrs : 1;

	a->metrics = calloc(m, sizeof(*a->metrics));
	a->mptr = calloc(m, sizeof(*a->mptr));
	a->sums = calloc(m, sizeof(*a->sums));
	a->gauges = calloc(m, sizeof(*a->gauges));
	a->points = calloc(p, sizeof(*a->points));
	a->pptr = calloc(p, sizeof(*a->pptr));
	a->kv = calloc(k, sizeof(*a->kv));
	a->kvp = calloc(k, sizeof(*a->kvp));
	a->av = calloc(k, sizeof(*a->av));
	return a->metrics && a->mptr && a->sums && a->gauges && a->points && a->pptr && a->kv &&
		       a->kvp && a->av
		   ? 0
		   : -ENOMEM;
}

static void add_attr(struct arena *a, size_t *k, const char *key, const char *value)
{
	KeyValue *kv = &a->kv[*k];
	AnyValue *av = &a->av[*k];

	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(av);
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	av->string_value = (char *)value;
	kv->key = (char *)key;
	kv->value = av;
	a->kvp[*k] = kv;
	(*k)++;
}

static void fill_point(struct arena *a, size_t i, size_t *k)
{
	const struct ref *r = &a->refs[i];
	const struct am_metric_desc *d = r->m->desc;
	Point *pt = &a->points[i];
	size_t j, first = *k;
	int l;

	opentelemetry__proto__metrics__v1__number_data_point__init(pt);
	for (j = 0; j < sizeof(d->otel_attrs) / sizeof(d->otel_attrs[0]); j++)
		if (d->otel_attrs[j].a)
			add_attr(a, k, d->otel_attrs[j].a, d->otel_attrs[j].b);
	for (l = 0; l < r->m->nlabels; l++)
		if (r->m->labels[l].value[0])
			add_attr(a, k, attr_name(d, r->m->labels[l].name), r->m->labels[l].value);
	pt->n_attributes = *k - first;
	pt->attributes = pt->n_attributes ? &a->kvp[first] : NULL;
	pt->time_unix_nano = r->in->set->timestamp_ns;
	if (is_sum(d))
		pt->start_time_unix_nano = r->in->start_ns;
	pt->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	pt->as_double = r->m->value;
	a->pptr[i] = pt;
}

/* Metric M for the refs [FIRST, END): its kind and unit are those of the first descriptor. */
static void fill_metric(struct arena *a, size_t m, size_t first, size_t end)
{
	const struct am_metric_desc *d = a->refs[first].m->desc;
	Metric *mt = &a->metrics[m];

	opentelemetry__proto__metrics__v1__metric__init(mt);
	mt->name = (char *)a->refs[first].name;
	mt->description = (char *)(d->help ? d->help : "");
	mt->unit = (char *)am_otlp_metric_unit(d);
	if (is_sum(d)) {
		Sum *s = &a->sums[m];

		opentelemetry__proto__metrics__v1__sum__init(s);
		s->aggregation_temporality =
		    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		s->is_monotonic = !d->otel_updown;
		s->n_data_points = end - first;
		s->data_points = &a->pptr[first];
		mt->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
		mt->sum = s;
	} else {
		Gauge *g = &a->gauges[m];

		opentelemetry__proto__metrics__v1__gauge__init(g);
		g->n_data_points = end - first;
		g->data_points = &a->pptr[first];
		mt->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
		mt->gauge = g;
	}
	a->mptr[m] = mt;
}

static void build(struct arena *a)
{
	size_t i, k = 0, m = 0, first = 0;

	for (i = 0; i < a->nrefs; i++)
		fill_point(a, i, &k);
	for (i = 1; i <= a->nrefs; i++)
		if (i == a->nrefs || strcmp(a->refs[i].name, a->refs[first].name)) {
			fill_metric(a, m++, first, i);
			first = i;
		}
}

int am_otlp_metrics_encode(const struct am_otlp_metrics_input *in, size_t nin,
			   const struct am_resource *res, const char *version, bool gzip,
			   void **out, size_t *len, uint64_t *npoints)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req;
	Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm, *rmp = &rm;
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm, *smp = &sm;
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope;
	struct am_otlp_resource r;
	struct arena a = {0};
	void *packed;
	size_t size;
	int rc;

	*out = NULL;
	*len = 0;
	*npoints = 0;
	rc = collect(&a, in, nin);
	if (!rc)
		rc = allocate(&a);
	if (rc) {
		arena_free(&a);
		return rc;
	}
	build(&a);
	am_otlp_resource_init(&r, res);
	opentelemetry__proto__common__v1__instrumentation_scope__init(&scope);
	scope.name = AM_OTLP_SCOPE_NAME;
	scope.version = (char *)version;
	opentelemetry__proto__metrics__v1__scope_metrics__init(&sm);
	sm.scope = &scope;
	sm.n_metrics = a.nmetrics;
	sm.metrics = a.mptr;
	opentelemetry__proto__metrics__v1__resource_metrics__init(&rm);
	rm.resource = &r.msg;
	rm.n_scope_metrics = 1;
	rm.scope_metrics = &smp;
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(&req);
	req.n_resource_metrics = 1;
	req.resource_metrics = &rmp;
	size =
	    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size(
		&req);
	packed = malloc(size ? size : 1);
	if (packed) {
		size =
		    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__pack(
			&req, packed);
		*npoints = a.nrefs;
	}
	arena_free(&a);
	rc = packed ? am_otlp_body_finish(packed, size, gzip, out, len) : -ENOMEM;
	if (rc)
		*npoints = 0;
	return rc;
}

void am_otlp_metrics_parse_response(const void *body, size_t len, uint64_t *rejected, char *msg,
				    size_t msglen)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *resp;

	*rejected = 0;
	if (msglen)
		msg[0] = '\0';
	if (!len)
		return; /* an empty body is an empty response: full success */
	resp =
	    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
		NULL, len, body);
	if (!resp) {
		snprintf(msg, msglen,
			 "the receiver's response is not an "
			 "ExportMetricsServiceResponse (%zu bytes)",
			 len);
		return;
	}
	if (resp->partial_success) {
		if (resp->partial_success->rejected_data_points > 0)
			*rejected = (uint64_t)resp->partial_success->rejected_data_points;
		if (resp->partial_success->error_message)
			snprintf(msg, msglen, "%s", resp->partial_success->error_message);
	}
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(
	    resp, NULL);
}
