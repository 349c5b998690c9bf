#include "export/prom_text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

struct sort_ctx {
	const char *name;
	size_t idx;
};

/* One distinct name pointer of the set: how many samples carry it, and its rank by text (names
 * of equal text, from two descriptors, share a rank). */
struct name_slot {
	const char *name;
	size_t count, rank;
};

struct name_table {
	struct name_slot *v; /* open addressing on the pointer */
	size_t cap, n;
};

static size_t slot_of(const struct name_table *t, const char *name)
{
	size_t h = ((uintptr_t)name >> 3) * 0x9E3779B97F4A7C15ull, i;

	for (i = h & (t->cap - 1); t->v[i].name && t->v[i].name != name; i = (i + 1) & (t->cap - 1))
		;
	return i;
}

/* NAME's slot, added when new (the table doubled past half full); SIZE_MAX without memory. */
static size_t name_add(struct name_table *t, const char *name)
{
	size_t i = slot_of(t, name), j;

	if (t->v[i].name)
		return i;
	if (2 * (t->n + 1) > t->cap) {
		struct name_table g = {calloc(2 * t->cap, sizeof(*g.v)), 2 * t->cap, t->n};

		if (!g.v)
			return SIZE_MAX;
		for (j = 0; j < t->cap; j++)
			if (t->v[j].name)
				g.v[slot_of(&g, t->v[j].name)] = t->v[j];
		free(t->v);
		*t = g;
		i = slot_of(t, name);
	}
	t->v[i].name = name;
	t->n++;
	return i;
}

static int by_text(const void *a, const void *b)
{
	return strcmp((*(struct name_slot *const *)a)->name, (*(struct name_slot *const *)b)->name);
}

/* Rank the distinct names of T by text and turn each rank's count into its first place. */
static int rank_names(struct name_table *t, size_t **start)
{
	struct name_slot **by = malloc(t->n * sizeof(*by));
	size_t i, k = 0, ranks = 0, at = 0;

	*start = calloc(t->n + 1, sizeof(**start));
	if (!by || !*start) {
		free(by);
		return -1;
	}
	for (i = 0; i < t->cap; i++)
		if (t->v[i].name)
			by[k++] = &t->v[i];
	qsort(by, k, sizeof(*by), by_text);
	for (i = 0; i < k; i++) {
		if (i && strcmp(by[i - 1]->name, by[i]->name))
			ranks++;
		by[i]->rank = ranks;
		(*start)[ranks] += by[i]->count;
	}
	for (i = 0; i <= ranks; i++) {
		size_t c = (*start)[i];

		(*start)[i] = at;
		at += c;
	}
	free(by);
	return 0;
}

/* ORDER (N entries): the samples by name, then by their place in the set, as every sample of a
 * name must be contiguous. The samples of one metric share its descriptor's name, so the few
 * distinct name pointers are ranked by text and the samples placed by a stable counting sort:
 * O(N) where a qsort of every sample was a third of the rendering on a host of 1,000 cgroups. */
static int order_samples(const struct am_metric_set *set, int legacy, struct sort_ctx *order)
{
	struct name_table t = {calloc(64, sizeof(*t.v)), 64, 0};
	size_t *start = NULL, i, k;
	int err = -1;

	if (!t.v)
		goto out;
	for (i = 0; i < set->n; i++) {
		k = name_add(&t, am_metric_desc_prom_name(set->items[i].desc, legacy));
		if (k == SIZE_MAX)
			goto out;
		t.v[k].count++;
	}
	if (rank_names(&t, &start))
		goto out;
	/* The table may have grown since a slot was taken: look the names up again. */
	for (i = 0; i < set->n; i++) {
		const struct name_slot *ns =
		    &t.v[slot_of(&t, am_metric_desc_prom_name(set->items[i].desc, legacy))];

		order[start[ns->rank]++] = (struct sort_ctx){ns->name, i};
	}
	err = 0;
out:
	free(t.v);
	free(start);
	return err;
}

/* V in decimal, as printf's "%.0f" writes an integral double. */
static void integer(struct am_strbuf *out, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	am_strbuf_append(out, p, (size_t)(buf + sizeof(buf) - p));
}

void am_prom_text_value(struct am_strbuf *out, double v)
{
	char buf[40];

	if (isnan(v)) {
		am_strbuf_puts(out, "NaN");
		return;
	}
	if (isinf(v)) {
		am_strbuf_puts(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* Counters are integers: print them exactly rather than in exponent form, by hand: most
	 * samples are integers, and printf's float path is the renderer's largest cost. */
	if (v == floor(v) && fabs(v) < 9007199254740992.0 && !(v == 0 && signbit(v))) {
		integer(out, (int64_t)v);
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	am_strbuf_puts(out, buf);
}

/* How many bytes from S are copied as they are: all but backslash, quote, newline, and in text
 * that is not valid UTF-8 the bytes past ASCII. */
static size_t plain_run(const char *s, int utf8)
{
	const char *p = s;

	while (*p && *p != '\\' && *p != '"' && *p != '\n' && (utf8 || (unsigned char)*p < 0x80))
		p++;
	return (size_t)(p - s);
}

void am_prom_text_label_value(struct am_strbuf *out, const char *s)
{
	size_t run = plain_run(s, 0);
	int utf8;

	if (!s[run]) { /* plain ASCII, most values: one pass, one append */
		am_strbuf_append(out, s, run);
		return;
	}
	utf8 = am_utf8_valid(s, strlen(s));

	while (*s) {
		/* Most values need no escaping: one append per run, not per byte. */
		run = plain_run(s, utf8);
		am_strbuf_append(out, s, run);
		s += run;
		if (*s == '\\')
			am_strbuf_puts(out, "\\\\");
		else if (*s == '"')
			am_strbuf_puts(out, "\\\"");
		else if (*s == '\n')
			am_strbuf_puts(out, "\\n");
		else if (*s)
			am_strbuf_putc(out, '?');
		if (*s)
			s++;
	}
}

static void help_text(struct am_strbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			am_strbuf_puts(out, "\\\\");
		else if (*s == '\n')
			am_strbuf_puts(out, "\\n");
		else
			am_strbuf_putc(out, *s);
	}
}

/* The sample's name and labels up to the value's blank, written with one reservation when every
 * label value is plain ASCII (most are): one bounds check instead of one per piece. False where
 * a value needs the general path (escapes, bytes past ASCII). */
static bool head_plain(struct am_strbuf *out, const char *name, const struct am_metric *m)
{
	size_t nlen = strlen(name), need = nlen + 3, klen[AM_METRIC_MAX_LABELS],
	       vlen[AM_METRIC_MAX_LABELS];
	char *p;
	int i;

	for (i = 0; i < m->nlabels; i++) {
		vlen[i] = plain_run(m->labels[i].value, 0);
		if (m->labels[i].value[vlen[i]])
			return false;
		klen[i] = strlen(m->labels[i].name);
		need += klen[i] + vlen[i] + 4; /* ,k="v" */
	}
	if (am_strbuf_reserve(out, need))
		return true; /* out of memory: the buffer says so */
	p = out->data + out->len;
	memcpy(p, name, nlen);
	p += nlen;
	for (i = 0; i < m->nlabels; i++) {
		*p++ = i ? ',' : '{';
		memcpy(p, m->labels[i].name, klen[i]);
		p += klen[i];
		*p++ = '=';
		*p++ = '"';
		memcpy(p, m->labels[i].value, vlen[i]);
		p += vlen[i];
		*p++ = '"';
	}
	if (m->nlabels)
		*p++ = '}';
	*p++ = ' ';
	*p = '\0';
	out->len = (size_t)(p - out->data);
	return true;
}

static void sample(struct am_strbuf *out, const char *name, const struct am_metric *m)
{
	int i;

	if (head_plain(out, name, m)) {
		am_prom_text_value(out, m->value);
		am_strbuf_putc(out, '\n');
		return;
	}
	am_strbuf_puts(out, name);
	if (m->nlabels) {
		am_strbuf_putc(out, '{');
		for (i = 0; i < m->nlabels; i++) {
			if (i)
				am_strbuf_putc(out, ',');
			am_strbuf_puts(out, m->labels[i].name);
			am_strbuf_append(out, "=\"", 2);
			am_prom_text_label_value(out, m->labels[i].value);
			am_strbuf_putc(out, '"');
		}
		am_strbuf_putc(out, '}');
	}
	am_strbuf_putc(out, ' ');
	am_prom_text_value(out, m->value);
	am_strbuf_putc(out, '\n');
}

static const char *type_name(const struct am_metric_desc *d)
{
	if (d->prom_untyped && d->prom)
		return "untyped";
	return d->type == AM_METRIC_COUNTER ? "counter" : "gauge";
}

void am_prom_text_render(const struct am_metric_set *set, struct am_strbuf *out)
{
	am_prom_text_render_names(set, out, 0);
}

void am_prom_text_render_names(const struct am_metric_set *set, struct am_strbuf *out, int legacy)
{
	struct sort_ctx *order;
	const char *prev = NULL;
	size_t i;

	if (!set->n)
		return;
	/* The format requires every sample of a name to be contiguous; collectors append in
	 * whatever order their source file has, so sort indices rather than the set. */
	order = malloc(set->n * sizeof(*order));
	if (!order) {
		out->oom = 1;
		return;
	}
	if (order_samples(set, legacy, order)) {
		free(order);
		out->oom = 1;
		return;
	}
	for (i = 0; i < set->n; i++) {
		const struct am_metric *m = &set->items[order[i].idx];

		const char *name = order[i].name;

		if (!prev || (prev != name && strcmp(prev, name))) {
			am_strbuf_printf(out, "# HELP %s ", name);
			help_text(out, m->desc->help ? m->desc->help : "");
			am_strbuf_printf(out, "\n# TYPE %s %s\n", name, type_name(m->desc));
			prev = name;
		}
		sample(out, name, m);
	}
	free(order);
}
