/* The agent's list of push senders: their self-metrics as /metrics renders them (promtool
 * lints them), and one shutdown flush of them all within a single deadline, not one each. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/push.h"
#include "export/prom_text.h"
#include "http_get.h"
#include "records/metric.h"
#include "testutil.h"

#define PROMTOOL "/usr/bin/promtool"

/* A sender to a loopback port nothing listens on: every attempt is refused and retried. */
static struct am_sender *sender_to_nowhere(const char *name, char *url, size_t urllen)
{
	struct am_sender_config c = {
	    .name = name,
	    .url = url,
	    .initial_backoff_ms = 50,
	    .max_backoff_ms = 100,
	    .queue_max_bytes = 4096,
	};
	struct am_sender *s = NULL;
	char err[256];

	snprintf(url, urllen, "http://127.0.0.1:%d/v1/metrics", am_http_free_port());
	cr_assert_eq(am_sender_new(&c, &s, err, sizeof(err)), 0, "%s", err);
	return s;
}

static void submit_n(struct am_sender *s, int n, uint64_t items)
{
	int i;

	for (i = 0; i < n; i++)
		am_sender_submit(s, strdup("payload"), 8, items);
}

Test(push, stop_flushes_every_sender_within_one_deadline)
{
	char u1[64], u2[64], u3[64];
	struct am_push p = {0};
	long long t0, took;

	cr_assert_eq(am_push_add(&p, sender_to_nowhere("a", u1, sizeof(u1))), 0);
	cr_assert_eq(am_push_add(&p, sender_to_nowhere("b", u2, sizeof(u2))), 0);
	cr_assert_eq(am_push_add(&p, sender_to_nowhere("c", u3, sizeof(u3))), 0);
	submit_n(p.senders[0], 3, 5);
	submit_n(p.senders[1], 2, 7);
	submit_n(p.senders[2], 1, 1);
	t0 = am_test_now_ms();
	am_push_stop(&p, 600);
	took = am_test_now_ms() - t0;
	/* Three receivers down: one deadline in all, not three in a row. */
	cr_assert_geq(took, 550);
	cr_assert_lt(took, 1500, "the senders flushed one after another (%lld ms)", took);
	cr_assert_eq(p.n, 0);
	cr_assert_null(p.senders);
	am_push_stop(&p, 100); /* again: nothing left, nothing happens */
}

Test(push, remove_flushes_and_frees_one_sender)
{
	char u1[64], u2[64];
	struct am_push p = {0};
	struct am_sender *a, *b;

	a = sender_to_nowhere("a", u1, sizeof(u1));
	b = sender_to_nowhere("b", u2, sizeof(u2));
	cr_assert_eq(am_push_add(&p, a), 0);
	cr_assert_eq(am_push_add(&p, b), 0);
	submit_n(a, 2, 3);
	/* No payload at all (an encoder out of memory): counted, not sent. */
	am_sender_submit(a, NULL, 0, 4);
	{
		struct am_sender_stats st;

		am_sender_get_stats(a, &st);
		cr_assert_eq(st.dropped_items[AM_SENDER_DROP_QUEUE_FULL], 4);
		cr_assert_eq(st.queued_items, 6);
	}
	cr_assert_eq(am_push_remove(&p, a, 100), 6);
	cr_assert_eq(p.n, 1);
	cr_assert_eq(p.senders[0], b);
	cr_assert_eq(am_push_remove(&p, a, 100), 0, "removed twice");
	am_push_stop(&p, 0);
}

Test(push, metrics_name_each_exporter_and_pass_promtool)
{
	char u1[64], u2[64], dir_lint[600], cmd[1400];
	struct am_metric_set set = {0};
	struct am_strbuf text = {0}, lint = {0};
	struct am_push p = {0};
	char *dir = am_test_mkdtemp("push");
	int status;

	cr_assert_eq(am_push_add(&p, sender_to_nowhere("otlp_metrics", u1, sizeof(u1))), 0);
	cr_assert_eq(am_push_add(&p, sender_to_nowhere("remote_write", u2, sizeof(u2))), 0);
	/* 4096 bytes hold 512 payloads of 8: 600 overflow by 88. */
	submit_n(p.senders[1], 600, 2);
	am_push_metrics(&p, &set);
	am_prom_text_render(&set, &text);
	cr_assert(strstr(text.data, "antimetal_export_queue_max_bytes{exporter=\"otlp_metrics\"} "
				    "4096\n"),
		  "%s", text.data);
	cr_assert(strstr(text.data,
			 "antimetal_export_dropped_items_total{exporter=\"remote_write\","
			 "reason=\"queue_full\"} 176\n"),
		  "%s", text.data);
	cr_assert(strstr(text.data, "# TYPE antimetal_export_requests_total counter\n"));
	cr_assert(strstr(text.data, "# TYPE antimetal_export_queue_bytes gauge\n"));
	cr_assert(strstr(text.data, "antimetal_export_last_success_timestamp_seconds{exporter="
				    "\"remote_write\"} 0\n"));
	{
		struct am_strbuf js = {0};

		am_push_stats_json(&p, &js, "export");
		cr_assert(strstr(js.data, "\"name\":\"remote_write\""), "%s", js.data);
		cr_assert(strstr(js.data, "\"dropped_items\":176"), "%s", js.data);
		am_strbuf_free(&js);
	}
	if (access(PROMTOOL, X_OK)) {
		am_push_stop(&p, 0);
		cr_skip_test("skipped: promtool (Debian package prometheus) not installed");
	}
	snprintf(dir_lint, sizeof(dir_lint), "%s/m.txt", dir);
	cr_assert_eq(am_test_write_file(dir_lint, text.data, text.len), 0);
	snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics < %s", dir_lint);
	{
		char *argv[] = {"/bin/sh", "-c", cmd, NULL};

		status = am_test_run(argv, &lint, &lint);
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "promtool: %s",
		  lint.data ? lint.data : "");
	am_push_stop(&p, 0);
	am_metric_set_free(&set);
	am_strbuf_free(&text);
	am_strbuf_free(&lint);
	am_test_rmtree(dir);
	free(dir);
}
