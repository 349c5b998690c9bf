/* The real `antimetal-agent run` pushing OTLP metrics, configured by the OTEL_* variables only,
 * to a node receiver (tests/tools/fault_receiver.js) that keeps every body; the bodies are
 * decoded by npm's @opentelemetry/otlp-transformer (tests/tools/otlp_decode.js) and compared
 * with the agent's own /metrics for series that do not move: MemTotal, the CPU count, uname. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_receiver.h"
#include "http_get.h"
#include "otlp_decode.h"
#include "testutil.h"

#define AGENT	 AM_TEST_BUILD_DIR "/antimetal-agent"
#define NODE	 "/usr/bin/node"
#define RECEIVER AM_TEST_SRC_DIR "/tests/tools/fault_receiver.js"
#define DECODER	 AM_TEST_SRC_DIR "/tests/tools/otlp_decode.js"

static char *dir;
static pid_t receiver = -1, agent = -1;

static void setup(void)
{
	am_test_require_otlp_decoder();
	dir = am_test_mkdtemp("otlpmx");
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	am_test_reap(agent);
	am_test_reap(receiver);
	if (dir)
		am_test_rmtree(dir);
	free(dir);
}

TestSuite(otlp_export, .init = setup, .fini = teardown, .timeout = 90);

static void start_receiver(int port, int cport)
{
	char p[16], c[16], record[600], saved[600], out[700], rdir[600];
	char *argv[] = {NODE,	RECEIVER,     "--port", p,   "--control-port", c, "--record",
			record, "--save-dir", saved,	NULL};

	snprintf(p, sizeof(p), "%d", port);
	snprintf(c, sizeof(c), "%d", cport);
	snprintf(record, sizeof(record), "%s/record.jsonl", dir);
	snprintf(saved, sizeof(saved), "%s/bodies", dir);
	cr_assert_eq(mkdir(saved, 0700), 0);
	snprintf(rdir, sizeof(rdir), "%s/receiver", dir);
	cr_assert_eq(mkdir(rdir, 0700), 0);
	receiver = am_test_spawn(argv, rdir);
	cr_assert_gt(receiver, 0);
	snprintf(out, sizeof(out), "%s/out.txt", rdir);
	cr_assert(am_test_wait_file_text(out, "listening", 20000, receiver),
		  "the receiver did not start (%s/err.txt)", rdir);
}

/* Wait until the receiver kept body N (1-based). */
static void wait_body(int n, int timeout_ms)
{
	char path[600];
	long long end = am_test_now_ms() + timeout_ms;
	struct stat st;

	snprintf(path, sizeof(path), "%s/bodies/%d.bin", dir, n);
	while (stat(path, &st) || !st.st_size) {
		cr_assert_lt(am_test_now_ms(), end, "no OTLP request %d in %d ms (agent log: %s)",
			     n, timeout_ms, dir);
		am_test_sleep_ms(50);
	}
	am_test_sleep_ms(50); /* written whole before it is answered; let the write end */
}

static int count_bodies(void)
{
	char path[600];
	struct stat st;
	int n = 0;

	do
		snprintf(path, sizeof(path), "%s/bodies/%d.bin", dir, ++n);
	while (!stat(path, &st));
	return n - 1;
}

/* Body N decoded to JSON lines into OUT. */
static void decode_body(int n, struct am_strbuf *out)
{
	char path[600];
	char *argv[] = {NODE, DECODER, path, NULL};
	struct am_strbuf err = {0};

	snprintf(path, sizeof(path), "%s/bodies/%d.bin", dir, n);
	cr_assert_eq(am_test_run(argv, out, &err), 0, "decoder: %s", err.data ? err.data : "");
	am_strbuf_free(&err);
}

/* The decoded line of METRIC that also contains NEEDLE (NULL: any); NULL when none. */
static const char *point(const char *text, const char *metric, const char *needle)
{
	char key[200];
	const char *p = text;

	snprintf(key, sizeof(key), "{\"metric\":\"%s\",", metric);
	while ((p = strstr(p, key)) != NULL) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (!needle || memmem(p, len, needle, strlen(needle)))
			return p;
		p += len;
	}
	return NULL;
}

static double point_value(const char *line)
{
	const char *v = strstr(line, "\"value\":");

	cr_assert_not_null(v);
	return strtod(v + 8, NULL);
}

/* A sample's value from Prometheus text: the first line starting with SERIES. */
static double prom_value(const char *text, const char *series)
{
	const char *p = strstr(text, series);

	cr_assert_not_null(p, "no %s on /metrics", series);
	return strtod(p + strlen(series), NULL);
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)) != NULL; text++)
		n++;
	return n;
}

Test(otlp_export, agent_pushes_what_it_serves_on_metrics)
{
	int port = am_http_free_port(), cport = am_http_free_port(), http = am_http_free_port();
	char listen[64], endpoint[128], errpath[600], release[256], needle[300], rec[600];
	char *argv[] = {AGENT,
			"run",
			"--config",
			"/dev/null",
			"--listen",
			listen,
			"--no-execsnoop",
			"--no-profiler",
			"--set",
			"oom.enabled=false",
			"-i",
			"1s",
			"--log-level",
			"debug",
			NULL};
	struct am_test_spawn_opts o = {.out = errpath, .err = errpath};
	struct am_http_response r = {0};
	struct am_strbuf body = {0}, recs = {0};
	const char *line, *rel;
	int status, n, before;
	size_t ncpu;
	double memtotal;

	cr_assert(port > 0 && cport > 0 && http > 0);
	start_receiver(port, cport);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", http);
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d/", port);
	snprintf(errpath, sizeof(errpath), "%s/agent.txt", dir);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint, 1);
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-test=otlp%20metrics", 1);
	setenv("OTEL_METRIC_EXPORT_INTERVAL", "1000", 1);
	setenv("OTEL_SERVICE_NAME", "otlp-test", 1);
	setenv("OTEL_RESOURCE_ATTRIBUTES", "team=infra,deployment.environment=test", 1);
	agent = am_test_spawn_opts(argv, &o);
	cr_assert_gt(agent, 0);
	/* The second export carries collections made after the first tick. */
	wait_body(2, 20000);
	cr_assert_eq(am_http_get("127.0.0.1", http, "/metrics", 10000, &r), 0);
	cr_assert_eq(r.status, 200);
	n = count_bodies();
	decode_body(n, &body);

	/* The request itself: where, how and with what the variables said. */
	snprintf(rec, sizeof(rec), "%s/record.jsonl", dir);
	cr_assert_eq(am_test_read_file(rec, &recs), 0);
	cr_assert_not_null(strstr(recs.data, "\"url\":\"/v1/metrics\""), "%s", recs.data);
	cr_assert_not_null(strstr(recs.data, "\"content_type\":\"application/x-protobuf\""));
	cr_assert_not_null(strstr(recs.data, "\"content_encoding\":\"gzip\""));
	cr_assert_not_null(strstr(recs.data, "\"test_header\":\"otlp metrics\""));
	line = point(body.data, "system.memory.limit", NULL);
	cr_assert_not_null(line, "no system.memory.limit in:\n%.2000s", body.data);
	cr_assert_not_null(strstr(line, "\"service.name\":\"otlp-test\""));
	cr_assert_not_null(strstr(line, "\"team\":\"infra\""));
	cr_assert_not_null(strstr(line, "\"deployment.environment\":\"test\""));
	cr_assert_not_null(strstr(line, "\"os.type\":\"linux\""));
	cr_assert_not_null(strstr(line, "\"host.arch\":"));
	cr_assert_not_null(strstr(line, "\"scope\":\"antimetal-agent\""));

	/* MemTotal: one number, two renderings. */
	memtotal = prom_value(r.body.data, "\nnode_memory_MemTotal_bytes ");
	cr_assert_eq(point_value(line), memtotal);
	/* The CPUs: as many idle series on both sides. */
	ncpu = count(r.body.data, "\",mode=\"idle\"} ");
	cr_assert_gt(ncpu, 0u);
	{
		/* One pass over the lines: ASan's strstr measures the whole text at each call, so
		 * a lookup per CPU number was quadratic and took minutes under load. */
		const char *p, *eol, *idle;
		size_t seen = 0;

		for (p = body.data; (p = strstr(p, "{\"metric\":\"system.cpu.time\",")) != NULL;
		     p = eol) {
			eol = strchr(p, '\n');
			eol = eol ? eol : p + strlen(p);
			idle = memmem(p, (size_t)(eol - p), "\"cpu.mode\":\"idle\"", 17);
			if (idle && memmem(p, (size_t)(eol - p), "\"cpu\":\"", 7))
				seen++;
		}
		cr_assert_eq(seen, ncpu, "cpus: %zu decoded, %zu on /metrics", seen, ncpu);
	}
	/* uname: the same release attribute. */
	rel = strstr(r.body.data, "node_uname_info{");
	cr_assert_not_null(rel);
	rel = strstr(rel, "release=\"");
	cr_assert_not_null(rel);
	rel += 9;
	snprintf(release, sizeof(release), "%.*s", (int)(strchr(rel, '"') - rel), rel);
	snprintf(needle, sizeof(needle), "\"release\":\"%s\"", release);
	cr_assert_not_null(point(body.data, "antimetal.uname.info", needle), "no uname %s",
			   release);
	/* The agent's own metrics ride along, the exporter's counts among them. */
	cr_assert_not_null(point(body.data, "antimetal.export.requests", "otlp_metrics"));
	cr_assert_not_null(
	    strstr(r.body.data, "antimetal_export_sent_items_total{exporter=\"otlp_metrics\"}"));

	/* SIGTERM sends the latest collection before the agent exits 0. */
	before = count_bodies();
	cr_assert_eq(kill(agent, SIGTERM), 0);
	cr_assert_eq(am_test_wait_exit(agent, 20000, &status), 0);
	agent = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert_gt(count_bodies(), before, "no export at shutdown");
	am_strbuf_free(&body);
	am_strbuf_free(&recs);
	am_http_response_free(&r);
}

/* The specification's per-signal variables beat the general ones: the metrics request goes to
 * its own endpoint as is (nothing appended), with its own header, compression and timeout (the
 * general timeout is 1 ms). */
Test(otlp_export, signal_variables_beat_the_general_ones)
{
	int port = am_http_free_port(), cport = am_http_free_port(), http = am_http_free_port();
	char listen[64], general[128], own[128], errpath[600], rec[600];
	char *argv[] = {AGENT,
			"run",
			"--config",
			"/dev/null",
			"--listen",
			listen,
			"--no-execsnoop",
			"--no-profiler",
			"--set",
			"oom.enabled=false",
			"-i",
			"1s",
			NULL};
	struct am_test_spawn_opts o = {.out = errpath, .err = errpath};
	struct am_strbuf body = {0}, recs = {0};

	cr_assert(port > 0 && cport > 0 && http > 0);
	start_receiver(port, cport);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", http);
	snprintf(general, sizeof(general), "http://127.0.0.1:%d/", port);
	snprintf(own, sizeof(own), "http://127.0.0.1:%d/custom/metrics-in", port);
	snprintf(errpath, sizeof(errpath), "%s/agent.txt", dir);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", general, 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", own, 1);
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-test=general", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-test=metrics%20only", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none", 1);
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "10000", 1);
	setenv("OTEL_LOGS_EXPORTER", "none", 1);
	setenv("OTEL_METRIC_EXPORT_INTERVAL", "1000", 1);
	agent = am_test_spawn_opts(argv, &o);
	cr_assert_gt(agent, 0);
	wait_body(2, 20000);
	snprintf(rec, sizeof(rec), "%s/record.jsonl", dir);
	cr_assert_eq(am_test_read_file(rec, &recs), 0);
	cr_assert_not_null(strstr(recs.data, "\"url\":\"/custom/metrics-in\""), "%s", recs.data);
	cr_assert_null(strstr(recs.data, "/v1/metrics"), "%s", recs.data);
	cr_assert_not_null(strstr(recs.data, "\"content_encoding\":null"), "%s", recs.data);
	cr_assert_not_null(strstr(recs.data, "\"test_header\":\"metrics only\""), "%s", recs.data);
	cr_assert_null(strstr(recs.data, "\"test_header\":\"general\""), "%s", recs.data);
	decode_body(2, &body);
	cr_assert_not_null(point(body.data, "system.memory.usage", NULL), "%.2000s", body.data);
	am_strbuf_free(&body);
	am_strbuf_free(&recs);
}

Test(otlp_export, unimplemented_protocol_is_refused_at_start)
{
	char *argv[] = {AGENT, "run", "--config", "/dev/null", "--check-config", NULL};
	struct am_strbuf out = {0}, err = {0};
	int status;

	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
	status = am_test_run(argv, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
	cr_assert_not_null(strstr(err.data, "OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' is not "
					    "implemented by this agent"),
			   "%s", err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* /metrics from the agent on PORT into R (200 asserted). */
static void scrape(int port, struct am_http_response *r)
{
	am_http_response_free(r);
	*r = (struct am_http_response){0};
	cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 10000, r), 0);
	cr_assert_eq(r->status, 200);
}

Test(otlp_export, partial_success_is_counted_and_a_reload_moves_the_endpoint)
{
	int port = am_http_free_port(), cport = am_http_free_port(), http = am_http_free_port();
	char listen[64], errpath[600], cfg[600], text[512], want[128];
	char *argv[] = {
	    AGENT,	     "run", "--config", cfg, "--listen", listen, "--no-execsnoop",
	    "--no-profiler", "-i",  "1s",	NULL};
	struct am_test_spawn_opts o = {.out = errpath, .err = errpath};
	struct am_http_response r = {0};
	long long end;
	int n;

	cr_assert(port > 0 && cport > 0 && http > 0);
	start_receiver(port, cport);
	am_test_receiver_mode(cport, "mode=partial&rejected=7&message=too%20old");
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", http);
	snprintf(errpath, sizeof(errpath), "%s/agent.txt", dir);
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", dir);
	n = snprintf(text, sizeof(text),
		     "oom:\n  enabled: false\notlp:\n  metrics_endpoint: "
		     "http://127.0.0.1:%d/custom/path\n  metrics_interval: 500ms\n"
		     "  compression: none\n",
		     port);
	cr_assert_eq(am_test_write_file(cfg, text, (size_t)n), 0);
	agent = am_test_spawn_opts(argv, &o);
	cr_assert_gt(agent, 0);
	wait_body(1, 20000);
	/* The receiver rejected 7 points of each request it took: counted, the message logged. */
	snprintf(want, sizeof(want), "antimetal_export_rejected_items_total{exporter=\"%s\"} ",
		 "otlp_metrics");
	end = am_test_now_ms() + 20000;
	for (;;) {
		const char *p;

		scrape(http, &r);
		p = strstr(r.body.data, want);
		cr_assert_not_null(p, "no %s", want);
		if (strtod(p + strlen(want), NULL) >= 7)
			break;
		cr_assert_lt(am_test_now_ms(), end, "no rejected points counted");
		am_test_sleep_ms(100);
	}
	cr_assert(am_test_wait_file_text(errpath, "too old", 10000, agent),
		  "the receiver's message was not logged");
	{
		struct am_strbuf recs = {0};
		char rec[600];

		snprintf(rec, sizeof(rec), "%s/record.jsonl", dir);
		cr_assert_eq(am_test_read_file(rec, &recs), 0);
		/* A signal endpoint is used as is; compression none sends no Content-Encoding. */
		cr_assert_not_null(strstr(recs.data, "\"url\":\"/custom/path\""), "%s", recs.data);
		cr_assert_not_null(strstr(recs.data, "\"content_encoding\":null"));
		am_strbuf_free(&recs);
	}
	/* A reload that changes the endpoint replaces the exporter. */
	n = snprintf(text, sizeof(text),
		     "oom:\n  enabled: false\notlp:\n  endpoint: http://127.0.0.1:%d/base\n"
		     "  metrics_interval: 500ms\n",
		     port);
	cr_assert_eq(am_test_write_file(cfg, text, (size_t)n), 0);
	am_test_receiver_mode(cport, "mode=ok");
	cr_assert_eq(kill(agent, SIGHUP), 0);
	end = am_test_now_ms() + 20000;
	for (;;) {
		struct am_strbuf recs = {0};
		char rec[600];
		bool moved;

		snprintf(rec, sizeof(rec), "%s/record.jsonl", dir);
		cr_assert_eq(am_test_read_file(rec, &recs), 0);
		moved = strstr(recs.data, "\"url\":\"/base/v1/metrics\"") &&
			strstr(recs.data, "\"content_encoding\":\"gzip\"");
		am_strbuf_free(&recs);
		if (moved)
			break;
		cr_assert_lt(am_test_now_ms(), end, "the reload did not move the endpoint");
		am_test_sleep_ms(100);
	}
	am_http_response_free(&r);
}
