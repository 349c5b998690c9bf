/* The daemon's OTLP logs against a real, misbehaving receiver (tests/tools/fault_receiver.js
 * with --decode-logs: every /v1/logs body decoded by npm's otlp-transformer decoders): absent at
 * start then started, killed and restarted mid-run, 503 with Retry-After, 400, accepting and
 * never answering. The test marks its own execs (/bin/true am-mark-RUN-N) and checks exact
 * accounting twice: for its marks (each one arrives in an accepted request, or in a refused one
 * the agent counts dropped), and for every record the agent produced, other processes' execs
 * included (distinct records accepted + records counted dropped = records produced; a retried
 * record arriving twice counts once). The agent's RSS stays within its queue bound plus a
 * margin. Needs root (BPF) and node. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault_receiver.h"
#include "http_get.h"
#include "testutil.h"

#define NODE	      "/usr/bin/node"
#define RECEIVER      AM_TEST_SRC_DIR "/tests/tools/fault_receiver.js"
#define AGENT	      AM_TEST_BUILD_DIR "/antimetal-agent"
#define QUEUE_BYTES   (4u << 20)
#define RSS_MARGIN_KB (24u << 10)
#define SMALL_QUEUE   (64u << 10)

static char *dir;
static pid_t receiver = -1, agent = -1;
static int port, cport, mport;
static char record[600], agent_log[600];
static char run_id[32];
static int marks_made;
static long rss_start_kb, rss_max_kb;
static unsigned queue_bytes;
static bool exits;
static const char *compression;

static void setup(void)
{
	AM_REQUIRE_BPF();
	if (access(NODE, X_OK))
		cr_skip_test("skipped: needs node (scripts/install-deps.sh installs it)");
	if (access(AM_TEST_SRC_DIR "/tests/tools/otlp/node_modules/@opentelemetry", R_OK))
		cr_skip_test("skipped: tests/tools/otlp/node_modules is missing (npm ci there)");
	dir = am_test_mkdtemp("otlp-logs-faults");
	port = am_http_free_port();
	cport = am_http_free_port();
	mport = am_http_free_port();
	cr_assert(port > 0 && cport > 0 && mport > 0 && port != cport && cport != mport &&
		  port != mport);
	snprintf(record, sizeof(record), "%s/record.jsonl", dir);
	snprintf(agent_log, sizeof(agent_log), "%s/agent.txt", dir);
	snprintf(run_id, sizeof(run_id), "%d-%lld", getpid(), am_test_now_ms() % 1000000);
	marks_made = 0;
	queue_bytes = QUEUE_BYTES;
	exits = false;
	compression = "gzip";
	rss_start_kb = rss_max_kb = 0;
}

static void teardown(void)
{
	am_test_reap(agent);
	am_test_reap(receiver);
	agent = receiver = -1;
	if (dir && !getenv("AM_TEST_KEEP"))
		am_test_rmtree(dir);
	free(dir);
	dir = NULL;
}

TestSuite(otlp_logs_faults, .init = setup, .fini = teardown, .timeout = 150);

/* ---- the receiver ---- */

static pid_t receiver_start_on(int port_, int cport_)
{
	char p[16], c[16], out[800], rdir[700];
	pid_t pid;
	char save[720];
	char *argv[] = {NODE,
			RECEIVER,
			"--port",
			p,
			"--control-port",
			c,
			"--record",
			record,
			"--decode-logs",
			"--save-dir",
			save,
			NULL};

	snprintf(p, sizeof(p), "%d", port_);
	snprintf(c, sizeof(c), "%d", cport_);
	/* Each start writes its own out.txt: wait for this one's "listening". Every receiver
	 * appends to the one record file. */
	snprintf(rdir, sizeof(rdir), "%s/rcv-%d-%lld", dir, port_, am_test_now_ms());
	cr_assert_eq(am_test_write_file(strcat(strcpy(out, rdir), "/.keep"), "", 0), 0);
	snprintf(save, sizeof(save), "%s", rdir);
	pid = am_test_spawn(argv, rdir);
	cr_assert(pid > 0);
	snprintf(out, sizeof(out), "%s/out.txt", rdir);
	cr_assert(am_test_wait_file_text(out, "listening", 20000, pid),
		  "fault_receiver did not start (see %s/err.txt)", rdir);
	return pid;
}

static void receiver_start(void)
{
	receiver = receiver_start_on(port, cport);
}

static void receiver_kill(void)
{
	am_test_reap(receiver);
	receiver = -1;
}

/* ---- the agent ---- */

static long rss_kb(pid_t pid)
{
	char path[64], *p;
	struct am_strbuf b = {0};
	long kb = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!am_test_read_file(path, &b) && b.data && (p = strstr(b.data, "VmRSS:")))
		kb = strtol(p + 6, NULL, 10);
	am_strbuf_free(&b);
	return kb;
}

static void sample_rss(void)
{
	long kb = rss_kb(agent);

	if (kb > rss_max_kb)
		rss_max_kb = kb;
}

static void write_config(char *cfg, size_t cfglen)
{
	char text[2048];

	snprintf(cfg, cfglen, "%s/config.yaml", dir);
	snprintf(text, sizeof(text),
		 "http:\n  address: 127.0.0.1\n  port: %d\n"
		 "collectors:\n  enabled: false\n"
		 "oom:\n  enabled: false\n"
		 "profiler:\n  enabled: false\n"
		 "execsnoop:\n  enabled: true\n"
		 "export:\n  shutdown_timeout: 20s\n"
		 "otlp:\n  logs_endpoint: http://127.0.0.1:%d/v1/logs\n  metrics: false\n"
		 "  logs_kmsg: false\n  logs_delay: 200ms\n  timeout: 2s\n  queue_bytes: %u\n"
		 "  retry_initial_backoff: 200ms\n  retry_max_backoff: 1s\n  logs_exits: %s\n"
		 "  compression: %s\n",
		 mport, port, queue_bytes, exits ? "true" : "false", compression);
	cr_assert_eq(am_test_write_file(cfg, text, strlen(text)), 0);
}

static void agent_start(void)
{
	char cfg[700];
	char *argv[] = {AGENT, "run", "--config", cfg, NULL};
	struct am_test_spawn_opts o = {.out = agent_log, .err = agent_log};

	write_config(cfg, sizeof(cfg));
	agent = am_test_spawn_opts(argv, &o);
	cr_assert(agent > 0);
	cr_assert(am_test_wait_file_text(agent_log, "execsnoop: tracing every exec", 30000, agent),
		  "the agent did not start tracing (see %s)", agent_log);
	rss_start_kb = rss_max_kb = rss_kb(agent);
}

/* SIGTERM: the agent flushes within export.shutdown_timeout and logs its final counts. */
static void agent_stop(void)
{
	int status;

	kill(agent, SIGTERM);
	cr_assert_eq(am_test_wait_exit(agent, 60000, &status), 0, "the agent did not stop");
	agent = -1;
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %d", status);
}

/* Exec /bin/true with a unique mark argument, N times. */
static void make_marks(int n)
{
	char mark[96];
	char *argv[] = {"/bin/true", mark, NULL};
	int i;

	for (i = 0; i < n; i++) {
		snprintf(mark, sizeof(mark), "am-mark-%s-%d", run_id, marks_made++);
		cr_assert_eq(am_test_run(argv, NULL, NULL), 0);
		if (i % 16 == 0)
			sample_rss();
	}
}

/* ---- what the receiver saw ---- */

struct tally {
	char **keys; /* distinct records in accepted requests */
	size_t nkeys, cap;
	int marks_ok, marks_refused; /* distinct marks in accepted / refused (400) requests */
	unsigned char *ok, *refused; /* per mark number */
	int decode_errors;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_key(struct tally *t, const char *k, size_t len)
{
	if (t->nkeys == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 4096;
		t->keys = realloc(t->keys, t->cap * sizeof(*t->keys));
		cr_assert_not_null(t->keys);
	}
	t->keys[t->nkeys++] = strndup(k, len);
}

/* Each "am-mark-RUN-N" in LINE into SEEN (per mark number). */
static void take_marks(const char *line, unsigned char *seen)
{
	char needle[64];
	const char *p = line;
	int n;

	snprintf(needle, sizeof(needle), "\"am-mark-%s-", run_id);
	while ((p = strstr(p, needle))) {
		p += strlen(needle);
		n = atoi(p);
		if (n >= 0 && n < marks_made)
			seen[n] = 1;
	}
}

static void read_tally(struct tally *t)
{
	struct am_strbuf b = {0};
	char *line, *save = NULL;
	const char *k, *e;
	size_t i, j;
	int n;

	memset(t, 0, sizeof(*t));
	t->ok = calloc((size_t)marks_made + 1, 1);
	t->refused = calloc((size_t)marks_made + 1, 1);
	if (am_test_read_file(record, &b) || !b.data)
		return;
	for (line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "\"decode_error\""))
			t->decode_errors++;
		if (strstr(line, "\"mode\":\"400\"")) {
			take_marks(line, t->refused);
			continue;
		}
		if (!strstr(line, "\"mode\":\"ok\""))
			continue;
		take_marks(line, t->ok);
		k = strstr(line, "\"keys\":[");
		if (!k)
			continue;
		for (k += 8; *k == '"'; k = e + (e[1] == ',' ? 2 : 1)) {
			e = strchr(k + 1, '"');
			cr_assert_not_null(e);
			add_key(t, k + 1, (size_t)(e - k - 1));
		}
	}
	am_strbuf_free(&b);
	if (t->nkeys)
		qsort(t->keys, t->nkeys, sizeof(*t->keys), cmp_str);
	for (i = 0, j = 0; i < t->nkeys; i++) {
		if (j && !strcmp(t->keys[j - 1], t->keys[i])) {
			free(t->keys[i]);
			continue;
		}
		t->keys[j++] = t->keys[i];
	}
	t->nkeys = j;
	for (n = 0; n < marks_made; n++) {
		t->marks_ok += t->ok[n];
		t->marks_refused += !t->ok[n] && t->refused[n];
	}
}

static void free_tally(struct tally *t)
{
	size_t i;

	for (i = 0; i < t->nkeys; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->ok);
	free(t->refused);
}

/* Wait until the marks from FROM on arrived, accepted or refused. */
static void wait_marks_from(int from, int timeout_ms)
{
	long long end = am_test_now_ms() + timeout_ms;
	struct tally t;
	int got, n;

	for (;;) {
		read_tally(&t);
		for (got = 0, n = from; n < marks_made; n++)
			got += t.ok[n] || t.refused[n];
		free_tally(&t);
		if (got >= marks_made - from || am_test_now_ms() > end)
			break;
		sample_rss();
		am_test_sleep_ms(100);
	}
	cr_assert_eq(got, marks_made - from, "only %d of %d marks reached the receiver in %d ms",
		     got, marks_made - from, timeout_ms);
}

/* Wait until every mark made so far arrived. */
static void wait_marks(int timeout_ms)
{
	wait_marks_from(0, timeout_ms);
}

/* One self-metric's value from /metrics (the first series whose line starts with SERIES). */
static double scrape(const char *series)
{
	struct am_http_response r = {0};
	const char *p;
	double v = -1;

	cr_assert_eq(am_http_get("127.0.0.1", mport, "/metrics", 5000, &r), 0);
	cr_assert_eq(r.status, 200);
	p = r.body.data ? strstr(r.body.data, series) : NULL;
	if (p)
		v = strtod(p + strlen(series), NULL);
	am_http_response_free(&r);
	return v;
}

struct final_counts {
	unsigned long long records, nomem, sent, rejected, full, refused, retries, shutdown;
};

/* The records count is cumulative: the last "otlp logs: stopped" line has it all. Each sender
 * the agent ran (a reload replaces it) logs its own counts when it stops: summed. */
static void final_counts(struct final_counts *f)
{
	struct am_strbuf b = {0};
	const char *p, *q, *last = NULL;
	struct final_counts one;
	int senders = 0;

	memset(f, 0, sizeof(*f));
	cr_assert_eq(am_test_read_file(agent_log, &b), 0);
	for (p = b.data; (p = strstr(p, "otlp logs: stopped; records ")); p++)
		last = p;
	cr_assert_not_null(last, "no final counts in the agent's log %s", agent_log);
	cr_assert_eq(sscanf(last,
			    "otlp logs: stopped; records %llu (execsnoop %*u, kmsg %*u), "
			    "payloads %*u, lost before the sender %llu",
			    &f->records, &f->nomem),
		     2);
	for (q = b.data; (q = strstr(q, "export otlp_logs: stopped; items sent ")); q++) {
		cr_assert_eq(
		    sscanf(q,
			   "export otlp_logs: stopped; items sent %llu, rejected by the "
			   "receiver %llu, dropped: queue full %llu, refused %llu, retries "
			   "exhausted %llu, shutdown %llu",
			   &one.sent, &one.rejected, &one.full, &one.refused, &one.retries,
			   &one.shutdown),
		    6);
		f->sent += one.sent;
		f->rejected += one.rejected;
		f->full += one.full;
		f->refused += one.refused;
		f->retries += one.retries;
		f->shutdown += one.shutdown;
		senders++;
	}
	cr_assert_gt(senders, 0, "no sender counts in the agent's log %s", agent_log);
	am_strbuf_free(&b);
}

enum lost_marks { NONE_LOST, SOME_REFUSED, SOME_EVICTED };

/* The checks every scenario ends with; LOST: how marks may go missing. */
static void check_accounting(enum lost_marks lost)
{
	struct final_counts f;
	struct tally t;
	unsigned long long dropped;

	agent_stop();
	final_counts(&f);
	read_tally(&t);
	dropped = f.nomem + f.rejected + f.full + f.refused + f.retries + f.shutdown;
	cr_log_info("marks %d: %d accepted, %d refused; records %llu: %zu distinct accepted, "
		    "%llu dropped (refused %llu, queue full %llu, retries %llu, shutdown %llu); "
		    "RSS %ld -> max %ld KiB",
		    marks_made, t.marks_ok, t.marks_refused, f.records, t.nkeys, dropped, f.refused,
		    f.full, f.retries, f.shutdown, rss_start_kb, rss_max_kb);
	cr_expect_eq(t.decode_errors, 0, "the receiver could not decode %d requests",
		     t.decode_errors);
	if (lost == SOME_EVICTED) {
		/* Which marks the queue evicted is not recorded: only how many records. */
		cr_expect(t.marks_ok < marks_made && f.full > 0 &&
			      f.full >= (unsigned long long)(marks_made - t.marks_ok),
			  "%d of %d marks arrived, %llu records counted evicted", t.marks_ok,
			  marks_made, f.full);
	} else {
		cr_expect_eq(t.marks_ok + t.marks_refused, marks_made,
			     "marks: %d accepted + %d refused != %d", t.marks_ok, t.marks_refused,
			     marks_made);
	}
	if (lost == NONE_LOST)
		cr_expect_eq(t.marks_ok, marks_made);
	if (lost == SOME_REFUSED)
		cr_expect(t.marks_refused > 0 && f.refused >= (unsigned long long)t.marks_refused,
			  "%d marks refused, %llu records counted refused", t.marks_refused,
			  f.refused);
	/* Every record, other processes' execs included. */
	cr_expect_eq((unsigned long long)t.nkeys + dropped, f.records,
		     "%zu distinct records accepted + %llu dropped != %llu produced (sent %llu)",
		     t.nkeys, dropped, f.records, f.sent);
	cr_expect_leq(rss_max_kb - rss_start_kb, (long)(queue_bytes / 1024 + RSS_MARGIN_KB),
		      "RSS grew by %ld KiB (queue bound %u KiB)", rss_max_kb - rss_start_kb,
		      queue_bytes / 1024);
	free_tally(&t);
}

Test(otlp_logs_faults, receiver_absent_at_start_then_started)
{
	agent_start();
	make_marks(40);
	am_test_sleep_ms(1500); /* a few batches fail to connect and wait in the queue */
	sample_rss();
	receiver_start();
	make_marks(40);
	wait_marks(30000);
	cr_expect_gt(scrape("antimetal_export_retries_total{exporter=\"otlp_logs\"}"), 0);
	check_accounting(NONE_LOST);
}

Test(otlp_logs_faults, receiver_killed_and_restarted_mid_run)
{
	receiver_start();
	agent_start();
	make_marks(40);
	receiver_kill();
	make_marks(40);
	am_test_sleep_ms(1000);
	receiver_start();
	make_marks(40);
	wait_marks(30000);
	cr_expect_gt(scrape("antimetal_export_retries_total{exporter=\"otlp_logs\"}"), 0);
	check_accounting(NONE_LOST);
}

Test(otlp_logs_faults, status_503_with_retry_after_delays_then_delivers)
{
	receiver_start();
	agent_start();
	am_test_receiver_mode(cport, "mode=503&retry_after=1&count=3");
	make_marks(60);
	wait_marks(30000);
	cr_expect_gt(scrape("antimetal_export_retries_total{exporter=\"otlp_logs\"}"), 0);
	check_accounting(NONE_LOST);
}

Test(otlp_logs_faults, status_400_drops_and_counts)
{
	receiver_start();
	agent_start();
	make_marks(20);
	wait_marks(30000);
	am_test_receiver_mode(cport, "mode=400&message=test+refusal");
	make_marks(20);
	/* Refused records are dropped, not retried: each arrives once, in a 400 request. */
	wait_marks(30000);
	am_test_receiver_mode(cport, "mode=ok");
	make_marks(20);
	wait_marks(30000);
	cr_expect_gt(scrape("antimetal_export_dropped_items_total{exporter=\"otlp_logs\",reason="
			    "\"permanent\"}"),
		     0);
	check_accounting(SOME_REFUSED);
}

Test(otlp_logs_faults, receiver_that_never_answers_times_out_and_the_retry_delivers)
{
	receiver_start();
	agent_start();
	am_test_receiver_mode(cport, "mode=hang&count=2");
	make_marks(40);
	wait_marks(40000);
	cr_expect_gt(scrape("antimetal_export_retries_total{exporter=\"otlp_logs\"}"), 0);
	check_accounting(NONE_LOST);
}

Test(otlp_logs_faults, receiver_absent_long_the_full_queue_drops_the_oldest_and_counts)
{
	int from;

	/* Uncompressed (some 300 bytes a record), 1,500 records are several times the queue. */
	queue_bytes = SMALL_QUEUE;
	compression = "none";
	agent_start();
	/* Far more than 64 KiB of batches while nobody listens. */
	make_marks(1500);
	am_test_sleep_ms(500);
	sample_rss();
	receiver_start();
	/* Marks made while the sender still waits out its backoff could be evicted in turn by
	 * the host's other execs (a build's are large, uncompressed): the last ones are made once
	 * the receiver took a payload. */
	for (long long end = am_test_now_ms() + 20000;
	     scrape("antimetal_export_last_success_timestamp_seconds{exporter=\"otlp_logs\"}") <=
		 0 &&
	     am_test_now_ms() < end;)
		am_test_sleep_ms(100);
	from = marks_made;
	make_marks(20);
	wait_marks_from(from, 30000);
	check_accounting(SOME_EVICTED);
}

Test(otlp_logs_faults, sighup_moves_the_logs_to_a_new_endpoint_and_loses_nothing)
{
	char cfg[700], needle[128];
	pid_t second;

	receiver_start();
	agent_start();
	make_marks(40);
	wait_marks(30000);
	/* A second receiver; the configuration points at it; the old one stays up while the
	 * old sender flushes. */
	port = am_http_free_port();
	cport = am_http_free_port();
	second = receiver_start_on(port, cport);
	write_config(cfg, sizeof(cfg));
	cr_assert_eq(kill(agent, SIGHUP), 0);
	snprintf(needle, sizeof(needle), "otlp logs: to http://127.0.0.1:%d/v1/logs", port);
	cr_assert(am_test_wait_file_text(agent_log, needle, 20000, agent), "no move to %s", needle);
	/* The old sender was flushed before the new one started: the old receiver can go, and
	 * what follows can only arrive at the new one. */
	receiver_kill();
	make_marks(40);
	wait_marks(30000);
	check_accounting(NONE_LOST);
	am_test_reap(second);
}

static bool record_has(const char *needle, int timeout_ms)
{
	long long end = am_test_now_ms() + timeout_ms;
	struct am_strbuf b = {0};
	bool found = false;

	while (!found && am_test_now_ms() < end) {
		am_strbuf_reset(&b);
		found = !am_test_read_file(record, &b) && b.data && strstr(b.data, needle);
		if (!found)
			am_test_sleep_ms(100);
	}
	am_strbuf_free(&b);
	return found;
}

Test(otlp_logs_faults, exits_are_sent_with_their_code_or_signal)
{
	char link[700];
	char *code7[] = {link, "-c", "exit 7", NULL};
	char *killed[] = {link, "-c", "kill -9 $$", NULL};

	/* A shell under a name of our own: comm is the name it was executed by. */
	snprintf(link, sizeof(link), "%s/am-mark-exit", dir);
	cr_assert_eq(symlink("/bin/sh", link), 0);
	exits = true;
	receiver_start();
	agent_start();
	cr_assert(WIFEXITED(am_test_run(code7, NULL, NULL)));
	cr_assert(WIFSIGNALED(am_test_run(killed, NULL, NULL)));
	cr_expect(record_has(",7,null]", 15000), "no exit record with code 7 in %s", record);
	cr_expect(record_has(",null,9]", 15000), "no exit record killed by signal 9 in %s", record);
	make_marks(10);
	wait_marks(30000);
	check_accounting(NONE_LOST);
}
