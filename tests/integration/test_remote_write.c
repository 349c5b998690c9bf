/* remote_write against the real receivers: Debian's Prometheus (--web.enable-remote-write-receiver)
 * and VictoriaMetrics take the agent's pushes; their HTTP APIs must then hold exactly the series
 * the agent's /metrics serves, with the same values (remote_write_compare.py). The collectors
 * collect once (a one-hour interval) while pushes go every second, so /metrics stands still and
 * every pushed value can be compared exactly; each collection must be stored once, stamped with
 * its collection time. Bad remote_write settings exit 2 naming the key. */
#include <criterion/criterion.h>
#include <crypt.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export/remote_write.h"
#include "http_get.h"
#include "prom_remote.pb-c.h"
#include "testutil.h"
#include "util/json.h"

#define AGENT	   AM_TEST_BUILD_DIR "/antimetal-agent"
#define COMPARE	   AM_TEST_SRC_DIR "/tests/integration/remote_write_compare.py"
#define RECORDER   AM_TEST_SRC_DIR "/tests/integration/remote_write_recorder.py"
#define PYTHON	   "/usr/bin/python3"
#define PROMETHEUS "/usr/bin/prometheus"
#define VICTORIA   "/usr/bin/victoria-metrics"
#define VMAUTH	   "/usr/bin/vmauth"
#define HOST	   "rwtest"

enum { AGENT_P, RECV_P, RECV2_P, NPROCS };
static pid_t pids[NPROCS] = {-1, -1, -1};
static char *dir;
/* "Authorization: ...\r\n" for the receiver's query API when it checks credentials; NULL: none */
static const char *query_auth;

static void setup(void)
{
	dir = am_test_mkdtemp("remotewrite");
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	am_test_reap_all(pids, NPROCS);
	am_test_rmtree(dir);
	free(dir);
}

/* GET /api/v1/query for QUERY into R (status 200 asserted). */
static void query(int port, const char *q, struct am_http_response *r)
{
	struct am_strbuf path = {0};

	am_strbuf_puts(&path, "/api/v1/query?query=");
	am_http_urlencode(&path, q);
	cr_assert_eq(am_http_get_with("127.0.0.1", port, path.data, query_auth, 10000, r), 0);
	cr_assert_eq(r->status, 200, "query %s: status %d: %s", q, r->status,
		     r->body.data ? r->body.data : "");
	am_strbuf_free(&path);
}

/* The first result's value of an instant query; false when the result is empty. */
static bool query_value(int port, const char *q, double *v)
{
	struct am_http_response r;
	const char *p;
	bool ok = false;

	query(port, q, &r);
	p = strstr(r.body.data, "\"value\":[");
	if (p && (p = strstr(p, ",\"")) != NULL) {
		*v = strtod(p + 2, NULL);
		ok = true;
	}
	am_http_response_free(&r);
	return ok;
}

/* The value of the unlabelled NAME in an exposition. */
static double expo_value(const char *text, const char *name)
{
	char needle[160];
	const char *p;

	snprintf(needle, sizeof(needle), "\n%s ", name);
	p = strstr(text, needle);
	cr_assert_not_null(p, "/metrics has no %s", name);
	return strtod(p + strlen(needle), NULL);
}

static double meminfo_bytes(const char *field)
{
	struct am_strbuf b = {0};
	const char *p;
	double v = -1;

	cr_assert_eq(am_test_read_file("/proc/meminfo", &b), 0);
	p = strstr(b.data, field);
	if (p)
		v = strtod(p + strlen(field) + 1, NULL) * 1024;
	am_strbuf_free(&b);
	return v;
}

struct receiver {
	const char *name;
	/* relative, as remote_write_compare.py takes it; NULL: exact */
	const char *tolerance;
	int port;
	char url[128];
};

static void start_agent(const struct receiver *rx, int aport)
{
	char cfg[512], listen[64];
	char *argv[] = {AGENT,	    "run",  "--config",	      cfg,
			"--listen", listen, "--no-execsnoop", "--no-profiler",
			NULL};
	struct am_strbuf text = {0};

	snprintf(cfg, sizeof(cfg), "%s/agent.yaml", dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", aport);
	/* No BPF (OOM off): nothing to share with the other BPF tests. */
	am_strbuf_printf(&text,
			 "hostname: " HOST "\n"
			 "oom:\n  enabled: false\n"
			 "collectors:\n  interval: 1h\n"
			 "remote_write:\n  url: %s\n  interval: 1s\n"
			 "  headers: \"X-Scope-OrgID=test\"\n"
			 "  external_labels: \"job=rw-test\"\n",
			 rx->url);
	cr_assert_eq(am_test_write_file(cfg, text.data, text.len), 0);
	am_strbuf_free(&text);
	pids[AGENT_P] = am_test_spawn_log(argv, dir, "agent");
}

/* Until the receiver holds a push encoded after /metrics showed PUSHES pushes. */
static void wait_push(const struct receiver *rx, double pushes)
{
	long long deadline = am_test_now_ms() + 20000;
	struct am_strbuf logb = {0};
	double v = -1;

	while (am_test_now_ms() < deadline) {
		if (query_value(rx->port,
				"antimetal_remote_write_pushes_total{instance=\"" HOST "\"}", &v) &&
		    v >= pushes)
			return;
		am_test_sleep_ms(200); /* polled: the loop ends on the receiver's answer */
	}
	cr_assert_fail("%s holds no push after %g (last %g); agent log:\n%s", rx->name, pushes, v,
		       am_test_log_of(dir, "agent", &logb));
}

static void compare(const struct receiver *rx, const char *metrics)
{
	char mpath[512], qpath[512];
	char *argv[] = {PYTHON, COMPARE, mpath, qpath, HOST, "rw-test", (char *)rx->tolerance,
			NULL};
	struct am_strbuf out = {0}, err = {0};
	struct am_http_response r;
	int st;

	snprintf(mpath, sizeof(mpath), "%s/metrics.txt", dir);
	snprintf(qpath, sizeof(qpath), "%s/query.json", dir);
	cr_assert_eq(am_test_write_file(mpath, metrics, strlen(metrics)), 0);
	query(rx->port, "{instance=\"" HOST "\"}", &r);
	cr_assert_eq(am_test_write_file(qpath, r.body.data, r.body.len), 0);
	am_http_response_free(&r);
	st = am_test_run(argv, &out, &err);
	cr_log_info("%s: %s", rx->name, out.data ? out.data : "");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s differs from /metrics:\n%s%s",
		  rx->name, out.data ? out.data : "", err.data ? err.data : "");
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* Push to RX (already listening), then compare what it stored with /metrics. */
static void push_and_compare(const struct receiver *rx)
{
	int aport = am_http_free_port(), st;
	struct am_http_response m, h;
	struct am_strbuf logb = {0};
	double v;

	cr_assert_gt(aport, 0);
	start_agent(rx, aport);
	cr_assert(am_http_wait_ok(aport, "/healthz", 15000, &h), "agent down: %s",
		  am_test_log_of(dir, "agent", &logb));
	am_http_response_free(&h);
	wait_push(rx, 1);
	cr_assert(am_http_wait_ok(aport, "/metrics", 5000, &m));
	wait_push(rx, expo_value(m.body.data, "antimetal_remote_write_pushes_total"));
	compare(rx, m.body.data);

	/* A figure checked against the kernel too, not only against /metrics. */
	cr_assert(query_value(rx->port, "node_memory_MemTotal_bytes{instance=\"" HOST "\"}", &v));
	cr_assert_eq(v, meminfo_bytes("MemTotal:"), "%s: MemTotal %.17g, /proc/meminfo %.17g",
		     rx->name, v, meminfo_bytes("MemTotal:"));
	am_http_response_free(&m);

	/* Every push delivered, nothing dropped, and SIGTERM ends the agent cleanly. */
	cr_assert(am_http_wait_ok(aport, "/metrics", 5000, &m));
	cr_assert_eq(strstr(m.body.data, "antimetal_export_dropped_items_total{exporter="
					 "\"remote_write\",reason=\"permanent\"} 0\n") != NULL,
		     1, "the receiver refused some pushes:\n%s",
		     am_test_log_of(dir, "agent", &logb));
	am_http_response_free(&m);
	kill(pids[AGENT_P], SIGTERM);
	cr_assert_eq(am_test_wait_exit(pids[AGENT_P], 15000, &st), 0, "no exit after SIGTERM");
	pids[AGENT_P] = -1;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "agent exit status %d: %s", st,
		  am_test_log_of(dir, "agent", &logb));
	cr_assert_null(strstr(am_test_log_of(dir, "agent", &logb), "remote_write: cannot"), "%s",
		       logb.data);
	am_strbuf_free(&logb);
}

Test(remote_write, victoria_metrics_stores_what_metrics_serves, .init = setup, .fini = teardown,
     .timeout = 90)
{
	/* It keeps about 12 significant digits: 1796025801.8824525 comes back ...527. */
	struct receiver rx = {
	    .name = "VictoriaMetrics", .tolerance = "1e-12", .port = am_http_free_port()};
	char listen[64], data[600];
	char *argv[] = {VICTORIA,
			listen,
			data,
			"-search.latencyOffset=0s",
			"-search.disableCache",
			"-loggerLevel=ERROR",
			NULL};
	struct am_http_response r;
	const char *p;
	int n = 0;

	if (access(VICTORIA, X_OK))
		cr_skip_test("skipped: needs Debian's victoria-metrics (%s)", VICTORIA);
	snprintf(listen, sizeof(listen), "-httpListenAddr=127.0.0.1:%d", rx.port);
	snprintf(data, sizeof(data), "-storageDataPath=%s/vm", dir);
	snprintf(rx.url, sizeof(rx.url), "http://127.0.0.1:%d/api/v1/write", rx.port);
	pids[RECV_P] = am_test_spawn_log(argv, dir, "victoria-metrics");
	am_test_wait_server(rx.port, "/health", 20000, dir, "victoria-metrics");
	push_and_compare(&rx);

	/* The raw samples: one collection, stored once (later pushes do not repeat it), with
	 * a collection time in the past minute. */
	cr_assert(am_http_wait_ok(
	    rx.port,
	    "/api/v1/export?match%5B%5D=node_memory_MemTotal_bytes%7Binstance%3D%22" HOST "%22%7D",
	    5000, &r));
	for (p = r.body.data; (p = strstr(p, "\"__name__\"")) != NULL; p++)
		n++;
	cr_assert_eq(n, 1, "export: %s", r.body.data);
	p = strstr(r.body.data, "\"timestamps\":[");
	cr_assert_not_null(p, "%s", r.body.data);
	cr_assert_null(strchr(p, ','), "a collection stored more than once: %s", r.body.data);
	{
		double ts = strtod(p + strlen("\"timestamps\":["), NULL) / 1000;
		double now = (double)time(NULL);

		cr_assert(ts > now - 60 && ts <= now + 1, "timestamp %f, now %f", ts, now);
	}
	am_http_response_free(&r);
}

Test(remote_write, prometheus_stores_what_metrics_serves, .init = setup, .fini = teardown,
     .timeout = 90)
{
	struct receiver rx = {.name = "Prometheus", .port = am_http_free_port()};
	char listen[64], tsdb[600], cfg[512], cfg_flag[600];
	char *argv[] = {PROMETHEUS, "--web.enable-remote-write-receiver",
			tsdb,	    listen,
			cfg_flag,   "--log.level=warn",
			NULL};
	static const char yml[] = "global:\n  scrape_interval: 1m\n";

	if (access(PROMETHEUS, X_OK))
		cr_skip_test("skipped: needs Debian's prometheus (%s)", PROMETHEUS);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", rx.port);
	snprintf(tsdb, sizeof(tsdb), "--storage.tsdb.path=%s/tsdb", dir);
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
	snprintf(cfg_flag, sizeof(cfg_flag), "--config.file=%s", cfg);
	cr_assert_eq(am_test_write_file(cfg, yml, sizeof(yml) - 1), 0);
	snprintf(rx.url, sizeof(rx.url), "http://127.0.0.1:%d/api/v1/write", rx.port);
	pids[RECV_P] = am_test_spawn_log(argv, dir, "prometheus");
	am_test_wait_server(rx.port, "/-/ready", 30000, dir, "prometheus");
	push_and_compare(&rx);
}

/* Request N the recorder kept: its headers into H, its decoded WriteRequest returned. */
static Prometheus__WriteRequest *recorded_in(const char *sub, int n, struct am_strbuf *h)
{
	char path[512];
	struct am_strbuf body = {0};
	Prometheus__WriteRequest *req;
	size_t len;
	void *raw;

	snprintf(path, sizeof(path), "%s/%s/%d.headers", dir, sub, n);
	cr_assert(am_test_wait_file_text(path, ":", 20000, pids[AGENT_P]), "no request %d", n);
	am_strbuf_reset(h);
	cr_assert_eq(am_test_read_file(path, h), 0);
	snprintf(path, sizeof(path), "%s/%s/%d.body", dir, sub, n);
	cr_assert_eq(am_test_read_file(path, &body), 0);
	cr_assert_eq(am_rw_snappy_uncompress(body.data, body.len, &raw, &len), 0,
		     "request %d: not a snappy block", n);
	req = prometheus__write_request__unpack(NULL, len, raw);
	cr_assert_not_null(req, "request %d: not a WriteRequest", n);
	free(raw);
	am_strbuf_free(&body);
	return req;
}

static Prometheus__WriteRequest *recorded(int n, struct am_strbuf *h)
{
	return recorded_in("rec", n, h);
}

static const char *label(const Prometheus__TimeSeries *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n_labels; i++)
		if (!strcmp(t->labels[i]->name, name))
			return t->labels[i]->value;
	return NULL;
}

static bool has_series(const Prometheus__WriteRequest *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_timeseries; i++)
		if (!strcmp(label(r->timeseries[i], "__name__"), name))
			return true;
	return false;
}

/* Headers, token, external labels and metadata as they reach a receiver, and a collection
 * sent once: the second push does not repeat what the first carried. */
Test(remote_write, requests_carry_the_protocols_headers_labels_and_each_collection_once,
     .init = setup, .fini = teardown, .timeout = 60)
{
	int port = am_http_free_port(), aport = am_http_free_port();
	char ports[16], rec[512], cfg[512], token[512], listen[64];
	char *rargv[] = {PYTHON, RECORDER, ports, rec, NULL};
	char *aargv[] = {AGENT,	     "run",  "--config",       cfg,
			 "--listen", listen, "--no-execsnoop", "--no-profiler",
			 NULL};
	struct am_strbuf text = {0}, h = {0};
	Prometheus__WriteRequest *r0, *r1;
	size_t i, j;

	if (access(PYTHON, X_OK))
		cr_skip_test("skipped: needs python3 for the recording receiver");
	cr_assert(port > 0 && aport > 0 && port != aport);
	snprintf(ports, sizeof(ports), "%d", port);
	snprintf(rec, sizeof(rec), "%s/rec", dir);
	snprintf(cfg, sizeof(cfg), "%s/agent.yaml", dir);
	snprintf(token, sizeof(token), "%s/token", dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", aport);
	cr_assert_eq(am_test_write_file(token, "s3cret\n", 7), 0);
	cr_assert_eq(mkdir(rec, 0700), 0);
	pids[RECV_P] = am_test_spawn_log(rargv, dir, "recorder");
	am_test_wait_server(port, "/", 15000, dir, "recorder");
	am_strbuf_printf(&text,
			 "hostname: " HOST "\n"
			 "oom:\n  enabled: false\n"
			 "collectors:\n  interval: 1h\n"
			 "remote_write:\n  url: http://127.0.0.1:%d/api/v1/write\n  interval: 1s\n"
			 "  headers: \"X-Scope-OrgID=team%%2Ca\"\n"
			 "  external_labels: \"cluster=eu-1,job=\"\n"
			 "  bearer_token_file: %s\n",
			 port, token);
	cr_assert_eq(am_test_write_file(cfg, text.data, text.len), 0);
	pids[AGENT_P] = am_test_spawn_log(aargv, dir, "agent");

	r0 = recorded(0, &h);
	cr_assert_not_null(strstr(h.data, "Content-Type: application/x-protobuf\n"), "%s", h.data);
	cr_assert_not_null(strstr(h.data, "Content-Encoding: snappy\n"), "%s", h.data);
	cr_assert_not_null(strstr(h.data, "X-Prometheus-Remote-Write-Version: 0.1.0\n"), "%s",
			   h.data);
	cr_assert_not_null(strstr(h.data, "User-Agent: antimetal-agent"), "%s", h.data);
	cr_assert_not_null(strstr(h.data, "Authorization: Bearer s3cret\n"), "%s", h.data);
	cr_assert_not_null(strstr(h.data, "X-Scope-OrgID: team,a\n"), "%s", h.data);
	cr_assert_gt(r0->n_timeseries, 100);
	cr_assert_gt(r0->n_metadata, 10, "metadata comes with the first push");
	for (i = 0; i < r0->n_timeseries; i++) {
		const Prometheus__TimeSeries *t = r0->timeseries[i];

		cr_assert_str_eq(label(t, "instance"), HOST);
		cr_assert_str_eq(label(t, "cluster"), "eu-1");
		cr_assert_null(label(t, "job"), "job= removes the default label");
		cr_assert_eq(t->n_samples, 1);
		for (j = 1; j < t->n_labels; j++)
			cr_assert_lt(strcmp(t->labels[j - 1]->name, t->labels[j]->name), 0);
	}
	cr_assert(has_series(r0, "node_memory_MemTotal_bytes"));
	cr_assert(has_series(r0, "antimetal_agent_start_time_seconds"));

	/* One collection (the interval is an hour): the next push has only the agent's own. */
	r1 = recorded(1, &h);
	cr_assert_not(has_series(r1, "node_memory_MemTotal_bytes"), "a collection sent twice");
	cr_assert(has_series(r1, "antimetal_agent_start_time_seconds"));
	cr_assert_eq(r1->n_metadata, 0, "metadata again within the minute");
	prometheus__write_request__free_unpacked(r0, NULL);
	prometheus__write_request__free_unpacked(r1, NULL);
	am_strbuf_free(&text);
	am_strbuf_free(&h);
}

/* A recorder on PORT (0: a free one) keeping requests in DIR/SUB; returns the port. */
static int start_recorder_on(int port, const char *sub, int slot)
{
	char ports[16], rec[512], name[32];
	char *argv[] = {PYTHON, RECORDER, ports, rec, NULL};

	cr_assert_gt(port, 0);
	snprintf(ports, sizeof(ports), "%d", port);
	snprintf(rec, sizeof(rec), "%s/%s", dir, sub);
	snprintf(name, sizeof(name), "recorder-%s", sub);
	cr_assert_eq(mkdir(rec, 0700), 0);
	pids[slot] = am_test_spawn_log(argv, dir, name);
	am_test_wait_server(port, "/", 15000, dir, name);
	return port;
}

static int start_recorder(const char *sub, int slot)
{
	return start_recorder_on(am_http_free_port(), sub, slot);
}

static void write_config(const char *cfg, int port, const char *labels)
{
	struct am_strbuf text = {0};

	am_strbuf_printf(&text,
			 "hostname: " HOST "\n"
			 "oom:\n  enabled: false\n"
			 "collectors:\n  interval: 1h\n"
			 "remote_write:\n  url: http://127.0.0.1:%d/api/v1/write\n  interval: 1s\n"
			 "  external_labels: \"%s\"\n",
			 port, labels);
	cr_assert_eq(am_test_write_file(cfg, text.data, text.len), 0);
	am_strbuf_free(&text);
}

/* SIGHUP with a new URL and labels: the old receiver's queue is flushed, the new one gets a
 * fresh collection with the new labels. */
Test(remote_write, a_reload_moves_the_push_to_the_new_url_and_labels, .init = setup,
     .fini = teardown, .timeout = 60)
{
	int aport = am_http_free_port(), pa, pb;
	char cfg[512], listen[64];
	char *aargv[] = {AGENT,	     "run",  "--config",       cfg,
			 "--listen", listen, "--no-execsnoop", "--no-profiler",
			 NULL};
	struct am_strbuf h = {0};
	Prometheus__WriteRequest *r;
	size_t i;

	if (access(PYTHON, X_OK))
		cr_skip_test("skipped: needs python3 for the recording receiver");
	pa = start_recorder("a", RECV_P);
	pb = start_recorder("b", RECV2_P);
	cr_assert(aport > 0 && pa != pb && aport != pa && aport != pb);
	snprintf(cfg, sizeof(cfg), "%s/agent.yaml", dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", aport);
	write_config(cfg, pa, "phase=1");
	pids[AGENT_P] = am_test_spawn_log(aargv, dir, "agent");
	r = recorded_in("a", 0, &h);
	cr_assert_str_eq(label(r->timeseries[0], "phase"), "1");
	prometheus__write_request__free_unpacked(r, NULL);

	write_config(cfg, pb, "phase=2");
	cr_assert_eq(kill(pids[AGENT_P], SIGHUP), 0);
	r = recorded_in("b", 0, &h);
	cr_assert(has_series(r, "node_memory_MemTotal_bytes"),
		  "the collection made at the reload is pushed to the new URL");
	for (i = 0; i < r->n_timeseries; i++)
		cr_assert_str_eq(label(r->timeseries[i], "phase"), "2");
	prometheus__write_request__free_unpacked(r, NULL);
	am_strbuf_free(&h);
}

/* The receiver down when the first collection is pushed: that push waits in the queue and is
 * delivered once the receiver is up, so a collection sent once is not a collection lost. */
Test(remote_write, a_collection_pushed_while_the_receiver_is_down_arrives_later, .init = setup,
     .fini = teardown, .timeout = 60)
{
	int aport = am_http_free_port(), port = am_http_free_port();
	char cfg[512], listen[64];
	char *aargv[] = {AGENT,	     "run",  "--config",       cfg,
			 "--listen", listen, "--no-execsnoop", "--no-profiler",
			 NULL};
	struct am_http_response m;
	struct am_strbuf h = {0};
	Prometheus__WriteRequest *r;
	long long deadline;
	bool found = false;
	int n;

	if (access(PYTHON, X_OK))
		cr_skip_test("skipped: needs python3 for the recording receiver");
	cr_assert(aport > 0 && port > 0 && aport != port);
	snprintf(cfg, sizeof(cfg), "%s/agent.yaml", dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", aport);
	write_config(cfg, port, "");
	pids[AGENT_P] = am_test_spawn_log(aargv, dir, "agent");
	/* Until a push has failed: the sender counts a retry. */
	deadline = am_test_now_ms() + 15000;
	for (;;) {
		cr_assert(am_http_wait_ok(aport, "/metrics", 5000, &m));
		if (!strstr(m.body.data,
			    "antimetal_export_retries_total{exporter=\"remote_write\"} 0\n") &&
		    strstr(m.body.data,
			   "antimetal_export_retries_total{exporter=\"remote_write\"}"))
			break;
		am_http_response_free(&m);
		cr_assert_lt(am_test_now_ms(), deadline, "no failed push in 15 s");
		am_test_sleep_ms(200); /* polled: the loop ends on the agent's counter */
	}
	am_http_response_free(&m);
	start_recorder_on(port, "rec", RECV_P);
	/* The sender's backoff (5 s, jittered) decides when the queue moves on. */
	for (n = 0; n < 30 && !found; n++) {
		r = recorded(n, &h);
		found = has_series(r, "node_memory_MemTotal_bytes");
		prometheus__write_request__free_unpacked(r, NULL);
	}
	cr_assert(found, "the first collection never arrived");
	am_strbuf_free(&h);
}

/* `run --check-config` with YAML: exit 2, the message naming KEY. */
static void refused(const char *yaml, const char *key)
{
	char cfg[512];
	char *argv[] = {AGENT, "run", "--check-config", "--config", cfg, NULL};
	struct am_strbuf out = {0}, err = {0};
	int st;

	snprintf(cfg, sizeof(cfg), "%s/bad.yaml", dir);
	cr_assert_eq(am_test_write_file(cfg, yaml, strlen(yaml)), 0);
	st = am_test_run(argv, &out, &err);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "exit %d for:\n%s\n%s", st, yaml,
		  err.data ? err.data : "");
	cr_assert_not_null(err.data);
	cr_assert_not_null(strstr(err.data, key), "'%s' not named in: %s", key, err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

Test(remote_write, bad_settings_exit_2_naming_the_key, .init = setup, .fini = teardown)
{
	refused("remote_write:\n  url: ftp://example.com/write\n", "remote_write.url");
	refused("remote_write:\n  url: not a url\n", "remote_write.url");
	refused("remote_write:\n  url: http://127.0.0.1:1/w\n  headers: \"X Bad=1\"\n",
		"remote_write.headers");
	refused("remote_write:\n  headers: \"Content-Type=text/plain\"\n", "remote_write.headers");
	refused("remote_write:\n  headers: \"X-A=%zz\"\n", "remote_write.headers");
	refused("remote_write:\n  headers: \"X-A\"\n", "remote_write.headers");
	refused("remote_write:\n  external_labels: \"__x=1\"\n", "remote_write.external_labels");
	refused("remote_write:\n  external_labels: \"a-b=1\"\n", "remote_write.external_labels");
	refused("remote_write:\n  url: http://127.0.0.1:1/w\n"
		"  bearer_token_file: /nonexistent/token\n",
		"remote_write.bearer_token_file");
	refused("remote_write:\n  url: https://127.0.0.1:1/w\n  tls:\n"
		"    ca_file: /nonexistent/ca.pem\n",
		"remote_write.tls.ca_file");
	refused("remote_write:\n  url: https://127.0.0.1:1/w\n  tls:\n"
		"    cert_file: /etc/hostname\n",
		"remote_write.tls.key_file");
	refused("remote_write:\n  headers: \"Authorization=Bearer%20x\"\n", "remote_write.headers");
	refused("remote_write:\n  url: http://127.0.0.1:1/w\n  basic_auth:\n    username: u\n"
		"  authorization:\n    credentials: x\n",
		"remote_write: at most one of basic_auth, authorization and bearer_token_file");
	refused("remote_write:\n  url: http://127.0.0.1:1/w\n  basic_auth:\n"
		"    password_file: /nonexistent/pw\n",
		"remote_write.basic_auth.password_file");
	refused("remote_write:\n  basic_auth:\n    nope: 1\n", "remote_write.basic_auth.nope");
	refused("remote_write:\n  interval: 10ms\n", "remote_write.interval");
	refused("remote_write:\n  queue_bytes: 1K\n", "remote_write.queue_bytes");
	refused("remote_write:\n  nope: 1\n", "remote_write.nope");
}

/* ---- receivers that check credentials ---- */

/* A bcrypt hash of PASS for Prometheus's web configuration (cost 5: a fast test). */
static void bcrypt(const char *pass, char *out, size_t len)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd = {0};

	cr_assert_not_null(crypt_gensalt_rn("$2b$", 5, NULL, 0, salt, sizeof(salt)));
	cr_assert_not_null(crypt_r(pass, salt, &cd));
	cr_assert_lt(strlen(cd.output), len);
	memcpy(out, cd.output, strlen(cd.output) + 1);
}

/* "Authorization: Basic ...\r\n" for USER:PASS, as the test's own client sends it. */
static void basic_header(const char *user, const char *pass, char *out, size_t len)
{
	struct am_strbuf pair = {0}, b64 = {0};

	am_strbuf_printf(&pair, "%s:%s", user, pass);
	am_base64(&b64, pair.data, pair.len);
	snprintf(out, len, "Authorization: Basic %s\r\n", b64.data);
	am_strbuf_free(&pair);
	am_strbuf_free(&b64);
}

/* The HTTP status of GET PATH on PORT with HEADERS (NULL: none); -1 when nothing answers. */
static int status_of(int port, const char *path, const char *headers)
{
	struct am_http_response r;
	int st;

	if (am_http_get_with("127.0.0.1", port, path, headers, 2000, &r))
		return -1;
	st = r.status;
	am_http_response_free(&r);
	return st;
}

static void wait_status(int port, const char *path, const char *headers, int want, const char *name)
{
	long long deadline = am_test_now_ms() + 30000;
	struct am_strbuf b = {0};

	while (status_of(port, path, headers) != want) {
		cr_assert_lt(am_test_now_ms(), deadline, "%s never answered %d: %s", name, want,
			     am_test_log_of(dir, name, &b));
		am_test_sleep_ms(200); /* polled: the receiver is starting */
	}
	am_strbuf_free(&b);
}

/* An agent pushing every second to URL with AUTH (YAML lines under remote_write:). */
static int start_auth_agent(const char *url, const char *auth, const char *name)
{
	static char cfg[512], listen[64];
	char *argv[] = {AGENT,	    "run",  "--config",	      cfg,
			"--listen", listen, "--no-execsnoop", "--no-profiler",
			NULL};
	struct am_strbuf text = {0};
	int aport = am_http_free_port();

	cr_assert_gt(aport, 0);
	snprintf(cfg, sizeof(cfg), "%s/%s.yaml", dir, name);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", aport);
	am_strbuf_printf(&text,
			 "hostname: " HOST "\n"
			 "oom:\n  enabled: false\n"
			 "collectors:\n  interval: 1h\n"
			 "remote_write:\n  url: %s\n  interval: 1s\n%s",
			 url, auth);
	cr_assert_eq(am_test_write_file(cfg, text.data, text.len), 0);
	am_strbuf_free(&text);
	pids[AGENT_P] = am_test_spawn_log(argv, dir, name);
	return aport;
}

/* Until the agent on APORT counts a push the receiver refused for good (4xx). */
static void wait_refused(int aport, const char *name)
{
	long long deadline = am_test_now_ms() + 20000;
	struct am_http_response m;
	struct am_strbuf b = {0};

	for (;;) {
		cr_assert(am_http_wait_ok(aport, "/metrics", 5000, &m), "%s down: %s", name,
			  am_test_log_of(dir, name, &b));
		if (strstr(m.body.data, "antimetal_export_dropped_payloads_total{exporter="
					"\"remote_write\",reason=\"permanent\"} ") &&
		    !strstr(m.body.data, "antimetal_export_dropped_payloads_total{exporter="
					 "\"remote_write\",reason=\"permanent\"} 0\n"))
			break;
		am_http_response_free(&m);
		cr_assert_lt(am_test_now_ms(), deadline, "no refused push: %s",
			     am_test_log_of(dir, name, &b));
		am_test_sleep_ms(200); /* polled: the loop ends on the agent's counter */
	}
	am_http_response_free(&m);
	am_strbuf_free(&b);
}

/* The agent on APORT has sent nothing to the receiver. */
static void sent_nothing(int aport)
{
	struct am_http_response m;

	cr_assert(am_http_wait_ok(aport, "/metrics", 5000, &m));
	cr_assert_not_null(strstr(m.body.data, "antimetal_export_sent_payloads_total{exporter="
					       "\"remote_write\"} 0\n"),
			   "a push got through without the right credentials");
	am_http_response_free(&m);
}

/* Until the agent on APORT (its sender new since a reload) has sent a push and had none
 * refused. */
static void wait_accepted(int aport, const char *name)
{
	long long deadline = am_test_now_ms() + 20000;
	struct am_http_response m;
	struct am_strbuf b = {0};

	for (;;) {
		cr_assert(am_http_wait_ok(aport, "/metrics", 5000, &m));
		if (!strstr(m.body.data, "antimetal_export_sent_payloads_total{exporter="
					 "\"remote_write\"} 0\n") &&
		    strstr(m.body.data, "antimetal_export_dropped_payloads_total{exporter="
					"\"remote_write\",reason=\"permanent\"} 0\n"))
			break;
		am_http_response_free(&m);
		cr_assert_lt(am_test_now_ms(), deadline, "no accepted push: %s",
			     am_test_log_of(dir, name, &b));
		am_test_sleep_ms(200); /* polled: the loop ends on the agent's counter */
	}
	am_http_response_free(&m);
	am_strbuf_free(&b);
}

static void stop_agent(void)
{
	int st;

	kill(pids[AGENT_P], SIGTERM);
	cr_assert_eq(am_test_wait_exit(pids[AGENT_P], 15000, &st), 0, "no exit after SIGTERM");
	pids[AGENT_P] = -1;
}

/* Prometheus's own basic authentication (--web.config.file, bcrypt) in front of its
 * remote-write receiver: the agent's basic_auth (password from a file) is let in and its series
 * stored; a password rotated in its file is read again at a SIGHUP; a wrong password is
 * refused, counted as a permanent drop, and no password reaches the agent's log. */
Test(remote_write, prometheus_with_basic_auth_takes_the_agents_credentials, .init = setup,
     .fini = teardown, .timeout = 120)
{
	int port = am_http_free_port(), aport;
	char listen[64], tsdb[600], cfg[512], cfg_flag[600], web[512], web_flag[600], hash[128];
	char pwfile[512], url[128], auth[1024], hdr[256], alog[512];
	char *argv[] = {PROMETHEUS,
			"--web.enable-remote-write-receiver",
			tsdb,
			listen,
			cfg_flag,
			web_flag,
			"--log.level=warn",
			NULL};
	static const char yml[] = "global:\n  scrape_interval: 1m\n";
	struct am_strbuf text = {0}, logb = {0};
	double v = -1;
	long long deadline;

	if (access(PROMETHEUS, X_OK))
		cr_skip_test("skipped: needs Debian's prometheus (%s)", PROMETHEUS);
	cr_assert_gt(port, 0);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
	snprintf(tsdb, sizeof(tsdb), "--storage.tsdb.path=%s/tsdb", dir);
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
	snprintf(cfg_flag, sizeof(cfg_flag), "--config.file=%s", cfg);
	snprintf(web, sizeof(web), "%s/web.yml", dir);
	snprintf(web_flag, sizeof(web_flag), "--web.config.file=%s", web);
	snprintf(pwfile, sizeof(pwfile), "%s/password", dir);
	cr_assert_eq(am_test_write_file(cfg, yml, sizeof(yml) - 1), 0);
	bcrypt("rw-Pass-1", hash, sizeof(hash));
	am_strbuf_printf(&text, "basic_auth_users:\n  agent: '%s'\n", hash);
	cr_assert_eq(am_test_write_file(web, text.data, text.len), 0);
	cr_assert_eq(am_test_write_file(pwfile, "rw-Pass-1\n", 10), 0);
	pids[RECV_P] = am_test_spawn_log(argv, dir, "prometheus");
	basic_header("agent", "rw-Pass-1", hdr, sizeof(hdr));
	wait_status(port, "/-/ready", hdr, 200, "prometheus");
	cr_assert_eq(status_of(port, "/-/ready", NULL), 401, "the receiver checks nothing");
	query_auth = hdr;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/write", port);

	snprintf(auth, sizeof(auth), "  basic_auth:\n    username: agent\n    password_file: %s\n",
		 pwfile);
	aport = start_auth_agent(url, auth, "agent");
	deadline = am_test_now_ms() + 20000;
	while (!query_value(port, "node_memory_MemTotal_bytes{instance=\"" HOST "\"}", &v)) {
		cr_assert_lt(am_test_now_ms(), deadline, "nothing stored; agent log:\n%s",
			     am_test_log_of(dir, "agent", &logb));
		am_test_sleep_ms(200); /* polled: the loop ends on the receiver's answer */
	}
	cr_assert_eq(v, meminfo_bytes("MemTotal:"), "MemTotal %.17g", v);

	/* The password rotated on both sides, the file in place: refused until a SIGHUP reads
	 * the file again (Prometheus reads its web configuration at each request). */
	bcrypt("rw-Pass-2", hash, sizeof(hash));
	am_strbuf_reset(&text);
	am_strbuf_printf(&text, "basic_auth_users:\n  agent: '%s'\n", hash);
	cr_assert_eq(am_test_write_file(web, text.data, text.len), 0);
	wait_status(port, "/-/ready", hdr, 401, "prometheus");
	wait_refused(aport, "agent");
	cr_assert_eq(am_test_write_file(pwfile, "rw-Pass-2\n", 10), 0);
	cr_assert_eq(kill(pids[AGENT_P], SIGHUP), 0);
	snprintf(alog, sizeof(alog), "%s/agent.log", dir);
	cr_assert(am_test_wait_file_text(alog, "configuration reloaded", 15000, pids[AGENT_P]),
		  "no reload: %s", am_test_log_of(dir, "agent", &logb));
	wait_accepted(aport, "agent");
	stop_agent();

	/* The same user with another password: refused, counted, and never logged. */
	aport = start_auth_agent(
	    url, "  basic_auth:\n    username: agent\n    password: Wr0ng-pass\n", "agent-wrong");
	wait_refused(aport, "agent-wrong");
	sent_nothing(aport);
	stop_agent();
	am_test_log_of(dir, "agent-wrong", &logb);
	cr_assert_not_null(strstr(logb.data, "401"), "the refusal is not logged: %s", logb.data);
	cr_assert_null(strstr(logb.data, "Wr0ng-pass"), "the password is logged: %s", logb.data);
	am_test_log_of(dir, "agent", &logb);
	cr_assert_null(strstr(logb.data, "rw-Pass-"), "the password is logged: %s", logb.data);
	am_strbuf_free(&text);
	am_strbuf_free(&logb);
}

/* VictoriaMetrics behind vmauth, which routes a request by its bearer token: the agent's
 * authorization.credentials_file token gets the series stored; an unknown token is refused
 * (400, its answer quoting the token) and counted as a permanent drop, and the token is masked
 * in the receiver's answer the agent logs. */
Test(remote_write, vmauth_checks_the_agents_bearer_token, .init = setup, .fini = teardown,
     .timeout = 120)
{
	int vport = am_http_free_port(), port = am_http_free_port(), aport;
	char vlisten[64], data[600], alisten[64], acfg[512], acfg_flag[600], tok[512];
	char url[128], auth[1024];
	char *vargv[] = {VICTORIA,
			 vlisten,
			 data,
			 "-search.latencyOffset=0s",
			 "-search.disableCache",
			 "-loggerLevel=ERROR",
			 NULL};
	char *aargv[] = {VMAUTH, alisten, acfg_flag, "-loggerLevel=ERROR", NULL};
	struct am_strbuf text = {0}, logb = {0};
	long long deadline;
	double v = -1;
	int st;

	if (access(VICTORIA, X_OK) || access(VMAUTH, X_OK))
		cr_skip_test("skipped: needs Debian's victoria-metrics (%s, %s)", VICTORIA, VMAUTH);
	cr_assert(vport > 0 && port > 0 && vport != port);
	snprintf(vlisten, sizeof(vlisten), "-httpListenAddr=127.0.0.1:%d", vport);
	snprintf(data, sizeof(data), "-storageDataPath=%s/vm", dir);
	snprintf(alisten, sizeof(alisten), "-httpListenAddr=127.0.0.1:%d", port);
	snprintf(acfg, sizeof(acfg), "%s/vmauth.yml", dir);
	snprintf(acfg_flag, sizeof(acfg_flag), "-auth.config=%s", acfg);
	snprintf(tok, sizeof(tok), "%s/token", dir);
	am_strbuf_printf(&text,
			 "users:\n- bearer_token: \"tok-4f2a9\"\n"
			 "  url_prefix: \"http://127.0.0.1:%d\"\n",
			 vport);
	cr_assert_eq(am_test_write_file(acfg, text.data, text.len), 0);
	cr_assert_eq(am_test_write_file(tok, "tok-4f2a9\n", 10), 0);
	pids[RECV_P] = am_test_spawn_log(vargv, dir, "victoria-metrics");
	am_test_wait_server(vport, "/health", 20000, dir, "victoria-metrics");
	pids[RECV2_P] = am_test_spawn_log(aargv, dir, "vmauth");
	wait_status(port, "/api/v1/query?query=1", "Authorization: Bearer tok-4f2a9\r\n", 200,
		    "vmauth");
	/* vmauth 1.79 answers an unknown token with 400 and quotes it back. */
	st = status_of(port, "/api/v1/query?query=1", "Authorization: Bearer nope\r\n");
	cr_assert(st == 400 || st == 401, "vmauth checks nothing: %d", st);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/write", port);

	snprintf(auth, sizeof(auth), "  authorization:\n    credentials_file: %s\n", tok);
	start_auth_agent(url, auth, "agent");
	deadline = am_test_now_ms() + 20000;
	while (!query_value(vport, "node_memory_MemTotal_bytes{instance=\"" HOST "\"}", &v)) {
		cr_assert_lt(am_test_now_ms(), deadline, "nothing stored; agent log:\n%s",
			     am_test_log_of(dir, "agent", &logb));
		am_test_sleep_ms(200); /* polled: the loop ends on the receiver's answer */
	}
	cr_assert_eq(v, meminfo_bytes("MemTotal:"), "MemTotal %.17g", v);
	stop_agent();

	aport =
	    start_auth_agent(url, "  authorization:\n    credentials: tok-wrong\n", "agent-wrong");
	wait_refused(aport, "agent-wrong");
	sent_nothing(aport);
	stop_agent();
	am_test_log_of(dir, "agent-wrong", &logb);
	cr_assert_null(strstr(logb.data, "tok-wrong"), "the token is logged: %s", logb.data);
	cr_assert_not_null(strstr(logb.data, "HTTP 400"), "the refusal is not logged: %s",
			   logb.data);
	cr_assert_not_null(strstr(logb.data, "auth token \"****************\""),
			   "vmauth's answer is not quoted, masked: %s", logb.data);
	am_strbuf_free(&text);
	am_strbuf_free(&logb);
}
