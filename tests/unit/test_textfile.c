/* textfile: *.prom files served as node_exporter serves them; a bad file (syntax, duplicate
 * series, conflicting types, client-side timestamps) is reported and skipped whole, never
 * served half-parsed. */
#include <criterion/criterion.h>
#include <math.h>
#include <sys/stat.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"
#include "export/prom_text.h"

#define MIXED FIXTURES "/textfile/mixed"

Test(textfile, good_file_parses_with_types_help_and_escapes)
{
	struct am_metric_set s = {0};
	const struct am_metric *m;
	struct am_strbuf b = {0};
	char *t = fixture("textfile/mixed/a_good.prom");

	cr_assert_eq(am_parse_textfile(t, &s, NULL, NULL), 0);
	cr_assert_eq(s.n, 4);
	m = find_metric(&s, "backup_last_success_timestamp_seconds", "site", "eu \"west\"", NULL);
	cr_assert_not_null(m);
	cr_assert_eq(m->value, 1.7e9);
	cr_assert_eq(VALUE(&s, "backup_runs_total", "job", "files"), 7);
	cr_assert_eq(find_metric(&s, "backup_runs_total", NULL)->desc->type, AM_METRIC_COUNTER);
	am_prom_text_render(&s, &b);
	cr_assert_not_null(strstr(b.data, "# HELP backup_last_success_timestamp_seconds When the "
					  "nightly backup last succeeded.\n"));
	cr_assert_not_null(strstr(b.data, "# TYPE backup_runs_total counter\n"));
	cr_assert_not_null(strstr(b.data, "# TYPE raid_ok untyped\nraid_ok 1\n"));
	cr_assert_not_null(strstr(b.data, "site=\"eu \\\"west\\\"\""));
	am_strbuf_free(&b);
	am_metric_set_free(&s);
	free(t);
}

static void rejected(const char *text, const char *what)
{
	struct am_metric_set s = {0};
	const char *why = NULL;
	int line = 0;

	am_metric_add(&s, AM_METRIC_DESC(.prom = "before", .type = AM_METRIC_GAUGE), 1, NULL);
	cr_assert_lt(am_parse_textfile(text, &s, &why, &line), 0, "%s accepted", what);
	cr_assert_not_null(why, "%s: no reason", what);
	cr_assert_gt(line, 0, "%s: no line", what);
	cr_assert_eq(s.n, 1, "%s: half-parsed samples left", what);
	cr_assert_eq(s.nowned, 0, "%s: descriptors left", what);
	am_metric_set_free(&s);
}

Test(textfile, bad_input_rejected_whole_with_a_reason)
{
	rejected("# TYPE a gauge\na 1\na{x=\"1\" 2\n", "unterminated labels");
	rejected("a{x=\"1\"} 1\na{x=\"1\"} 2\n", "duplicate series");
	rejected("# TYPE a gauge\n# TYPE a counter\na 1\n", "second TYPE");
	rejected("a 1\n# TYPE a counter\n", "TYPE after samples");
	rejected("a 1 1700000000000\n", "client-side timestamp");
	rejected("# TYPE h histogram\nh_bucket{le=\"1\"} 1\n", "histogram");
	rejected("# TYPE a frobnicator\n", "unknown type");
	rejected("9a 1\n", "bad metric name");
	rejected("a{x=\"1\",x=\"2\"} 1\n", "repeated label name");
	rejected("a one\n", "bad value");
	rejected("a{b=\"\\q\"} 1\n", "bad escape");
}

Test(textfile, directory_serves_good_files_and_skips_bad_ones_whole)
{
	struct am_collect_roots roots = {.textfile = MIXED};
	struct am_metric_set s = {0};
	void *state = NULL;

	cr_assert_eq(am_collector_textfile.init(&state, &roots), 0);
	cr_assert_eq(am_collector_textfile.collect(state, &s), 0);
	am_collector_textfile.destroy(state);
	cr_assert_eq(VALUE(&s, "node_textfile_scrape_error"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_textfile_files_rejected"), 5);
	/* a_good and g_good_too whole. */
	cr_assert_eq(count_metric(&s, "backup_runs_total"), 2);
	cr_assert_eq(VALUE(&s, "backup_runs_total", "job", "db"), 42, "e_repeats_a was served");
	cr_assert_eq(count_metric(&s, "disk_smart_ok"), 2);
	cr_assert_not_null(
	    find_metric(&s, "node_textfile_mtime_seconds", "file", "a_good.prom", NULL));
	cr_assert_not_null(
	    find_metric(&s, "node_textfile_mtime_seconds", "file", "g_good_too.prom", NULL));
	cr_assert_eq(count_metric(&s, "node_textfile_mtime_seconds"), 2);
	/* Nothing of the bad files, not even their good first lines. */
	cr_assert_eq(count_metric(&s, "half_written"), 0);
	cr_assert_eq(count_metric(&s, "dup_metric"), 0);
	cr_assert_eq(count_metric(&s, "with_timestamp"), 0);
	am_metric_set_free(&s);
}

Test(textfile, no_directory_configured_reports_no_error)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_textfile, NULL, NULL, NULL, &s), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(VALUE(&s, "node_textfile_scrape_error"), 0);
	am_metric_set_free(&s);
}

Test(textfile, missing_directory_is_a_scrape_error)
{
	struct am_collect_roots roots = {.textfile = FIXTURES "/textfile/nonexistent"};
	struct am_metric_set s = {0};
	void *state = NULL;

	cr_assert_eq(am_collector_textfile.init(&state, &roots), 0);
	cr_assert_eq(am_collector_textfile.collect(state, &s), 0);
	am_collector_textfile.destroy(state);
	cr_assert_eq(VALUE(&s, "node_textfile_scrape_error"), 1);
	am_metric_set_free(&s);
}

Test(textfile, a_fifo_named_prom_is_refused_without_blocking, .timeout = 10)
{
	char *dir = am_test_mkdtemp("textfile"), path[600];
	struct am_collect_roots roots = {.textfile = dir};
	static const char good[] = "ok_metric 1\n";
	struct am_metric_set s = {0};
	void *state = NULL;

	snprintf(path, sizeof(path), "%s/a_fifo.prom", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/b_good.prom", dir);
	cr_assert_eq(am_test_write_file(path, good, sizeof(good) - 1), 0);
	cr_assert_eq(am_collector_textfile.init(&state, &roots), 0);
	cr_assert_eq(am_collector_textfile.collect(state, &s), 0);
	am_collector_textfile.destroy(state);
	cr_assert_eq(VALUE(&s, "node_textfile_scrape_error"), 1);
	cr_assert_eq(VALUE(&s, "ok_metric"), 1);
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}
