#include "collectors/parse/rate.h"
#include "records/metric.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t am_counter_delta(uint64_t prev, uint64_t cur, int width)
{
	uint64_t range_half, wrapped;

	if (cur >= prev)
		return cur - prev;
	if (width == 32) {
		if (prev > UINT32_MAX || cur > UINT32_MAX)
			return cur;
		range_half = 1ull << 31;
		wrapped = (1ull << 32) - prev + cur;
	} else {
		range_half = 1ull << 63;
		wrapped = (UINT64_MAX - prev) + cur + 1;
	}
	if (prev >= range_half && wrapped < range_half)
		return wrapped;
	return cur;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct am_rate_entry *find_slot(struct am_rate_entry *slots, size_t nslots, const char *key)
{
	size_t i = hash_str(key) & (nslots - 1);

	while (slots[i].key && strcmp(slots[i].key, key))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int grow(struct am_rate_table *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 64, i;
	struct am_rate_entry *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->nslots; i++)
		if (t->slots[i].key)
			*find_slot(slots, n, t->slots[i].key) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
	return 0;
}

int am_rate_update(struct am_rate_table *t, const char *key, uint64_t value, uint64_t now_ns,
		   int width, double *rate)
{
	struct am_rate_entry *e;
	int have = 0;

	if ((t->used + 1) * 2 > t->nslots && grow(t))
		return -ENOMEM;
	e = find_slot(t->slots, t->nslots, key);
	if (!e->key) {
		e->key = strdup(key);
		if (!e->key)
			return -ENOMEM;
		t->used++;
	} else if (now_ns > e->ts_ns) {
		*rate = (double)am_counter_delta(e->value, value, width) * 1e9 /
			(double)(now_ns - e->ts_ns);
		have = 1;
	}
	e->value = value;
	e->ts_ns = now_ns;
	e->seen = t->generation;
	return have;
}

void am_rate_cycle(struct am_rate_table *t)
{
	struct am_rate_entry *old = t->slots;
	size_t n = t->nslots, i;
	uint32_t gen = t->generation;

	if (!old) {
		t->generation++;
		return;
	}
	/* Rebuild without the stale entries: deleting in place would break probe chains. */
	t->slots = calloc(n, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old; /* keep stale entries rather than lose every rate */
		t->generation++;
		return;
	}
	t->used = 0;
	for (i = 0; i < n; i++) {
		if (!old[i].key)
			continue;
		if (old[i].seen != gen) {
			free(old[i].key);
			continue;
		}
		*find_slot(t->slots, n, old[i].key) = old[i];
		t->used++;
	}
	free(old);
	t->generation++;
}

void am_rate_free(struct am_rate_table *t)
{
	size_t i;

	for (i = 0; i < t->nslots; i++)
		free(t->slots[i].key);
	free(t->slots);
	*t = (struct am_rate_table){0};
}

void am_rate_emit(struct am_rate_table *t, struct am_metric_set *set, size_t from,
		  const char *counter, const struct am_metric_desc *rate_desc, uint64_t now_ns,
		  double unit)
{
	size_t i, end = set->n;
	char key[1024];
	double rate;
	int j, off;

	for (i = from; i < end; i++) {
		const struct am_metric *m = &set->items[i];
		double scaled = m->value * unit;
		struct am_metric tmpl;

		if (strcmp(am_metric_name(m), counter) || !(scaled >= 0) ||
		    scaled >= 18446744073709551616.0)
			continue;
		off = snprintf(key, sizeof(key), "%s", counter);
		for (j = 0; j < m->nlabels && off >= 0 && (size_t)off < sizeof(key); j++)
			off += snprintf(key + off, sizeof(key) - (size_t)off, "\x1f%s",
					m->labels[j].value);
		if (am_rate_update(t, key, (uint64_t)llround(scaled), now_ns, 64, &rate) != 1)
			continue;
		/* A copy: the append may move the array M points into (label strings stay). */
		tmpl = *m;
		tmpl.desc = rate_desc;
		am_metric_add_copy(set, &tmpl, rate / unit);
		if (set->oom)
			return;
	}
}
