/* The HTTP sender against a real, misbehaving receiver (tests/tools/fault_receiver.js, node):
 * absent, killed and restarted, 503 with Retry-After, 400, hanging, huge and garbage answers,
 * partial success, a full queue, a shutdown deadline, TLS with a CA file and mTLS. Each payload
 * carries a unique id and an item count; the receiver records every request in a file, so each
 * test checks exact accounting: items the receiver accepted + items counted dropped = items
 * submitted, and the sender's own counts agree. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export/sender.h"
#include "fault_receiver.h"
#include "http_get.h"
#include "otlp_metrics_service.pb-c.h"
#include "testutil.h"

#define NODE	 "/usr/bin/node"
#define OPENSSL	 "/usr/bin/openssl"
#define RECEIVER AM_TEST_SRC_DIR "/tests/tools/fault_receiver.js"
#define MAX_IDS	 256
#define OTLP_ROOT_JS                                                                               \
	AM_TEST_SRC_DIR                                                                            \
	"/tests/tools/otlp/node_modules/@opentelemetry/otlp-transformer/build/src/"                \
	"generated/root.js"

struct receiver {
	pid_t pid;
	int port, cport;
	char record[512];
	const char *tls; /* NULL, "ca" (server cert), "mtls" (client cert required), "h2" */
};

/* What the record file says: per payload id, how often it arrived and was accepted. */
struct seen {
	int n;
	char id[MAX_IDS][32];
	int arrived[MAX_IDS], accepted[MAX_IDS];
	uint64_t items[MAX_IDS];
	long long first_ms[MAX_IDS], last_ms[MAX_IDS];
	uint64_t accepted_items; /* over distinct accepted ids */
};

static char *dir;
static struct receiver rcv;
static char logpath[512];
static int saved_stderr = -1;

static void setup(void)
{
	if (access(NODE, X_OK))
		cr_skip_test("skipped: needs node (scripts/install-deps.sh installs it)");
	dir = am_test_mkdtemp("sender");
	cr_assert_not_null(dir);
	rcv = (struct receiver){.pid = -1};
	rcv.port = am_http_free_port();
	rcv.cport = am_http_free_port();
	cr_assert(rcv.port > 0 && rcv.cport > 0 && rcv.port != rcv.cport);
	snprintf(rcv.record, sizeof(rcv.record), "%s/record.jsonl", dir);
	/* The sender's log lines, to check what it said; the real stderr is put back at the
	 * end, for what the sanitizers report at exit. */
	snprintf(logpath, sizeof(logpath), "%s/log.txt", dir);
	saved_stderr = dup(2);
	cr_assert_geq(saved_stderr, 0);
	cr_assert(freopen(logpath, "w", stderr));
	setvbuf(stderr, NULL, _IONBF, 0);
}

static void teardown(void)
{
	fflush(stderr);
	if (saved_stderr >= 0) {
		dup2(saved_stderr, 2);
		close(saved_stderr);
		saved_stderr = -1;
	}
	am_test_reap(rcv.pid);
	if (dir)
		am_test_rmtree(dir);
	free(dir);
}

TestSuite(sender, .init = setup, .fini = teardown, .timeout = 60);

/* ---- the receiver ---- */

static void receiver_start(void)
{
	char port[16], cport[16], cert[600], key[600], ca[600], out[600];
	char *argv[16] = {NODE,	 RECEIVER,   "--port",	 port, "--control-port",
			  cport, "--record", rcv.record, NULL};
	int n = 8;

	snprintf(port, sizeof(port), "%d", rcv.port);
	snprintf(cport, sizeof(cport), "%d", rcv.cport);
	if (rcv.tls) {
		snprintf(cert, sizeof(cert), "%s/server.crt", dir);
		snprintf(key, sizeof(key), "%s/server.key", dir);
		snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
		argv[n++] = "--cert";
		argv[n++] = cert;
		argv[n++] = "--key";
		argv[n++] = key;
		argv[n++] = "--ca";
		argv[n++] = ca;
		if (!strcmp(rcv.tls, "mtls"))
			argv[n++] = "--require-client-cert";
		if (!strcmp(rcv.tls, "h2"))
			argv[n++] = "--http2";
	}
	argv[n] = NULL;
	rcv.pid = am_test_spawn(argv, dir);
	cr_assert(rcv.pid > 0);
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	cr_assert(am_test_wait_file_text(out, "listening", 20000, rcv.pid),
		  "fault_receiver did not start (see %s/err.txt)", dir);
}

static void receiver_kill(void)
{
	am_test_reap(rcv.pid);
	rcv.pid = -1;
}

static int seen_index(struct seen *s, const char *id)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->id[i], id))
			return i;
	cr_assert_lt(s->n, MAX_IDS);
	snprintf(s->id[s->n], sizeof(s->id[0]), "%s", id);
	return s->n++;
}

static bool accepted_mode(const char *line)
{
	static const char *const ok[] = {"\"mode\":\"ok\"", "\"mode\":\"garbage\"",
					 "\"mode\":\"huge\"", "\"mode\":\"partial\""};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strstr(line, ok[i]))
			return true;
	return false;
}

static void read_seen(struct seen *s)
{
	struct am_strbuf b = {0};
	char *line, *save = NULL, id[32];
	unsigned long long items;
	long long t;
	int i;

	memset(s, 0, sizeof(*s));
	if (am_test_read_file(rcv.record, &b) || !b.data)
		return;
	for (line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *p = strstr(line, "\"id\":\""), *q = strstr(line, "\"items\":");
		const char *tp = strstr(line, "\"t\":");

		if (!p || !q || !tp || sscanf(p + 6, "%31[^\"]", id) != 1 ||
		    sscanf(q + 8, "%llu", &items) != 1 || sscanf(tp + 4, "%lld", &t) != 1)
			continue;
		i = seen_index(s, id);
		s->items[i] = items;
		if (!s->arrived[i]++)
			s->first_ms[i] = t;
		s->last_ms[i] = t;
		if (accepted_mode(line) && !s->accepted[i]++)
			s->accepted_items += items;
	}
	am_strbuf_free(&b);
}

static int seen_find(const struct seen *s, const char *id)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->id[i], id))
			return i;
	return -1;
}

/* ---- the sender side ---- */

/* A payload "AMTEST id=ID items=N\n" padded to LEN bytes. */
static void submit(struct am_sender *s, const char *id, uint64_t items, size_t len)
{
	char head[96];
	int n = snprintf(head, sizeof(head), "AMTEST id=%s items=%llu\n", id,
			 (unsigned long long)items);
	char *buf;

	if (len < (size_t)n)
		len = (size_t)n;
	buf = malloc(len);
	cr_assert_not_null(buf);
	memset(buf, 'x', len);
	memcpy(buf, head, (size_t)n);
	am_sender_submit(s, buf, len, items);
}

/* Payloads PREFIX<FROM> .. PREFIX<TO - 1>, of ITEMS items and LEN bytes each. */
static void submit_range(struct am_sender *s, const char *prefix, int from, int to, uint64_t items,
			 size_t len)
{
	char id[32];

	for (; from < to; from++) {
		snprintf(id, sizeof(id), "%s%d", prefix, from);
		submit(s, id, items, len);
	}
}

static uint64_t dropped(const struct am_sender_stats *st)
{
	uint64_t d = 0;
	int i;

	for (i = 0; i < AM_SENDER_DROP_NREASONS; i++)
		d += st->dropped_items[i];
	return d;
}

/* Wait until every one of SUBMITTED items is accounted for (sent, rejected or dropped). */
static void wait_settled(struct am_sender *s, uint64_t submitted, int timeout_ms)
{
	long long end = am_test_now_ms() + timeout_ms;
	struct am_sender_stats st;

	for (;;) {
		am_sender_get_stats(s, &st);
		if (st.sent_items + st.rejected_items + dropped(&st) == submitted &&
		    !st.queued_items)
			return;
		cr_assert_lt(
		    am_test_now_ms(), end,
		    "not settled: sent %llu rejected %llu dropped %llu queued %llu of %llu",
		    (unsigned long long)st.sent_items, (unsigned long long)st.rejected_items,
		    (unsigned long long)dropped(&st), (unsigned long long)st.queued_items,
		    (unsigned long long)submitted);
		am_test_sleep_ms(20);
	}
}

/* The accounting every test ends with: what the receiver accepted plus what the sender says
 * it dropped is exactly what was submitted, and the sender's sent + rejected is what the
 * receiver accepted. */
static void check_accounting(struct am_sender *s, uint64_t submitted, struct seen *out)
{
	struct am_sender_stats st;

	am_sender_get_stats(s, &st);
	read_seen(out);
	cr_assert_eq(out->accepted_items + dropped(&st), submitted,
		     "accepted %llu + dropped %llu != submitted %llu",
		     (unsigned long long)out->accepted_items, (unsigned long long)dropped(&st),
		     (unsigned long long)submitted);
	cr_assert_eq(st.sent_items + st.rejected_items, out->accepted_items);
	cr_assert_eq(st.queued_items, 0);
	cr_assert_eq(st.queue_bytes, 0);
}

static struct am_sender_config base_config(char *url, size_t urllen, const char *scheme)
{
	snprintf(url, urllen, "%s://127.0.0.1:%d/v1/metrics", scheme, rcv.port);
	return (struct am_sender_config){
	    .name = "test",
	    .url = url,
	    .content_type = "application/x-protobuf",
	    .timeout_ms = 5000,
	    .queue_max_bytes = 1 << 20,
	    .max_elapsed_ms = 30000,
	    .initial_backoff_ms = 50,
	    .max_backoff_ms = 200,
	};
}

static struct am_sender *start(const struct am_sender_config *c)
{
	struct am_sender *s = NULL;
	char err[512];
	int rc = am_sender_new(c, &s, err, sizeof(err));

	cr_assert_eq(rc, 0, "am_sender_new: %s", err);
	return s;
}

static bool log_has(const char *needle, int *count)
{
	struct am_strbuf b = {0};
	const char *p;
	int n = 0;

	am_test_read_file(logpath, &b);
	for (p = b.data; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	am_strbuf_free(&b);
	if (count)
		*count = n;
	return n > 0;
}

/* ---- faults ---- */

Test(sender, delivers_every_payload_with_its_headers)
{
	const char *hdrs[] = {"X-Test: yes"};
	char url[128], id[32];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender *s;
	struct seen seen;
	int i;

	c.content_encoding = "gzip";
	c.headers = hdrs;
	c.nheaders = 1;
	receiver_start();
	s = start(&c);
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		submit(s, id, (uint64_t)i + 1, 2000);
	}
	wait_settled(s, 210, 20000);
	check_accounting(s, 210, &seen);
	cr_assert_eq(seen.n, 20);
	{
		struct am_strbuf b = {0};

		am_test_read_file(rcv.record, &b);
		cr_assert(strstr(b.data, "\"content_type\":\"application/x-protobuf\""));
		cr_assert(strstr(b.data, "\"content_encoding\":\"gzip\""));
		cr_assert(strstr(b.data, "\"test_header\":\"yes\""));
		am_strbuf_free(&b);
	}
	cr_assert_eq(am_sender_flush_stop(s, 1000), 0);
	am_sender_free(s);
}

Test(sender, receiver_absent_at_start_then_started)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s = start(&c);
	struct seen seen;

	submit_range(s, "a", 0, 10, 3, 500);
	/* Refused connections: retried, nothing lost while the queue holds. */
	while (am_sender_get_stats(s, &st), st.retries < 3)
		am_test_sleep_ms(20);
	cr_assert_eq(st.sent_items, 0);
	cr_assert_eq(dropped(&st), 0);
	cr_assert_eq(st.queued_items, 30);
	receiver_start();
	wait_settled(s, 30, 20000);
	check_accounting(s, 30, &seen);
	cr_assert_eq(seen.n, 10);
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.sent_items, 30);
	cr_assert_gt(st.last_success_unix_ns, 0);
	am_sender_free(s);
}

Test(sender, receiver_killed_and_restarted_mid_run)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	struct seen seen;
	uint64_t requests;

	receiver_start();
	s = start(&c);
	submit_range(s, "k", 0, 5, 2, 1000);
	wait_settled(s, 10, 20000);
	receiver_kill();
	am_sender_get_stats(s, &st);
	requests = st.requests;
	submit_range(s, "k", 5, 10, 2, 1000);
	while (am_sender_get_stats(s, &st), st.requests < requests + 3)
		am_test_sleep_ms(20);
	cr_assert_eq(st.sent_items, 10);
	receiver_start();
	wait_settled(s, 20, 20000);
	check_accounting(s, 20, &seen);
	cr_assert_eq(seen.n, 10);
	cr_assert_eq(dropped(&st), 0);
	am_sender_free(s);
}

/* The course most fault tests share: the receiver in MODE, one payload of ITEMS items named ID
 * through a sender made from C, settled and accounted; SEEN and ST get the receiver's and the
 * sender's accounts. Returns the sender for the caller to free. */
static struct am_sender *deliver_one(const struct am_sender_config *c, const char *mode,
				     const char *id, uint64_t items, struct seen *seen,
				     struct am_sender_stats *st)
{
	struct am_sender *s;

	receiver_start();
	am_test_receiver_mode(rcv.cport, mode);
	s = start(c);
	submit(s, id, items, 100);
	wait_settled(s, items, 20000);
	check_accounting(s, items, seen);
	am_sender_get_stats(s, st);
	return s;
}

static void retry_after_honoured(const char *mode, long long min_wait_ms)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	struct seen seen;

	s = deliver_one(&c, mode, "r1", 7, &seen, &st);
	cr_assert_eq(seen.n, 1);
	cr_assert_eq(seen.arrived[0], 2, "a refusal, then one retry");
	/* The backoff alone would have retried after 25-200 ms. */
	cr_assert_geq(seen.last_ms[0] - seen.first_ms[0], min_wait_ms,
		      "retried %lld ms after the refusal, before Retry-After",
		      seen.last_ms[0] - seen.first_ms[0]);
	cr_assert_eq(st.retries, 1);
	cr_assert_eq(st.sent_items, 7);
	am_sender_free(s);
}

Test(sender, status_503_retry_after_seconds_is_honoured)
{
	retry_after_honoured("mode=503&retry_after=2&count=1", 2000);
}

Test(sender, status_429_retry_after_date_is_honoured)
{
	/* An HTTP-date has one-second resolution: now + 3 s is at least 2 s away. */
	retry_after_honoured("mode=429&retry_after_date=3&count=1", 2000);
}

Test(sender, status_400_drops_counts_and_logs_rate_limited)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	struct seen seen;
	int n;

	receiver_start();
	am_test_receiver_mode(rcv.cport,
			      "mode=400&count=3&message=metric%20name%20invalid%3A%20%01bad");
	s = start(&c);
	submit(s, "b1", 4, 100);
	submit(s, "b2", 5, 100);
	submit(s, "b3", 6, 100);
	submit(s, "b4", 1, 100);
	wait_settled(s, 16, 20000);
	check_accounting(s, 16, &seen);
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.dropped_items[AM_SENDER_DROP_PERMANENT], 15);
	cr_assert_eq(st.dropped_payloads[AM_SENDER_DROP_PERMANENT], 3);
	cr_assert_eq(st.sent_items, 1);
	cr_assert_eq(st.retries, 0, "a permanent refusal is not retried");
	/* The receiver's message, control bytes blanked, once for the three refusals. */
	cr_assert(log_has("HTTP 400 from", &n));
	cr_assert(log_has("metric name invalid:  bad", NULL));
	cr_assert_eq(n, 1, "the refusal was logged %d times within 10 s", n);
	am_sender_free(s);
}

/* A receiver quoting a credential back (vmauth does, for a token it does not know): the
 * configured header values are masked before the answer is logged; short values are left. */
Test(sender, credentials_a_receiver_echoes_are_masked_in_the_log)
{
	const char *hdrs[] = {"Authorization: Bearer s3cret-tok", "X-Tenant: t-1"};
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender *s;
	struct seen seen;

	c.headers = hdrs;
	c.nheaders = 2;
	receiver_start();
	am_test_receiver_mode(rcv.cport, "mode=400&count=1&message=no%20token%20%22Bearer%20"
					 "s3cret-tok%22%2C%20s3cret-tok%2C%20tenant%20t-1");
	s = start(&c);
	submit(s, "m1", 1, 100);
	wait_settled(s, 1, 20000);
	check_accounting(s, 1, &seen);
	cr_assert(log_has("HTTP 400 from", NULL));
	cr_assert_not(log_has("s3cret", NULL), "a credential reached the log");
	cr_assert(log_has("no token \"*****************\", **********, tenant t-1", NULL));
	am_sender_free(s);
}

/* The quoted answer is cut at AM_SENDER_QUOTE_MAX bytes: a credential cut there is masked as
 * far as it goes. */
Test(sender, a_credential_cut_by_the_quote_is_masked)
{
	const char *hdrs[] = {"Authorization: Bearer s3cret-tok"};
	char url[128], mode[512], want[64];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender *s;
	struct seen seen;
	int pad = 256 - 6; /* AM_SENDER_QUOTE_MAX (export/sender_internal.h) */

	c.headers = hdrs;
	c.nheaders = 1;
	receiver_start();
	snprintf(mode, sizeof(mode), "mode=400&count=1&message=%0*ds3cret-tok", pad, 0);
	am_test_receiver_mode(rcv.cport, mode);
	s = start(&c);
	submit(s, "m1", 1, 100);
	wait_settled(s, 1, 20000);
	check_accounting(s, 1, &seen);
	cr_assert(log_has("HTTP 400 from", NULL));
	cr_assert_not(log_has("s3cr", NULL), "a credential's start reached the log");
	snprintf(want, sizeof(want), "0000******\"");
	cr_assert(log_has(want, NULL));
	am_sender_free(s);
}

Test(sender, hanging_receiver_times_out_and_the_retry_delivers)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	struct seen seen;
	long long t0;

	c.timeout_ms = 700;
	receiver_start();
	am_test_receiver_mode(rcv.cport, "mode=hang&count=1");
	s = start(&c);
	t0 = am_test_now_ms();
	submit(s, "h1", 9, 100);
	wait_settled(s, 9, 20000);
	cr_assert_geq(am_test_now_ms() - t0, 700);
	check_accounting(s, 9, &seen);
	/* The receiver took the payload twice: the duplicate the guarantee warns about. */
	cr_assert_eq(seen.arrived[0], 2);
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.retries, 1);
	am_sender_free(s);
}

Test(sender, an_answer_that_trickles_forever_times_out_and_is_retried)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	struct seen seen;

	c.timeout_ms = 700;
	s = deliver_one(&c, "mode=slow&count=1", "slow", 4, &seen, &st);
	/* The receiver took it on the slow attempt already, but its answer never ended. */
	cr_assert_eq(seen.arrived[0], 2);
	cr_assert_eq(st.retries, 1);
	cr_assert_eq(st.sent_items, 4);
	am_sender_free(s);
}

Test(sender, full_queue_drops_the_oldest_and_stays_in_bound)
{
	char url[128], id[32];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	struct seen seen;
	int i;

	c.queue_max_bytes = 10 * 1000;
	c.initial_backoff_ms = c.max_backoff_ms = 300;
	s = start(&c);
	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "q%d", i);
		submit(s, id, 10, 1000);
		am_sender_get_stats(s, &st);
		cr_assert_leq(st.queue_bytes, st.queue_max_bytes);
		cr_assert_leq(st.queued_items, 100);
	}
	cr_assert_geq(st.dropped_items[AM_SENDER_DROP_QUEUE_FULL], 300);
	receiver_start();
	wait_settled(s, 400, 20000);
	check_accounting(s, 400, &seen);
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.dropped_items[AM_SENDER_DROP_QUEUE_FULL] / 10,
		     st.dropped_payloads[AM_SENDER_DROP_QUEUE_FULL]);
	cr_assert_eq(dropped(&st), st.dropped_items[AM_SENDER_DROP_QUEUE_FULL]);
	/* The newest payloads are the ones kept. */
	for (i = 31; i < 40; i++) {
		snprintf(id, sizeof(id), "q%d", i);
		cr_assert_geq(seen_find(&seen, id), 0, "%s (among the newest) was lost", id);
	}
	cr_assert(log_has("queue full", NULL));
	am_sender_free(s);
}

Test(sender, evicting_the_payload_in_backoff_does_not_skip_the_backoff)
{
	char url[128], id[32];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	int i;

	c.queue_max_bytes = 5 * 100;
	c.initial_backoff_ms = c.max_backoff_ms = 5000;
	s = start(&c);
	submit(s, "e0", 1, 100);
	while (am_sender_get_stats(s, &st), !st.requests)
		am_test_sleep_ms(5);
	/* Each submission evicts the oldest, the one waiting to retry among them. */
	for (i = 1; i < 50; i++) {
		snprintf(id, sizeof(id), "e%d", i);
		submit(s, id, 1, 100);
		am_test_sleep_ms(5);
	}
	am_sender_get_stats(s, &st);
	cr_assert_leq(st.requests, 1, "%llu attempts within one backoff",
		      (unsigned long long)st.requests);
	cr_assert_eq(st.dropped_items[AM_SENDER_DROP_QUEUE_FULL], 45);
	am_sender_free(s);
}

Test(sender, payload_larger_than_the_queue_is_dropped_and_counted)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;

	c.queue_max_bytes = 1000;
	s = start(&c);
	submit(s, "big", 5, 5000);
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.dropped_items[AM_SENDER_DROP_QUEUE_FULL], 5);
	cr_assert_eq(st.queue_bytes, 0);
	am_sender_free(s);
}

Test(sender, flush_stop_with_the_receiver_down_counts_shutdown_drops)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s = start(&c);
	long long t0;

	submit_range(s, "d", 0, 5, 3, 100);
	t0 = am_test_now_ms();
	cr_assert_eq(am_sender_flush_stop(s, 500), 15);
	cr_assert_geq(am_test_now_ms() - t0, 450, "gave up before the deadline");
	cr_assert_lt(am_test_now_ms() - t0, 2000, "ran past the deadline");
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.dropped_items[AM_SENDER_DROP_SHUTDOWN], 15);
	cr_assert_eq(st.dropped_payloads[AM_SENDER_DROP_SHUTDOWN], 5);
	cr_assert_eq(st.queue_bytes, 0);
	cr_assert(log_has("not delivered before the shutdown deadline", NULL));
	/* After the stop, a late payload is counted, not queued. */
	submit(s, "late", 2, 100);
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.dropped_items[AM_SENDER_DROP_SHUTDOWN], 17);
	am_sender_free(s);
}

Test(sender, flush_stop_cuts_a_hanging_request_at_the_deadline)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	long long t0;

	c.timeout_ms = 30000;
	receiver_start();
	am_test_receiver_mode(rcv.cport, "mode=hang");
	s = start(&c);
	submit(s, "hang", 4, 100);
	while (am_sender_get_stats(s, &st), !st.queued_items)
		am_test_sleep_ms(10);
	am_test_sleep_ms(200);
	t0 = am_test_now_ms();
	cr_assert_eq(am_sender_flush_stop(s, 300), 4);
	cr_assert_lt(am_test_now_ms() - t0, 2000, "the hanging request held the stop");
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.dropped_items[AM_SENDER_DROP_SHUTDOWN], 4);
	am_sender_free(s);
}

Test(sender, flush_stop_delivers_what_is_queued)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	struct seen seen;

	receiver_start();
	s = start(&c);
	submit_range(s, "f", 0, 50, 2, 4000);
	cr_assert_eq(am_sender_flush_stop(s, 10000), 0);
	check_accounting(s, 100, &seen);
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.sent_items, 100);
	am_sender_free(s);
}

Test(sender, retries_give_up_after_max_elapsed)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	struct seen seen;

	c.max_elapsed_ms = 600;
	s = deliver_one(&c, "mode=503", "g1", 6, &seen, &st);
	cr_assert_eq(st.dropped_items[AM_SENDER_DROP_RETRIES], 6);
	cr_assert_geq(st.retries, 2);
	cr_assert(log_has("giving up a payload of 6 items", NULL));
	am_sender_free(s);
}

/* OTLP's partial success, read with the official proto's protobuf-c decoder. */
static void parse_partial(const void *body, size_t len, uint64_t *rejected, char *msg,
			  size_t msglen)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *r =
	    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
		NULL, len, body);

	*rejected = 0;
	if (!r)
		return;
	if (r->partial_success && r->partial_success->rejected_data_points > 0) {
		*rejected = (uint64_t)r->partial_success->rejected_data_points;
		snprintf(msg, msglen, "%s", r->partial_success->error_message);
	}
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(
	    r, NULL);
}

Test(sender, partial_success_counts_the_rejected_items)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	struct seen seen;

	if (access(OTLP_ROOT_JS, R_OK))
		cr_skip_test("skipped: needs npm's @opentelemetry/otlp-transformer "
			     "(scripts/install-deps.sh installs it)");
	c.parse_response = parse_partial;
	receiver_start();
	am_test_receiver_mode(rcv.cport, "mode=partial&rejected=3&message=too%20old&count=1");
	s = start(&c);
	submit(s, "ps", 10, 100);
	submit(s, "ok", 5, 100);
	wait_settled(s, 15, 20000);
	check_accounting(s, 15, &seen);
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.rejected_items, 3);
	cr_assert_eq(st.sent_items, 12);
	cr_assert_eq(st.sent_payloads, 2);
	cr_assert(log_has("rejected 3 of 10 items: too old", NULL));
	am_sender_free(s);
}

Test(sender, huge_and_garbage_answers_neither_stall_nor_crash)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	struct am_sender_stats st;
	struct am_sender *s;
	struct seen seen;
	long long t0;

	c.parse_response = parse_partial;
	receiver_start();
	am_test_receiver_mode(rcv.cport, "mode=huge&count=1");
	s = start(&c);
	t0 = am_test_now_ms();
	submit(s, "huge", 3, 100);
	wait_settled(s, 3, 20000);
	/* Cut off at the cap, not read: 50 MB would take far longer on a busy machine. */
	cr_assert_lt(am_test_now_ms() - t0, 5000);
	am_test_receiver_mode(rcv.cport, "mode=garbage&count=1");
	submit(s, "garbage", 4, 100);
	submit(s, "after", 5, 100);
	wait_settled(s, 12, 20000);
	check_accounting(s, 12, &seen);
	am_sender_get_stats(s, &st);
	cr_assert_eq(st.sent_items, 12);
	cr_assert_eq(st.retries, 0);
	am_sender_free(s);
}

Test(sender, bad_settings_are_refused_naming_the_setting)
{
	static const char *const bad_header[] = {"X-A: 1\r\nX-B: 2"};
	static const struct {
		struct am_sender_config c;
		const char *needle;
	} cases[] = {
	    {{.name = "t", .url = "ftp://127.0.0.1/"}, "url 'ftp://127.0.0.1/'"},
	    {{.name = "t", .url = "127.0.0.1:4318"}, "url"},
	    {{.name = "t", .url = "http://[::1/"}, "malformed"},
	    {{.name = "t", .url = "http://h/", .ca_file = "/nonexistent/ca.pem"}, "ca_file"},
	    {{.name = "t", .url = "https://h/", .client_cert = "/etc"}, "client_cert '/etc'"},
	    {{.name = "t",
	      .url = "https://h/",
	      .client_cert = "/etc/hostname",
	      .client_key = "/nonexistent"},
	     "client_key"},
	    {{.name = "t", .url = "https://h/", .client_key = "/etc/hostname"}, "client_key"},
	    {{.name = "t", .url = "http://h/", .headers = bad_header, .nheaders = 1}, "header"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct am_sender *s = (void *)1;
		char err[512] = "";

		cr_assert_eq(am_sender_new(&cases[i].c, &s, err, sizeof(err)), -EINVAL, "case %zu",
			     i);
		cr_assert_null(s);
		cr_assert(strstr(err, cases[i].needle), "case %zu: '%s' lacks '%s'", i, err,
			  cases[i].needle);
	}
}

/* ---- TLS ---- */

static void make_certs(void)
{
	char cmd[4096];
	struct am_strbuf err = {0};
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	int status;

	if (access(OPENSSL, X_OK))
		cr_skip_test("skipped: needs openssl (scripts/install-deps.sh installs it)");
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';"
		 "%s req -x509 $K -keyout ca.key -out ca.crt -days 1 -subj /CN=test-ca;"
		 "printf 'subjectAltName=IP:127.0.0.1\\n' > ext;"
		 "for n in server client; do"
		 " %s req $K -keyout $n.key -out $n.csr -subj /CN=$n;"
		 " %s x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1"
		 " -extfile ext -out $n.crt; done;"
		 /* Another CA, and a stand-in for /etc/ssl/certs holding the first. */
		 "%s req -x509 $K -keyout other.key -out other.crt -days 1 -subj /CN=other-ca;"
		 "mkdir sys empty; cp ca.crt sys/; %s rehash sys",
		 dir, OPENSSL, OPENSSL, OPENSSL, OPENSSL, OPENSSL);
	status = am_test_run(argv, NULL, &err);
	cr_assert(WIFEXITED(status) && !WEXITSTATUS(status), "openssl: %s",
		  err.data ? err.data : "");
	am_strbuf_free(&err);
}

static char *in_dir(const char *name)
{
	static char bufs[4][600];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, 600, "%s/%s", dir, name);
	return b;
}

/* Submit one payload of ITEMS to a sender made from C; true when the receiver took it. */
static bool delivered_once(const struct am_sender_config *c, const char *id, uint64_t items)
{
	struct am_sender_stats st;
	struct am_sender *s = start(c);

	submit(s, id, items, 100);
	wait_settled(s, items, 20000);
	am_sender_get_stats(s, &st);
	am_sender_free(s);
	return st.sent_items == items;
}

Test(sender, https_with_a_ca_file_is_trusted_and_without_it_is_not)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "https");
	struct seen seen;

	make_certs();
	rcv.tls = "ca";
	receiver_start();
	c.max_elapsed_ms = 500;
	cr_assert_not(delivered_once(&c, "untrusted", 2), "a certificate of an unknown CA");
	/* The CA file adds to the system's trust (CAPATH kept), and is what verifies here. */
	c.ca_file = in_dir("ca.crt");
	cr_assert(delivered_once(&c, "trusted", 3));
	read_seen(&seen);
	cr_assert_eq(seen.n, 1);
	cr_assert_str_eq(seen.id[0], "trusted");
	cr_assert(log_has("test: https://127.0.0.1", NULL), "the TLS failure was not logged");
}

Test(sender, a_ca_file_adds_to_the_system_cas_instead_of_replacing_them)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "https");

	make_certs();
	rcv.tls = "ca";
	receiver_start();
	c.max_elapsed_ms = 500;
	/* The server's CA only in the "system" directory, an unrelated CA as the file. */
	c.ca_file = in_dir("other.crt");
	c.ca_dir = in_dir("empty");
	cr_assert_not(delivered_once(&c, "neither", 2), "trusted by neither, yet delivered");
	c.ca_dir = in_dir("sys");
	cr_assert(delivered_once(&c, "system", 3), "the CA file replaced the system's CAs");
}

Test(sender, mtls_refuses_a_sender_without_a_client_certificate)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "https");
	struct am_strbuf rec = {0};

	make_certs();
	rcv.tls = "mtls";
	receiver_start();
	c.ca_file = in_dir("ca.crt");
	c.max_elapsed_ms = 500;
	cr_assert_not(delivered_once(&c, "nocert", 2));
	c.client_cert = in_dir("client.crt");
	c.client_key = in_dir("client.key");
	cr_assert(delivered_once(&c, "cert", 3));
	am_test_read_file(rcv.record, &rec);
	cr_assert_not(strstr(rec.data, "nocert"));
	cr_assert(strstr(rec.data, "\"client_cert\":true"));
	am_strbuf_free(&rec);
}

Test(sender, https_negotiates_http2_when_the_receiver_offers_it)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "https");
	struct am_strbuf rec = {0};

	make_certs();
	rcv.tls = "h2";
	receiver_start();
	c.ca_file = in_dir("ca.crt");
	cr_assert(delivered_once(&c, "h2", 3));
	am_test_read_file(rcv.record, &rec);
	cr_assert(strstr(rec.data, "\"http_version\":\"2.0\""), "%s", rec.data);
	am_strbuf_free(&rec);
}

/* The signal mask of this process's thread named NAME, from /proc; false when none is. */
static bool thread_sigblk(const char *name, unsigned long long *mask)
{
	struct am_strbuf b = {0};
	char path[300], comm[32];
	bool found = false;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	const char *p;

	cr_assert_not_null(d);
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		am_strbuf_reset(&b);
		if (am_test_read_file(path, &b) || !b.data || sscanf(b.data, "%31s", comm) != 1 ||
		    strcmp(comm, name))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		am_strbuf_reset(&b);
		cr_assert_eq(am_test_read_file(path, &b), 0);
		p = strstr(b.data, "SigBlk:");
		found = p && sscanf(p + 7, "%llx", mask) == 1;
	}
	closedir(d);
	am_strbuf_free(&b);
	return found;
}

Test(sender, its_thread_takes_no_signals)
{
	char url[128];
	struct am_sender_config c = base_config(url, sizeof(url), "http");
	unsigned long long mask = 0;
	struct am_sender *s;
	sigset_t none;

	/* Created from a thread that blocks nothing: the agent's signalfd needs SIGTERM, SIGINT
	 * and SIGHUP blocked in every thread, and a closed connection must not be a SIGPIPE. */
	sigemptyset(&none);
	cr_assert_eq(pthread_sigmask(SIG_SETMASK, &none, NULL), 0);
	c.name = "sigtest";
	s = start(&c);
	cr_assert(thread_sigblk("am-sigtest", &mask), "no thread named am-sigtest");
	cr_assert(mask & (1ull << (SIGTERM - 1)), "SIGTERM open in the sender's thread");
	cr_assert(mask & (1ull << (SIGINT - 1)));
	cr_assert(mask & (1ull << (SIGHUP - 1)));
	cr_assert(mask & (1ull << (SIGPIPE - 1)));
	am_sender_free(s);
}
