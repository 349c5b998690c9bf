/* Prometheus text rendering and the JSON rendering of metric sets. */
#include <criterion/criterion.h>
#include <math.h>

#include "collector_testlib.h"
#include "export/metrics_json.h"
#include "export/prom_text.h"

Test(prom_text, groups_by_name_with_one_help_and_type)
{
	struct am_metric_set s = {0};
	struct am_strbuf b = {0};

	am_metric_add(
	    &s, AM_METRIC_DESC(.name = "b_total", .help = "B things.", .type = AM_METRIC_COUNTER),
	    1, "x", "1", NULL);
	am_metric_add(&s, AM_METRIC_DESC(.name = "a", .help = "A.", .type = AM_METRIC_GAUGE), 2.5,
		      NULL);
	am_metric_add(
	    &s, AM_METRIC_DESC(.name = "b_total", .help = "B things.", .type = AM_METRIC_COUNTER),
	    3, "x", "2", NULL);
	am_prom_text_render(&s, &b);
	cr_assert_str_eq(b.data, "# HELP a A.\n"
				 "# TYPE a gauge\n"
				 "a 2.5\n"
				 "# HELP b_total B things.\n"
				 "# TYPE b_total counter\n"
				 "b_total{x=\"1\"} 1\n"
				 "b_total{x=\"2\"} 3\n");
	am_metric_set_free(&s);
	am_strbuf_free(&b);
}

/* A hundred names (past the first size of the table of names), added in reverse order, twice:
 * sorted by name, each name's samples together in the order they were added. */
Test(prom_text, many_names_sorted_and_grouped_in_set_order)
{
	static char names[100][8];
	static struct am_metric_desc d[100];
	struct am_metric_set s = {0};
	struct am_strbuf b = {0}, want = {0};
	int i, pass;

	for (i = 0; i < 100; i++) {
		snprintf(names[i], sizeof(names[i]), "m%03d", i);
		d[i] =
		    (struct am_metric_desc){.name = names[i], .help = "h", .type = AM_METRIC_GAUGE};
	}
	for (pass = 0; pass < 2; pass++)
		for (i = 99; i >= 0; i--)
			am_metric_add(&s, &d[i], pass * 100 + i, NULL);
	am_prom_text_render(&s, &b);
	for (i = 0; i < 100; i++)
		am_strbuf_printf(&want, "# HELP m%03d h\n# TYPE m%03d gauge\nm%03d %d\nm%03d %d\n",
				 i, i, i, i, i, 100 + i);
	cr_assert_str_eq(b.data, want.data);
	am_metric_set_free(&s);
	am_strbuf_free(&b);
	am_strbuf_free(&want);
}

Test(prom_text, escapes_label_values_and_help)
{
	struct am_metric_set s = {0};
	struct am_strbuf b = {0};

	am_metric_add(
	    &s,
	    AM_METRIC_DESC(.name = "m", .help = "back\\slash\nnewline", .type = AM_METRIC_GAUGE), 1,
	    "v", "a\"b\\c\nd", "u", "caf\xc3\xa9", NULL);
	am_metric_add(
	    &s,
	    AM_METRIC_DESC(.name = "m", .help = "back\\slash\nnewline", .type = AM_METRIC_GAUGE), 1,
	    "v", "bad\xff", NULL);
	am_prom_text_render(&s, &b);
	cr_assert_str_eq(b.data, "# HELP m back\\\\slash\\nnewline\n"
				 "# TYPE m gauge\n"
				 "m{v=\"a\\\"b\\\\c\\nd\",u=\"caf\xc3\xa9\"} 1\n"
				 "m{v=\"bad?\"} 1\n");
	am_metric_set_free(&s);
	am_strbuf_free(&b);
}

static const char *value(double v, struct am_strbuf *b)
{
	am_strbuf_reset(b);
	am_prom_text_value(b, v);
	return b->data;
}

Test(prom_text, values)
{
	struct am_strbuf b = {0};

	cr_assert_str_eq(value(0, &b), "0");
	cr_assert_str_eq(value(-3, &b), "-3");
	cr_assert_str_eq(value(25276514304.0, &b), "25276514304");
	cr_assert_str_eq(value(0.36, &b), "0.36");
	cr_assert_str_eq(value(99.065, &b), "99.065");
	cr_assert_str_eq(value(0.1 + 0.2, &b), "0.30000000000000004");
	cr_assert_str_eq(value(1e300, &b), "1e+300");
	cr_assert_str_eq(value(1e16 + 2, &b), "10000000000000002");
	cr_assert_str_eq(value(NAN, &b), "NaN");
	cr_assert_str_eq(value(INFINITY, &b), "+Inf");
	cr_assert_str_eq(value(-INFINITY, &b), "-Inf");
	am_strbuf_free(&b);
}

Test(prom_text, empty_set_renders_nothing)
{
	struct am_metric_set s = {0};
	struct am_strbuf b = {0};

	am_prom_text_render(&s, &b);
	cr_assert_eq(b.len, 0);
}

Test(metrics_json, array_and_object)
{
	struct am_metric_set s = {0};
	struct am_strbuf b = {0};

	am_metric_add(&s, AM_METRIC_DESC(.name = "a", .help = "A.", .type = AM_METRIC_GAUGE), 0.61,
		      "k", "v\"", NULL);
	am_metric_add(&s,
		      AM_METRIC_DESC(.name = "b_total", .help = "B.", .type = AM_METRIC_COUNTER),
		      NAN, NULL);
	s.timestamp_ns = 42;
	am_metrics_json_render(&s, &b);
	cr_assert_str_eq(
	    b.data, "{\"type\":\"metrics\",\"timestamp_ns\":42,\"metrics\":["
		    "{\"name\":\"a\",\"type\":\"gauge\",\"labels\":{\"k\":\"v\\\"\"},"
		    "\"value\":0.61},"
		    "{\"name\":\"b_total\",\"type\":\"counter\",\"labels\":{},\"value\":null}]}");
	am_metric_set_free(&s);
	am_strbuf_free(&b);
}

Test(prom_text, names_per_ecosystem_from_one_descriptor)
{
	static const struct am_metric_desc both = {.name = "antimetal_memory_total_bytes",
						   .prom = "node_memory_MemTotal_bytes",
						   .help =
						       "Memory information field MemTotal_bytes.",
						   .type = AM_METRIC_GAUGE};
	static const struct am_metric_desc own = {
	    .name = "antimetal_kmsg_records_total", .help = "k.", .type = AM_METRIC_COUNTER};
	static const struct am_metric_desc compat = {.prom = "node_vmstat_pgfault",
						     .help =
							 "/proc/vmstat information field pgfault.",
						     .type = AM_METRIC_COUNTER,
						     .prom_untyped = 1};
	struct am_metric_set s = {0};
	struct am_strbuf b = {0};

	am_metric_add(&s, &both, 1024, NULL);
	am_metric_add(&s, &own, 3, NULL);
	am_metric_add(&s, &compat, 7, NULL);
	am_prom_text_render(&s, &b);
	cr_assert_not_null(strstr(b.data, "# TYPE node_memory_MemTotal_bytes gauge\n"
					  "node_memory_MemTotal_bytes 1024\n"));
	cr_assert_not_null(strstr(b.data, "antimetal_kmsg_records_total 3\n"));
	cr_assert_not_null(strstr(b.data, "# TYPE node_vmstat_pgfault untyped\n"));
	cr_assert_null(strstr(b.data, "antimetal_memory_total_bytes"));
	am_strbuf_reset(&b);
	am_prom_text_render_names(&s, &b, 1);
	cr_assert_not_null(strstr(b.data, "antimetal_memory_total_bytes 1024\n"));
	cr_assert_not_null(strstr(b.data, "node_vmstat_pgfault 7\n"), "no antimetal name: node's");
	am_strbuf_reset(&b);
	am_metrics_json_render(&s, &b);
	cr_assert_not_null(strstr(b.data, "\"name\":\"antimetal_memory_total_bytes\""));
	cr_assert_not_null(strstr(b.data, "\"name\":\"node_vmstat_pgfault\",\"type\":\"counter\""));
	am_strbuf_free(&b);
	am_metric_set_free(&s);
}
