#include "records/metric.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Label values are copied, but an empty one (most of a cgroup's labels) shares this string
 * instead of an allocation of its own. */
static char empty_value[1];

static char *copy_value(const char *v)
{
	return !v || !*v ? empty_value : strdup(v);
}

void am_metric_label_free(char *value)
{
	if (value != empty_value)
		free(value);
}

static struct am_metric *grow(struct am_metric_set *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct am_metric *p = realloc(s->items, cap * sizeof(*p));

		if (!p) {
			s->oom = 1;
			return NULL;
		}
		s->items = p;
		s->cap = cap;
	}
	return &s->items[s->n];
}

void am_metric_add(struct am_metric_set *s, const struct am_metric_desc *desc, double value, ...)
{
	struct am_metric *m = grow(s);
	const char *lname;
	va_list ap;

	if (!m)
		return;
	*m = (struct am_metric){.desc = desc, .value = value};
	va_start(ap, value);
	while ((lname = va_arg(ap, const char *)) != NULL) {
		const char *lval = va_arg(ap, const char *);

		if (m->nlabels == AM_METRIC_MAX_LABELS)
			break;
		m->labels[m->nlabels].name = lname;
		m->labels[m->nlabels].value = copy_value(lval);
		if (!m->labels[m->nlabels].value) {
			s->oom = 1;
			break;
		}
		m->nlabels++;
	}
	va_end(ap);
	s->n++;
}

void am_metric_add_copy(struct am_metric_set *s, const struct am_metric *m, double value)
{
	struct am_metric *c = grow(s);
	int j;

	if (!c)
		return;
	*c = (struct am_metric){.desc = m->desc, .value = value};
	for (j = 0; j < m->nlabels; j++) {
		c->labels[j].name = m->labels[j].name;
		c->labels[j].value = copy_value(m->labels[j].value);
		if (!c->labels[j].value) {
			s->oom = 1;
			break;
		}
		c->nlabels++;
	}
	s->n++;
}

static void free_labels(struct am_metric_set *s)
{
	size_t i;
	int j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->items[i].nlabels; j++)
			am_metric_label_free(s->items[i].labels[j].value);
}

void am_metric_set_truncate(struct am_metric_set *s, size_t n)
{
	size_t i;
	int j;

	for (i = n; i < s->n; i++)
		for (j = 0; j < s->items[i].nlabels; j++)
			am_metric_label_free(s->items[i].labels[j].value);
	if (n < s->n)
		s->n = n;
}

static void free_owned(struct am_metric_set *s)
{
	size_t i;

	for (i = 0; i < s->nowned; i++)
		free(s->owned[i]);
	s->nowned = 0;
}

void am_metric_set_drop_owned(struct am_metric_set *s, size_t n)
{
	while (s->nowned > n)
		free(s->owned[--s->nowned]);
}

const struct am_metric_desc *am_metric_set_own_desc(struct am_metric_set *s,
						    struct am_metric_desc *d)
{
	if (s->nowned == s->capowned) {
		size_t cap = s->capowned ? s->capowned * 2 : 16;
		struct am_metric_desc **p = realloc(s->owned, cap * sizeof(*p));

		if (!p) {
			free(d);
			s->oom = 1;
			return NULL;
		}
		s->owned = p;
		s->capowned = cap;
	}
	s->owned[s->nowned++] = d;
	return d;
}

void am_metric_set_reset(struct am_metric_set *s)
{
	free_labels(s);
	free_owned(s);
	s->n = 0;
	s->oom = 0;
}

void am_metric_set_free(struct am_metric_set *s)
{
	free_labels(s);
	free_owned(s);
	free(s->owned);
	free(s->items);
	*s = (struct am_metric_set){0};
}
