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

static int by_name_then_index(const void *a, const void *b)
{
	const struct sort_ctx *x = a, *y = b;
	/* The samples of one metric share its descriptor's name: no need to compare the text. */
	int c = x->name == y->name ? 0 : strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
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

static void sample(struct am_strbuf *out, const char *name, const struct am_metric *m)
{
	int i;

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
	for (i = 0; i < set->n; i++)
		order[i] =
		    (struct sort_ctx){am_metric_desc_prom_name(set->items[i].desc, legacy), i};
	qsort(order, set->n, sizeof(*order), by_name_then_index);
	for (i = 0; i < set->n; i++) {
		const struct am_metric *m = &set->items[order[i].idx];

		const char *name = order[i].name;

		if (!prev || strcmp(prev, name)) {
			am_strbuf_printf(out, "# HELP %s ", name);
			help_text(out, m->desc->help ? m->desc->help : "");
			am_strbuf_printf(out, "\n# TYPE %s %s\n", name, type_name(m->desc));
			prev = name;
		}
		sample(out, name, m);
	}
	free(order);
}
