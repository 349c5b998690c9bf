#include "export/remote_write.h"

#include <ctype.h>
#include <errno.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "prom_remote.pb-c.h"
#include "util/json.h"

/* One series before packing: its labels (sorted) live in the encoder's label arena. */
struct series {
	const struct am_metric *m;
	const char *family; /* the __name__ value */
	int64_t ts_ms;
	size_t idx; /* position over all sets: the first of duplicates is kept */
	size_t lab; /* first label in the arena */
	int nl;
};

struct enc {
	const struct am_rw_options *o;
	struct series *s;
	size_t n;
	struct am_rw_label *labels; /* the arena */
	size_t nlabels;
	char **owned; /* label values rewritten to be UTF-8 */
	size_t nowned;
};

bool am_rw_label_name_valid(const char *name)
{
	const char *p = name;

	if (!*p || (name[0] == '_' && name[1] == '_') || isdigit((unsigned char)*p))
		return false;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

/* The label value /metrics would show: invalid UTF-8 bytes as '?' (the format needs UTF-8),
 * unescaped since protobuf strings carry any byte. NULL when out of memory. */
static const char *utf8_value(struct enc *e, const char *v)
{
	size_t i, len = strlen(v);
	char *copy, **grown;

	if (am_utf8_valid(v, len))
		return v;
	/* Rare (a device or path name in another encoding): grown one at a time. */
	grown = realloc(e->owned, (e->nowned + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	e->owned = grown;
	copy = malloc(len + 1);
	if (!copy)
		return NULL;
	for (i = 0; i <= len; i++)
		copy[i] = (unsigned char)v[i] >= 0x80 ? '?' : v[i];
	e->owned[e->nowned++] = copy;
	return copy;
}

static bool has_label(const struct am_rw_label *l, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(l[i].name, name))
			return true;
	return false;
}

/* A dozen labels at most: insertion sort, by byte order as the protocol requires. */
static void sort_labels(struct am_rw_label *l, int n)
{
	int i, j;

	for (i = 1; i < n; i++) {
		struct am_rw_label x = l[i];

		for (j = i; j > 0 && strcmp(l[j - 1].name, x.name) > 0; j--)
			l[j] = l[j - 1];
		l[j] = x;
	}
}

static int add_series(struct enc *e, const struct am_metric *m, int64_t ts_ms, size_t idx)
{
	struct series *s = &e->s[e->n];
	struct am_rw_label *l = e->labels + e->nlabels;
	size_t i;
	int j, n = 0;

	*s = (struct series){.m = m, .ts_ms = ts_ms, .idx = idx, .lab = e->nlabels};
	s->family = am_metric_desc_prom_name(m->desc, e->o->legacy_names);
	l[n++] = (struct am_rw_label){"__name__", s->family};
	for (j = 0; j < m->nlabels; j++) {
		const char *v = m->labels[j].value;

		if (!v || !*v || has_label(l, n, m->labels[j].name))
			continue;
		v = utf8_value(e, v);
		if (!v)
			return -ENOMEM;
		l[n++] = (struct am_rw_label){m->labels[j].name, v};
	}
	for (i = 0; i < e->o->nexternal; i++) {
		const struct am_rw_label *x = &e->o->external[i];

		if (x->value[0] && !has_label(l, n, x->name))
			l[n++] = *x;
	}
	sort_labels(l, n);
	s->nl = n;
	e->nlabels += (size_t)n;
	e->n++;
	return 0;
}

static int cmp_series_labels(const struct series *x, const struct series *y,
			     const struct am_rw_label *arena)
{
	const struct am_rw_label *a = arena + x->lab, *b = arena + y->lab;
	int i, c;

	/* Names are mostly the same static strings, and a family's descriptor is shared: a
	 * pointer compare saves most of the string compares of the sort. */
	for (i = 0; i < x->nl && i < y->nl; i++) {
		c = a[i].name == b[i].name ? 0 : strcmp(a[i].name, b[i].name);
		if (!c && a[i].value != b[i].value)
			c = strcmp(a[i].value, b[i].value);
		if (c)
			return c;
	}
	return x->nl - y->nl;
}

/* Families together (metadata is per family), then by labels so duplicates are neighbours,
 * then in the sets' order so the first of them is the one kept. */
static int by_family_labels_index(const void *a, const void *b, void *arena)
{
	const struct series *x = a, *y = b;
	int c = x->family == y->family ? 0 : strcmp(x->family, y->family);

	if (!c)
		c = cmp_series_labels(x, y, arena);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int gather(struct enc *e, const struct am_metric_set *const *sets, size_t nsets)
{
	size_t i, k, total = 0, nlabels = 0, idx = 0;
	int err;

	/* Sized exactly: with thousands of series, pages touched are a good part of the cost. */
	for (i = 0; i < nsets; i++) {
		total += sets[i]->n;
		for (k = 0; k < sets[i]->n; k++)
			nlabels += (size_t)sets[i]->items[k].nlabels;
	}
	if (!total)
		return -EINVAL;
	nlabels += total * (1 + e->o->nexternal);
	e->s = malloc(total * sizeof(*e->s));
	e->labels = malloc(nlabels * sizeof(*e->labels));
	if (!e->s || !e->labels)
		return -ENOMEM;
	for (i = 0; i < nsets; i++) {
		int64_t ts_ms = (int64_t)(sets[i]->timestamp_ns / 1000000);

		for (k = 0; k < sets[i]->n; k++) {
			err = add_series(e, &sets[i]->items[k], ts_ms, idx++);
			if (err)
				return err;
		}
	}
	qsort_r(e->s, e->n, sizeof(*e->s), by_family_labels_index, e->labels);
	return 0;
}

/* The TYPE /metrics declares (info metrics are gauges there), and the unit in Prometheus'
 * words for the UCUM units the records use; other units are left out. */
static Prometheus__MetricMetadata__MetricType meta_type(const struct am_metric_desc *d)
{
	if (d->prom_untyped && d->prom)
		return PROMETHEUS__METRIC_METADATA__METRIC_TYPE__UNKNOWN;
	return d->type == AM_METRIC_COUNTER ? PROMETHEUS__METRIC_METADATA__METRIC_TYPE__COUNTER
					    : PROMETHEUS__METRIC_METADATA__METRIC_TYPE__GAUGE;
}

static const char *meta_unit(const char *ucum)
{
	static const char *const map[][2] = {{"s", "seconds"},	 {"By", "bytes"},  {"Hz", "hertz"},
					     {"Cel", "celsius"}, {"J", "joules"},  {"W", "watts"},
					     {"V", "volts"},	 {"A", "amperes"}, {"1", "ratio"}};
	size_t i;

	for (i = 0; ucum && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(ucum, map[i][0]))
			return map[i][1];
	return "";
}

/* protobuf-c's structures over the sorted series, duplicates left out; packed, compressed. */
static int pack(struct enc *e, struct am_rw_payload *out)
{
	Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
	Prometheus__TimeSeries *ts = malloc(e->n * sizeof(*ts)),
			       **tsp = malloc(e->n * sizeof(*tsp));
	Prometheus__Sample *smp = malloc(e->n * sizeof(*smp)),
			   **smpp = malloc(e->n * sizeof(*smpp));
	Prometheus__Label *lab = malloc(e->nlabels * sizeof(*lab));
	Prometheus__Label **labp = malloc(e->nlabels * sizeof(*labp));
	Prometheus__MetricMetadata *md = malloc(e->n * sizeof(*md)),
				   **mdp = malloc(e->n * sizeof(*mdp));
	size_t i, nl = 0, raw_len;
	uint8_t *raw = NULL;
	int err = -ENOMEM, j;

	if (!ts || !tsp || !smp || !smpp || !lab || !labp || !md || !mdp)
		goto out;
	for (i = 0; i < e->n; i++) {
		const struct series *s = &e->s[i];
		const struct am_metric_desc *d = s->m->desc;

		if (i && !cmp_series_labels(&e->s[i - 1], s, e->labels)) {
			out->duplicates++;
			continue;
		}
		if (e->o->metadata && (!i || strcmp(e->s[i - 1].family, s->family))) {
			Prometheus__MetricMetadata *m = &md[req.n_metadata];

			prometheus__metric_metadata__init(m);
			m->type = meta_type(d);
			m->metric_family_name = (char *)s->family;
			m->help = (char *)(d->help ? d->help : "");
			m->unit = (char *)meta_unit(d->unit);
			mdp[req.n_metadata++] = m;
		}
		prometheus__sample__init(&smp[req.n_timeseries]);
		smp[req.n_timeseries].value = s->m->value;
		smp[req.n_timeseries].timestamp = s->ts_ms;
		smpp[req.n_timeseries] = &smp[req.n_timeseries];
		prometheus__time_series__init(&ts[req.n_timeseries]);
		ts[req.n_timeseries].labels = labp + nl;
		ts[req.n_timeseries].n_labels = (size_t)s->nl;
		ts[req.n_timeseries].samples = &smpp[req.n_timeseries];
		ts[req.n_timeseries].n_samples = 1;
		for (j = 0; j < s->nl; j++) {
			prometheus__label__init(&lab[nl]);
			lab[nl].name = (char *)e->labels[s->lab + (size_t)j].name;
			lab[nl].value = (char *)e->labels[s->lab + (size_t)j].value;
			labp[nl] = &lab[nl];
			nl++;
		}
		tsp[req.n_timeseries] = &ts[req.n_timeseries];
		req.n_timeseries++;
	}
	req.timeseries = tsp;
	req.metadata = mdp;
	raw_len = prometheus__write_request__get_packed_size(&req);
	raw = malloc(raw_len ? raw_len : 1);
	if (!raw)
		goto out;
	prometheus__write_request__pack(&req, raw);
	err = am_rw_snappy_compress(raw, raw_len, &out->data, &out->len);
	if (err)
		goto out;
	out->raw_len = raw_len;
	out->series = req.n_timeseries;
	out->metadata = req.n_metadata;
out:
	free(raw);
	free(ts);
	free(tsp);
	free(smp);
	free(smpp);
	free(lab);
	free(labp);
	free(md);
	free(mdp);
	return err;
}

int am_rw_encode(const struct am_metric_set *const *sets, size_t nsets,
		 const struct am_rw_options *o, struct am_rw_payload *out)
{
	struct enc e = {.o = o};
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	err = gather(&e, sets, nsets);
	if (!err)
		err = pack(&e, out);
	for (i = 0; i < e.nowned; i++)
		free(e.owned[i]);
	free(e.owned);
	free(e.labels);
	free(e.s);
	if (err) {
		free(out->data);
		memset(out, 0, sizeof(*out));
	}
	return err;
}

int am_rw_snappy_compress(const void *in, size_t len, void **out, size_t *outlen)
{
	size_t cap = snappy_max_compressed_length(len);
	char *buf = malloc(cap ? cap : 1);

	*out = NULL;
	*outlen = 0;
	if (!buf)
		return -ENOMEM;
	if (snappy_compress(in, len, buf, &cap) != SNAPPY_OK) {
		free(buf);
		return -ENOMEM; /* only a too small buffer fails, and it is snappy's own bound */
	}
	*out = buf;
	*outlen = cap;
	return 0;
}

int am_rw_snappy_uncompress(const void *in, size_t len, void **out, size_t *outlen)
{
	size_t n;
	char *buf;

	*out = NULL;
	*outlen = 0;
	if (snappy_uncompressed_length(in, len, &n) != SNAPPY_OK ||
	    snappy_validate_compressed_buffer(in, len) != SNAPPY_OK)
		return -EINVAL;
	buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	if (snappy_uncompress(in, len, buf, &n) != SNAPPY_OK) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*outlen = n;
	return 0;
}
