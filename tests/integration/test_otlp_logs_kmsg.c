/* The kernel log as OTLP log records, on the real /dev/kmsg: the follower delivers records
 * written after it opened (or from the ring's start, or after a sequence number) with their
 * level, facility, exact text (the kernel's \xNN escapes undone) and a wall-clock time; and
 * the daemon sends them to a real receiver, decoded by npm's otlp-transformer, with the
 * severity mapped from the syslog level. Needs root (writing and reading /dev/kmsg). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/system/kmsg_follow.h"
#include "http_get.h"
#include "testutil.h"
#include "util/clock.h"

#define NODE	 "/usr/bin/node"
#define RECEIVER AM_TEST_SRC_DIR "/tests/tools/fault_receiver.js"
#define AGENT	 AM_TEST_BUILD_DIR "/antimetal-agent"

struct got {
	int n;
	struct am_kmsg_event ev[64];
	char text[64][512];
	uint64_t first_seq;
};

static void collect(const struct am_kmsg_event *e, void *ctx)
{
	struct got *g = ctx;
	size_t len = e->len < 511 ? e->len : 511;

	if (!g->first_seq)
		g->first_seq = e->seq;
	if (!memmem(e->text, e->len, "am-mark-", 8))
		return;
	if (g->n == 64) { /* keep the newest */
		memmove(g->ev, g->ev + 1, sizeof(g->ev) - sizeof(g->ev[0]));
		memmove(g->text, g->text + 1, sizeof(g->text) - sizeof(g->text[0]));
		g->n--;
		for (int i = 0; i < g->n; i++)
			g->ev[i].text = g->text[i];
	}
	g->ev[g->n] = *e;
	memcpy(g->text[g->n], e->text, len);
	g->text[g->n][len] = '\0';
	g->ev[g->n].text = g->text[g->n];
	g->n++;
}

static void need_kmsg(void)
{
	int fd;

	if (geteuid())
		cr_skip_test("skipped: writing and reading /dev/kmsg needs root");
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		cr_skip_test("skipped: /dev/kmsg cannot be opened here");
	close(fd);
}

/* One record into the kernel log, "<PRI>TEXT\n" as /dev/kmsg takes it. The newline ends the
 * record: without it the kernel keeps the record open for a continuation, and readers see it
 * only once the next record comes. */
static void kwrite(int pri, const char *text)
{
	char buf[600];
	int fd = open("/dev/kmsg", O_WRONLY), n;

	cr_assert(fd >= 0);
	n = snprintf(buf, sizeof(buf), "<%d>%s\n", pri, text);
	cr_assert_eq(write(fd, buf, (size_t)n), n);
	close(fd);
}

static int consume_until(struct am_kmsg_follow *f, struct got *g, int want)
{
	long long end = am_test_now_ms() + 5000;

	while (g->n < want && am_test_now_ms() < end) {
		cr_assert_geq(am_kmsg_follow_consume(f), 0);
		if (g->n < want)
			am_test_sleep_ms(20);
	}
	return g->n;
}

Test(otlp_logs_kmsg, follower_delivers_new_records_with_level_facility_and_exact_text)
{
	struct am_kmsg_follow_opts o = {0};
	struct am_kmsg_follow *f;
	struct am_kmsg_follow_stats st;
	struct got g = {0};
	char a[128], b[128], want_b[128];
	uint64_t now = am_clock_ns(CLOCK_REALTIME);
	int id = getpid();

	need_kmsg();
	snprintf(a, sizeof(a), "am-mark-%d-old before the follower opened", id);
	kwrite(3, a);
	o.cb = collect;
	o.ctx = &g;
	cr_assert_eq(am_kmsg_follow_open(&o, &f), 0);
	/* warning, facility user (1); a control byte and a backslash the kernel escapes */
	snprintf(b, sizeof(b), "am-mark-%d-new tab\there back\\slash \x01 end", id);
	kwrite(1 << 3 | 4, b);
	kwrite(7, "am-mark-debug line");
	cr_assert_eq(consume_until(f, &g, 2), 2);
	cr_expect_null(strstr(g.text[0], "-old"), "a record from before the open was delivered");
	snprintf(want_b, sizeof(want_b), "%s", b);
	cr_expect_str_eq(g.text[0], want_b);
	cr_expect_eq(g.ev[0].severity, 4);
	cr_expect_eq(g.ev[0].facility, 1);
	cr_expect_eq(g.ev[1].severity, 7);
	cr_expect_gt(g.ev[1].seq, g.ev[0].seq);
	/* The kernel's clock turned into wall-clock time: within seconds of now. */
	cr_expect(g.ev[0].ts_real_ns + 5000000000ull > now &&
		      g.ev[0].ts_real_ns < now + 5000000000ull,
		  "ts_real_ns %llu is not near now %llu", (unsigned long long)g.ev[0].ts_real_ns,
		  (unsigned long long)now);
	am_kmsg_follow_stats(f, &st);
	cr_expect_eq(st.lost, 0);
	cr_expect_eq(st.malformed, 0);
	cr_expect_geq(st.records, 2);
	am_kmsg_follow_close(f);
}

Test(otlp_logs_kmsg, follower_from_the_start_and_after_a_sequence_number)
{
	struct am_kmsg_follow_opts o = {0};
	struct am_kmsg_follow *f;
	struct got g = {0}, h = {0};
	char text[128];

	need_kmsg();
	snprintf(text, sizeof(text), "am-mark-%d-resume", getpid());
	kwrite(6, text);
	o.cb = collect;
	o.ctx = &g;
	o.start = AM_KMSG_FROM_START;
	cr_assert_eq(am_kmsg_follow_open(&o, &f), 0);
	/* Until our record, the newest, came (the ring may hold more than 64 marked ones). */
	for (long long end = am_test_now_ms() + 5000;
	     (!g.n || strcmp(g.text[g.n - 1], text)) && am_test_now_ms() < end;)
		cr_assert_geq(am_kmsg_follow_consume(f), 0);
	cr_assert_geq(g.n, 1);
	am_kmsg_follow_close(f);
	cr_expect_lt(g.first_seq, g.ev[g.n - 1].seq, "from the start begins before our record");
	cr_expect_str_eq(g.text[g.n - 1], text);

	/* Resuming after our record's sequence number delivers only what came later. */
	o.ctx = &h;
	o.start = AM_KMSG_AFTER_SEQ;
	o.after_seq = g.ev[g.n - 1].seq;
	cr_assert_eq(am_kmsg_follow_open(&o, &f), 0);
	kwrite(6, "am-mark-after-resume");
	cr_assert_eq(consume_until(f, &h, 1), 1);
	cr_expect_str_eq(h.text[0], "am-mark-after-resume");
	cr_expect_gt(h.first_seq, o.after_seq);
	am_kmsg_follow_close(f);
}

/* ---- end to end: the daemon, a receiver, the decoder ---- */

Test(otlp_logs_kmsg, daemon_sends_kernel_log_records_with_mapped_severities, .timeout = 90)
{
	static const int want[8] = {21, 19, 18, 17, 13, 10, 9, 5};
	static const char *const names[8] = {"emerg",	"alert",  "crit", "err",
					     "warning", "notice", "info", "debug"};
	char *dir, cfg[600], record[600], alog[600], text[1024], p[16], c[16], needle[256];
	char *rargv[] = {NODE,	     RECEIVER, "--port",	p,   "--control-port", c,
			 "--record", record,   "--decode-logs", NULL};
	char *aargv[] = {AGENT, "run", "--config", cfg, NULL};
	struct am_test_spawn_opts ao = {.out = alog, .err = alog};
	int port = am_http_free_port(), cport = am_http_free_port(), lvl, status;
	pid_t rcv, agent;
	char rout[700];

	need_kmsg();
	AM_REQUIRE_BPF();
	if (access(NODE, X_OK))
		cr_skip_test("skipped: needs node");
	dir = am_test_mkdtemp("otlp-kmsg");
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", dir);
	snprintf(record, sizeof(record), "%s/record.jsonl", dir);
	snprintf(alog, sizeof(alog), "%s/agent.txt", dir);
	snprintf(p, sizeof(p), "%d", port);
	snprintf(c, sizeof(c), "%d", cport);
	rcv = am_test_spawn(rargv, dir);
	snprintf(rout, sizeof(rout), "%s/out.txt", dir);
	cr_assert(am_test_wait_file_text(rout, "listening", 20000, rcv));
	snprintf(text, sizeof(text),
		 "http:\n  enabled: false\ncollectors:\n  enabled: false\noom:\n  enabled: false\n"
		 "profiler:\n  enabled: false\nexecsnoop:\n  enabled: false\n"
		 "otlp:\n  logs_endpoint: http://127.0.0.1:%d/v1/logs\n  metrics: false\n"
		 "  logs: true\n  logs_delay: 100ms\n",
		 port);
	cr_assert_eq(am_test_write_file(cfg, text, strlen(text)), 0);
	agent = am_test_spawn_opts(aargv, &ao);
	cr_assert(am_test_wait_file_text(alog, "following the kernel log", 20000, agent), "see %s",
		  alog);
	/* Levels 3 to 7 only: the lower ones would be printed on every console. Severities of
	 * all eight levels are checked by the unit test. */
	for (lvl = 3; lvl < 8; lvl++) {
		snprintf(text, sizeof(text), "am-mark-%d-level-%d kernel text", getpid(), lvl);
		kwrite(lvl, text);
	}
	for (lvl = 3; lvl < 8; lvl++) {
		snprintf(needle, sizeof(needle), "[\"am-mark-%d-level-%d kernel text\",%d,\"%s\",",
			 getpid(), lvl, want[lvl], names[lvl]);
		cr_expect(am_test_wait_file_text(record, needle, 15000, 0), "no %s in %s", needle,
			  record);
	}
	kill(agent, SIGTERM);
	cr_expect_eq(am_test_wait_exit(agent, 30000, &status), 0);
	cr_expect(am_test_wait_file_text(alog, "otlp logs: stopped; records", 1000, 0));
	am_test_reap(rcv);
	am_test_rmtree(dir);
	free(dir);
}
