/* Helpers for the collector unit tests: fixture files and metric lookups by name and labels. */
#ifndef ANTIMETAL_TESTS_COLLECTOR_TESTLIB_H
#define ANTIMETAL_TESTS_COLLECTOR_TESTLIB_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/system/collector.h"
#include "records/metric.h"
#include "testutil.h"

#define FIXTURES AM_TEST_SRC_DIR "/tests/fixtures"

/* Whole fixture file FIXTURES/REL as a malloc'd NUL-terminated string (asserts it exists). */
static inline char *fixture(const char *rel)
{
	struct am_strbuf b = {0};
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, rel);
	cr_assert_eq(am_test_read_file(path, &b), 0, "fixture %s missing", path);
	if (!b.data)
		return strdup("");
	return b.data;
}

/* The metric NAME whose labels include every NULL-terminated name/value pair given. */
static inline const struct am_metric *find_metric(const struct am_metric_set *s, const char *name,
						  ...)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct am_metric *m = &s->items[i];
		const char *ln;
		bool match = !strcmp(am_metric_name(m), name) ||
			     (m->desc->prom && !strcmp(m->desc->prom, name));
		va_list ap;

		va_start(ap, name);
		while (match && (ln = va_arg(ap, const char *)) != NULL) {
			const char *lv = va_arg(ap, const char *);
			bool found = false;
			int j;

			for (j = 0; j < m->nlabels; j++)
				if (!strcmp(m->labels[j].name, ln) &&
				    !strcmp(m->labels[j].value, lv))
					found = true;
			match = found;
		}
		va_end(ap);
		if (match)
			return m;
	}
	return NULL;
}

/* Value of the metric (asserting it exists). */
#define VALUE(set, ...)                                                                            \
	({                                                                                         \
		const struct am_metric *m__ = find_metric(set, __VA_ARGS__, NULL);                 \
		cr_assert_not_null(m__, "metric %s not found", #__VA_ARGS__);                      \
		m__->value;                                                                        \
	})

/* How many samples are named NAME. */
static inline size_t count_metric(const struct am_metric_set *s, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += !strcmp(am_metric_name(&s->items[i]), name) ||
		     (s->items[i].desc->prom && !strcmp(s->items[i].desc->prom, name));
	return n;
}

/* A clock the test moves by hand (struct am_collect_roots.clock_ns): a rate over two samples
 * is then exact, not bounded by however long a sleep happened to take. */
struct test_clock {
	uint64_t ns;
};

static inline uint64_t test_clock_ns(void *ctx)
{
	return ((const struct test_clock *)ctx)->ns;
}

/* Run collector C once over the given roots into OUT; returns collect's status. */
static inline int collect_once(const struct am_collector *c, const char *procfs, const char *sysfs,
			       const char *devfs, struct am_metric_set *out)
{
	struct am_collect_roots roots = {.procfs = procfs, .sysfs = sysfs, .devfs = devfs};
	void *state = NULL;
	int err;

	err = c->init(&state, &roots);
	if (err)
		return err;
	err = c->collect(state, out);
	c->destroy(state);
	return err;
}

#endif
