/* A collector's samples split over JSON lines: every sample once, in order, each part bounded. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "export/metrics_json.h"

static const struct am_metric_desc desc = {
    .name = "antimetal_test_value", .help = "test", .type = AM_METRIC_GAUGE};

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

Test(metrics_json, parts_cover_every_sample_once_in_order_within_the_bound)
{
	struct am_metric_set set = {0};
	struct am_strbuf b = {0}, all = {0};
	char label[32];
	size_t from = 0, parts = 0, i;

	for (i = 0; i < 5000; i++) {
		snprintf(label, sizeof(label), "cg%05zu", i);
		am_metric_add(&set, &desc, (double)i, "cgroup", label, NULL);
	}
	while (from < set.n) {
		size_t next = am_metrics_json_array_from(&set, from, 4096, &b);

		cr_assert_gt(next, from, "no progress at %zu", from);
		/* One sample past the bound at most: samples here are under 128 bytes. */
		cr_assert_lt(b.len, 4096 + 128, "part of %zu bytes", b.len);
		cr_assert_eq(b.data[0], '[');
		cr_assert_eq(b.data[b.len - 1], ']');
		cr_assert_eq(count(b.data, "\"name\""), next - from);
		am_strbuf_puts(&all, b.data);
		am_strbuf_reset(&b);
		from = next;
		parts++;
	}
	cr_assert_gt(parts, 10);
	for (i = 0; i < set.n; i += 997) {
		snprintf(label, sizeof(label), "\"cg%05zu\"", i);
		cr_assert_eq(count(all.data, label), 1, "%s", label);
	}
	cr_assert_lt(strstr(all.data, "\"cg00001\""), strstr(all.data, "\"cg04999\""));
	am_strbuf_free(&b);
	am_strbuf_free(&all);
	am_metric_set_free(&set);
}

Test(metrics_json, an_unbounded_array_is_the_whole_set)
{
	struct am_metric_set set = {0};
	struct am_strbuf b = {0};

	am_metric_add(&set, &desc, 1, NULL);
	am_metric_add(&set, &desc, 2, NULL);
	am_metrics_json_array(&set, &b);
	cr_assert_eq(count(b.data, "\"name\""), 2);
	cr_assert_eq(am_metrics_json_array_from(&set, 2, 10, &b), 2);
	am_strbuf_free(&b);
	am_metric_set_free(&set);
}
