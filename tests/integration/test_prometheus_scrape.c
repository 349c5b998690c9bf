/* The agent against the real thing: Debian's Prometheus server scrapes it (and node_exporter)
 * every second on loopback; its HTTP API must show the target up and a memory figure equal to
 * /proc/meminfo. Then the agent's cpu, memory, load, disk and network figures are compared with
 * node_exporter's for the same moment: the agent is read before and after node_exporter, so a
 * counter must fall between the two agent readings (within the tolerances stated below) and a
 * gauge must be close to one of them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "promtool_lint.h"
#include "http_get.h"
#include "testutil.h"

#define AGENT	      AM_TEST_BUILD_DIR "/antimetal-agent"
#define PROMETHEUS    "/usr/bin/prometheus"
#define NODE_EXPORTER "/usr/bin/prometheus-node-exporter"

/* Tolerances of the node_exporter comparison. */
#define CPU_REL_TOL   0.02  /* cpu seconds: 2% (iowait and idle may step back on NO_HZ) */
#define CPU_ABS_TOL   0.05  /* ... or 5 ticks of 100 Hz, for modes near zero */
#define MEM_REL_TOL   0.02  /* memory available: 2% */
#define LOAD_ABS_TOL  0.5   /* load1 */
#define BYTES_REL_TOL 0.01  /* disk and network byte counters: 1% */
#define BYTES_ABS_TOL 65536 /* ... or 64 KiB, for idle devices */

enum { AGENT_P, NODE_P, PROM_P, NPROCS };
static pid_t pids[NPROCS] = {-1, -1, -1};
static char *dir;

static void setup(void)
{
	dir = am_test_mkdtemp("promscrape");
	cr_assert_not_null(dir);
}

/* Runs after the body whatever happened in it: every server started is killed and reaped. */
static void teardown(void)
{
	am_test_reap_all(pids, NPROCS);
	am_test_rmtree(dir);
	free(dir);
}

static void get_ok(int port, const char *path, struct am_http_response *r)
{
	cr_assert_eq(am_http_get("127.0.0.1", port, path, 5000, r), 0, "GET :%d%s failed", port,
		     path);
	cr_assert_eq(r->status, 200, "GET :%d%s: status %d", port, path, r->status);
}

/* An instant query; true with the first result's value when the result is not empty. */
static bool prom_query(int port, const char *query, double *v)
{
	struct am_strbuf path = {0};
	struct am_http_response r;
	const char *p;
	bool ok = false;

	am_strbuf_puts(&path, "/api/v1/query?query=");
	am_http_urlencode(&path, query);
	if (!am_http_get("127.0.0.1", port, path.data, 5000, &r) && r.status == 200 &&
	    strstr(r.body.data, "\"status\":\"success\"")) {
		/* {"metric":{...},"value":[1700000000.123,"42"]} */
		p = strstr(r.body.data, "\"value\":[");
		if (p && (p = strstr(p, ",\"")) != NULL) {
			*v = strtod(p + 2, NULL);
			ok = true;
		}
	}
	am_http_response_free(&r);
	am_strbuf_free(&path);
	return ok;
}

/* In exposition TEXT, the sample of NAME whose labels include every NAME="VALUE" pair of
 * LABELS (NULL-terminated pairs; NULL for none). */
static bool expo_value(const char *text, const char *name, const char *const *labels, double *v)
{
	size_t n = strlen(name);
	const char *line;

	for (line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *eol = strchr(line, '\n'), *rest = line + n, *close;
		size_t i;
		bool match = true;

		if (*line == '#' || strncmp(line, name, n) || (*rest != '{' && *rest != ' '))
			continue;
		if (!eol)
			eol = line + strlen(line);
		close = *rest == '{' ? memchr(rest, '}', (size_t)(eol - rest)) : rest;
		if (!close)
			continue;
		for (i = 0; labels && labels[i]; i += 2) {
			char needle[256];
			size_t len = (size_t)snprintf(needle, sizeof(needle), "%s=\"%s\"",
						      labels[i], labels[i + 1]);
			const char *p = rest;

			match = false;
			while ((p = memmem(p, (size_t)(close - p), needle, len)) != NULL) {
				if ((p[-1] == '{' || p[-1] == ',') &&
				    (p[len] == ',' || p[len] == '}')) {
					match = true;
					break;
				}
				p++;
			}
			if (!match)
				break;
		}
		if (match) {
			*v = strtod(close + (*close == '}'), NULL);
			return true;
		}
	}
	return false;
}

/* Into A2, the agent's exposition once it has collected again after A1 (its cpu collector's
 * run count moved on): the next collection itself, not a sleep as long as the interval. */
static void next_collection(int port, const struct am_http_response *a1,
			    struct am_http_response *a2)
{
	static const char *const cpu[] = {"collector", "cpu", NULL};
	static const char *const runs = "antimetal_agent_collector_runs_total";
	long long deadline = am_test_now_ms() + 10000;
	double r1, r2 = 0;

	cr_assert(expo_value(a1->body.data, runs, cpu, &r1), "no %s{collector=\"cpu\"}", runs);
	for (;;) {
		cr_assert_eq(am_http_get("127.0.0.1", port, "/metrics", 5000, a2), 0);
		if (a2->status == 200 && expo_value(a2->body.data, runs, cpu, &r2) && r2 > r1)
			return;
		am_http_response_free(a2);
		cr_assert_lt(am_test_now_ms(), deadline, "no collection after run %g in 10 s", r1);
		am_test_sleep_ms(100); /* re-read the counter: the loop ends on its value */
	}
}

/* Values of label LABEL over every sample of NAME in TEXT, into OUT (at most MAX). */
static int expo_label_values(const char *text, const char *name, const char *label, char out[][64],
			     int max)
{
	char needle[128];
	const char *p = text;
	int count = 0;

	snprintf(needle, sizeof(needle), "\n%s{", name);
	while (count < max && (p = strstr(p, needle)) != NULL) {
		const char *eol = strchr(p + 1, '\n'), *l;
		char key[80];

		snprintf(key, sizeof(key), "%s=\"", label);
		l = strstr(p, key);
		p++;
		if (!l || (eol && l > eol))
			continue;
		l += strlen(key);
		snprintf(out[count], 64, "%.*s", (int)strcspn(l, "\""), l);
		count++;
	}
	return count;
}

static double meminfo_kib(const char *field)
{
	struct am_strbuf b = {0};
	const char *p;
	double v = -1;

	cr_assert_eq(am_test_read_file("/proc/meminfo", &b), 0);
	p = strstr(b.data, field);
	if (p)
		v = strtod(p + strlen(field) + 1, NULL);
	am_strbuf_free(&b);
	return v;
}

/* Readings: the agent before node_exporter, node_exporter, the agent after. */
struct moment {
	struct am_http_response a1, n, a2;
};

/* A counter: node's value must lie between the agent's two readings, widened by TOL. */
static void bracket(const struct moment *m, const char *aname, const char *nname,
		    const char *const *labels, double rel, double abs_tol, int *compared)
{
	double a1, n, a2, lo, hi, tol;

	cr_assert(expo_value(m->n.body.data, nname, labels, &n), "node_exporter has no %s %s=%s",
		  nname, labels ? labels[0] : "", labels ? labels[1] : "");
	cr_assert(expo_value(m->a1.body.data, aname, labels, &a1), "agent has no %s %s=%s", aname,
		  labels ? labels[0] : "", labels ? labels[1] : "");
	cr_assert(expo_value(m->a2.body.data, aname, labels, &a2));
	tol = fmax(rel * fabs(n), abs_tol);
	lo = fmin(a1, a2) - tol;
	hi = fmax(a1, a2) + tol;
	cr_assert(n >= lo && n <= hi,
		  "%s{%s=\"%s\"%s%s%s}: node_exporter %.17g outside the agent's "
		  "[%.17g, %.17g] widened by %g",
		  aname, labels ? labels[0] : "", labels ? labels[1] : "",
		  labels && labels[2] ? "," : "", labels && labels[2] ? labels[2] : "",
		  labels && labels[2] ? "=" : "", n, a1, a2, tol);
	(*compared)++;
}

/* A gauge: close to either agent reading. */
static void near(const struct moment *m, const char *aname, const char *nname, double rel,
		 double abs_tol)
{
	double a1, n, a2, tol;

	cr_assert(expo_value(m->n.body.data, nname, NULL, &n), "node_exporter has no %s", nname);
	cr_assert(expo_value(m->a1.body.data, aname, NULL, &a1), "agent has no %s", aname);
	cr_assert(expo_value(m->a2.body.data, aname, NULL, &a2));
	tol = fmax(rel * fabs(n), abs_tol);
	cr_assert(fabs(a1 - n) <= tol || fabs(a2 - n) <= tol,
		  "%s: node_exporter %.17g, agent %.17g / %.17g, tolerance %g", aname, n, a1, a2,
		  tol);
}

Test(prometheus, scrapes_the_agent_and_agrees_with_node_exporter, .init = setup, .fini = teardown,
     .timeout = 120)
{
	int aport = am_http_free_port(), nport = am_http_free_port(), pport = am_http_free_port();
	char cfg[512], pcfg[512], tsdb[512], listen_a[64], listen_n[64], listen_p[64];
	char pcfg_flag[600], tsdb_flag[600];
	char *agent_argv[] = {AGENT,
			      "run",
			      "--config",
			      cfg,
			      "--listen",
			      listen_a,
			      "--interval",
			      "1s",
			      "--no-execsnoop",
			      "--no-profiler",
			      NULL};
	char *node_argv[] = {NODE_EXPORTER,
			     listen_n,
			     "--collector.disable-defaults",
			     "--collector.cpu",
			     "--collector.meminfo",
			     "--collector.loadavg",
			     "--collector.diskstats",
			     "--collector.netdev",
			     NULL};
	char *prom_argv[] = {PROMETHEUS, pcfg_flag, tsdb_flag, listen_p, "--log.level=warn", NULL};
	struct am_strbuf text = {0}, logb = {0};
	struct moment m;
	char devs[32][64];
	int ndev, i, compared = 0, cpus, ndisks;
	long long deadline;
	double v, up = 0;

	if (access(PROMETHEUS, X_OK) || access(NODE_EXPORTER, X_OK))
		cr_skip_test("skipped: needs Debian's prometheus and prometheus-node-exporter");
	/* Released ports can come back: draw until the three differ. */
	for (i = 0; i < 20 && (nport == aport || pport == aport || pport == nport); i++) {
		nport = am_http_free_port();
		pport = am_http_free_port();
	}
	cr_assert(aport > 0 && nport > 0 && pport > 0);
	cr_assert(aport != nport && aport != pport && nport != pport);
	snprintf(cfg, sizeof(cfg), "%s/agent.yaml", dir);
	snprintf(pcfg, sizeof(pcfg), "%s/prometheus.yml", dir);
	snprintf(tsdb, sizeof(tsdb), "%s/tsdb", dir);
	snprintf(listen_a, sizeof(listen_a), "127.0.0.1:%d", aport);
	snprintf(listen_n, sizeof(listen_n), "--web.listen-address=127.0.0.1:%d", nport);
	snprintf(listen_p, sizeof(listen_p), "--web.listen-address=127.0.0.1:%d", pport);
	snprintf(pcfg_flag, sizeof(pcfg_flag), "--config.file=%s", pcfg);
	snprintf(tsdb_flag, sizeof(tsdb_flag), "--storage.tsdb.path=%s", tsdb);
	am_strbuf_printf(&text, "hostname: scrape-test\n");
	cr_assert_eq(am_test_write_file(cfg, text.data, text.len), 0);
	am_strbuf_reset(&text);
	am_strbuf_printf(&text,
			 "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
			 "  evaluation_interval: 1s\n"
			 "scrape_configs:\n"
			 "  - job_name: antimetal\n    static_configs:\n"
			 "      - targets: ['127.0.0.1:%d']\n"
			 "  - job_name: node\n    static_configs:\n"
			 "      - targets: ['127.0.0.1:%d']\n",
			 aport, nport);
	cr_assert_eq(am_test_write_file(pcfg, text.data, text.len), 0);

	pids[AGENT_P] = am_test_spawn_log(agent_argv, dir, "agent");
	pids[NODE_P] = am_test_spawn_log(node_argv, dir, "node_exporter");
	am_test_wait_server(aport, "/healthz", 15000, dir, "agent");
	am_test_wait_server(nport, "/metrics", 15000, dir, "node_exporter");
	pids[PROM_P] = am_test_spawn_log(prom_argv, dir, "prometheus");
	am_test_wait_server(pport, "/-/ready", 30000, dir, "prometheus");

	/* 1. Prometheus scraped the agent: the target is up. */
	deadline = am_test_now_ms() + 30000;
	while (am_test_now_ms() < deadline &&
	       !(prom_query(pport, "up{job=\"antimetal\"}", &up) && up == 1))
		am_test_sleep_ms(250); /* until Prometheus has scraped it: polled, not guessed */
	cr_assert_eq(up, 1, "the agent's target never came up; prometheus log:\n%s",
		     am_test_log_of(dir, "prometheus", &logb));
	deadline = am_test_now_ms() + 30000;
	up = 0;
	while (am_test_now_ms() < deadline &&
	       !(prom_query(pport, "up{job=\"node\"}", &up) && up == 1))
		am_test_sleep_ms(250); /* until Prometheus has scraped it: polled, not guessed */
	cr_assert_eq(up, 1, "node_exporter's target never came up");
	cr_assert(prom_query(pport, "scrape_samples_scraped{job=\"antimetal\"}", &v));
	cr_assert_gt(v, 100, "only %g samples scraped", v);

	/* 2. A memory figure, through Prometheus' API, equals /proc/meminfo. */
	cr_assert(prom_query(pport, "node_memory_MemTotal_bytes{job=\"antimetal\"}", &v));
	cr_assert_eq(v, meminfo_kib("MemTotal:") * 1024, "MemTotal %g != %g", v,
		     meminfo_kib("MemTotal:") * 1024);
	cr_assert(prom_query(pport, "node_memory_MemAvailable_bytes{job=\"antimetal\"}", &v));
	cr_assert_leq(fabs(v - meminfo_kib("MemAvailable:") * 1024),
		      MEM_REL_TOL * meminfo_kib("MemAvailable:") * 1024,
		      "MemAvailable %g vs /proc/meminfo %g", v,
		      meminfo_kib("MemAvailable:") * 1024);
	/* And the same figure as node_exporter's, as Prometheus stored them. */
	cr_assert(prom_query(pport,
			     "node_memory_MemTotal_bytes{job=\"antimetal\"} - on() "
			     "node_memory_MemTotal_bytes{job=\"node\"}",
			     &v));
	cr_assert_eq(v, 0);

	/* 3. The same moment, read directly: agent, node_exporter, agent a collection later. */
	get_ok(aport, "/metrics", &m.a1);
	get_ok(nport, "/metrics", &m.n);
	next_collection(aport, &m.a1, &m.a2);

	cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	for (i = 0; i < cpus; i++) {
		static const char *const modes[] = {"user",   "nice", "system",	 "idle",
						    "iowait", "irq",  "softirq", "steal"};
		char cpu[16];
		size_t k;

		snprintf(cpu, sizeof(cpu), "%d", i);
		for (k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
			const char *labels[] = {"cpu", cpu, "mode", modes[k], NULL};

			bracket(&m, "node_cpu_seconds_total", "node_cpu_seconds_total", labels,
				CPU_REL_TOL, CPU_ABS_TOL, &compared);
		}
	}
	near(&m, "node_memory_MemAvailable_bytes", "node_memory_MemAvailable_bytes", MEM_REL_TOL,
	     0);
	near(&m, "node_memory_MemTotal_bytes", "node_memory_MemTotal_bytes", 0, 0);
	near(&m, "node_load1", "node_load1", 0, LOAD_ABS_TOL);
	near(&m, "node_load5", "node_load5", 0, LOAD_ABS_TOL);

	/* Devices both report: the agent also leaves out zram, which node_exporter 1.5 keeps. */
	ndev = expo_label_values(m.n.body.data, "node_disk_read_bytes_total", "device", devs, 32);
	ndisks = 0;
	for (i = 0; i < ndev; i++) {
		const char *labels[] = {"device", devs[i], NULL};

		if (!expo_value(m.a1.body.data, "node_disk_read_bytes_total", labels, &v)) {
			cr_log_info("disk %s: not reported by the agent", devs[i]);
			continue;
		}
		ndisks++;
		bracket(&m, "node_disk_read_bytes_total", "node_disk_read_bytes_total", labels,
			BYTES_REL_TOL, BYTES_ABS_TOL, &compared);
		bracket(&m, "node_disk_written_bytes_total", "node_disk_written_bytes_total",
			labels, BYTES_REL_TOL, BYTES_ABS_TOL, &compared);
	}
	cr_assert_gt(ndisks, 0, "no disk reported by both");
	ndev = expo_label_values(m.n.body.data, "node_network_receive_bytes_total", "device", devs,
				 32);
	cr_assert_gt(ndev, 0, "node_exporter reports no network device");
	for (i = 0; i < ndev; i++) {
		const char *labels[] = {"device", devs[i], NULL};

		bracket(&m, "node_network_receive_bytes_total", "node_network_receive_bytes_total",
			labels, BYTES_REL_TOL, BYTES_ABS_TOL, &compared);
		bracket(&m, "node_network_transmit_bytes_total",
			"node_network_transmit_bytes_total", labels, BYTES_REL_TOL, BYTES_ABS_TOL,
			&compared);
	}
	cr_log_info("compared %d counters with node_exporter's", compared);
	am_http_response_free(&m.a1);
	am_http_response_free(&m.n);
	am_http_response_free(&m.a2);
	am_strbuf_free(&text);
	am_strbuf_free(&logb);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every series (name and labels) of exposition TEXT appears once: Prometheus drops the
 * duplicates of a scrape. Returns the first duplicate or NULL; TEXT is modified. */
static const char *duplicate_series(char *text)
{
	char **keys = NULL, *line, *save = NULL;
	const char *dup = NULL;
	size_t n = 0, i;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' ');

		if (*line == '#' || !sp)
			continue;
		*sp = '\0';
		keys = realloc(keys, (n + 1) * sizeof(*keys));
		cr_assert_not_null(keys);
		keys[n++] = line;
	}
	qsort(keys, n, sizeof(*keys), by_str);
	for (i = 1; i < n && !dup; i++)
		if (!strcmp(keys[i - 1], keys[i]))
			dup = keys[i];
	free(keys);
	return dup;
}

Test(prometheus, promtool_finds_nothing_to_fix, .init = setup, .fini = teardown, .timeout = 60)
{
	int aport = am_http_free_port();
	char listen_a[64], file[512], cmd[1200];
	char *agent_argv[] = {
	    AGENT,	  "run", "--listen",	   listen_a,	    "--config", "/dev/null",
	    "--interval", "1s",	 "--no-execsnoop", "--no-profiler", NULL};
	char *check[] = {"/bin/sh", "-c", cmd, NULL};
	struct am_strbuf out = {0}, err = {0};
	struct am_http_response r;
	const char *dup;
	long long deadline;
	int status;

	if (access("/usr/bin/promtool", X_OK))
		cr_skip_test("skipped: needs promtool (Debian's prometheus package)");
	snprintf(listen_a, sizeof(listen_a), "127.0.0.1:%d", aport);
	pids[AGENT_P] = am_test_spawn_log(agent_argv, dir, "agent");
	am_test_wait_server(aport, "/healthz", 15000, dir, "agent");
	/* Two collections, so rate metrics (from deltas) are in the exposition too. */
	deadline = am_test_now_ms() + 10000;
	for (;;) {
		get_ok(aport, "/metrics", &r);
		if (strstr(r.body.data, "_per_second") || am_test_now_ms() > deadline)
			break;
		am_http_response_free(&r);
		am_test_sleep_ms(200); /* until a second collection: polled, not guessed */
	}
	snprintf(file, sizeof(file), "%s/metrics.txt", dir);
	cr_assert_eq(am_test_write_file(file, r.body.data, r.body.len), 0);
	cr_assert_not_null(strstr(r.body.data, "_per_second"), "no rate metric after 10 s");
	am_http_response_free(&r);
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < '%s'", file);
	status = am_test_run(check, &out, &err);
	cr_assert(WIFEXITED(status), "promtool: %s", err.data ? err.data : "");
	cr_assert(lint_only_node_exporter_names(out.data ? out.data : "") &&
		      lint_only_node_exporter_names(err.data ? err.data : ""),
		  "promtool: %s%s", out.data ? out.data : "", err.data ? err.data : "");
	am_strbuf_reset(&out);
	cr_assert_eq(am_test_read_file(file, &out), 0);
	dup = duplicate_series(out.data);
	cr_assert_null(dup, "series exposed twice: %s", dup);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* Queries of node-mixin's alerts and recording rules and of Grafana's "Node Exporter Full"
 * dashboard, written after their published expressions (the files themselves cannot be
 * fetched here), with 10 s windows instead of minutes so a short test has the samples; the
 * job is called "node" as those expect. The mixin's mdadm, bonding and systemd alerts are left
 * out: the agent has no such collectors (docs/collectors.md). */
static const char *const mixin_queries[] = {
    /* node-mixin alerts */
    "node_filesystem_avail_bytes{job=\"node\",fstype!=\"\"} / "
    "node_filesystem_size_bytes{job=\"node\",fstype!=\"\"} * 100",
    "predict_linear(node_filesystem_avail_bytes{job=\"node\",fstype!=\"\"}[10s], 4*60*60)",
    "node_filesystem_readonly{job=\"node\",fstype!=\"\"}",
    "node_filesystem_files_free{job=\"node\",fstype!=\"\"} / "
    "node_filesystem_files{job=\"node\",fstype!=\"\"} * 100",
    "rate(node_network_receive_errs_total{job=\"node\"}[10s]) / "
    "rate(node_network_receive_packets_total{job=\"node\"}[10s])",
    "rate(node_network_transmit_errs_total{job=\"node\"}[10s])",
    "(node_nf_conntrack_entries{job=\"node\"} / node_nf_conntrack_entries_limit) <= 1",
    "node_textfile_scrape_error{job=\"node\"}",
    "node_timex_offset_seconds{job=\"node\"}",
    "min_over_time(node_timex_sync_status{job=\"node\"}[10s])",
    "node_timex_maxerror_seconds{job=\"node\"}",
    "node_filefd_allocated{job=\"node\"} * 100 / node_filefd_maximum{job=\"node\"}",
    "sum without(mode) (avg without (cpu) "
    "(rate(node_cpu_seconds_total{job=\"node\", mode!=\"idle\"}[10s]))) * 100",
    "node_load1{job=\"node\"} / count without (cpu, mode) "
    "(node_cpu_seconds_total{job=\"node\", mode=\"idle\"})",
    "rate(node_vmstat_pgmajfault{job=\"node\"}[10s])",
    "100 - (node_memory_MemAvailable_bytes{job=\"node\"} / "
    "node_memory_MemTotal_bytes{job=\"node\"} * 100)",
    "rate(node_disk_io_time_weighted_seconds_total{job=\"node\"}[10s])",
    /* node-mixin recording rules */
    "count without (cpu, mode) (node_cpu_seconds_total{job=\"node\",mode=\"idle\"})",
    "1 - avg without (cpu) (sum without (mode) "
    "(rate(node_cpu_seconds_total{job=\"node\", mode=~\"idle|iowait|steal\"}[10s])))",
    "node_load1{job=\"node\"}",
    "1 - ((node_memory_MemAvailable_bytes{job=\"node\"} or (node_memory_Buffers_bytes"
    "{job=\"node\"} + node_memory_Cached_bytes{job=\"node\"} + node_memory_MemFree_bytes"
    "{job=\"node\"} + node_memory_Slab_bytes{job=\"node\"})) / "
    "node_memory_MemTotal_bytes{job=\"node\"})",
    "rate(node_disk_io_time_seconds_total{job=\"node\", device!=\"\"}[10s])",
    "sum without (device) (rate(node_network_receive_bytes_total{job=\"node\", "
    "device!=\"lo\"}[10s]))",
    "sum without (device) (rate(node_network_transmit_drop_total{job=\"node\", "
    "device!=\"lo\"}[10s]))",
    /* Node Exporter Full */
    "node_uname_info{job=\"node\"}",
    "node_time_seconds{job=\"node\"} - node_boot_time_seconds{job=\"node\"}",
    "count(count(node_cpu_seconds_total{job=\"node\"}) by (cpu))",
    "node_memory_SwapTotal_bytes{job=\"node\"}",
    "node_filesystem_size_bytes{job=\"node\",mountpoint=\"/\",fstype!=\"rootfs\"}",
    "rate(node_network_receive_bytes_total{job=\"node\"}[10s])*8",
    "rate(node_disk_read_bytes_total{job=\"node\"}[10s])",
    "rate(node_disk_reads_completed_total{job=\"node\"}[10s])",
    "node_sockstat_TCP_alloc{job=\"node\"}",
    "node_netstat_Tcp_CurrEstab{job=\"node\"}",
    "rate(node_netstat_Tcp_RetransSegs{job=\"node\"}[10s])",
    "rate(node_context_switches_total{job=\"node\"}[10s])",
    "rate(node_intr_total{job=\"node\"}[10s])",
    "node_procs_running{job=\"node\"}",
    "node_entropy_available_bits{job=\"node\"}",
    "rate(node_pressure_cpu_waiting_seconds_total{job=\"node\"}[10s])",
    "rate(node_softnet_dropped_total{job=\"node\"}[10s])",
    "node_os_info{job=\"node\"}",
    "node_network_up{job=\"node\"}",
    "node_arp_entries{job=\"node\"}",
    "rate(node_forks_total{job=\"node\"}[10s])",
    "node_memory_Hugepagesize_bytes{job=\"node\"}",
    "rate(node_vmstat_pgfault{job=\"node\"}[10s])",
    "node_scrape_collector_success{job=\"node\"}",
    "process_resident_memory_bytes{job=\"node\"}",
};

Test(prometheus, node_mixin_and_dashboard_queries_return_data, .init = setup, .fini = teardown,
     .timeout = 120)
{
	int aport = am_http_free_port(), pport = am_http_free_port();
	char pcfg[512], tsdb[512], listen_a[64], listen_p[64], pcfg_flag[600], tsdb_flag[600];
	char *agent_argv[] = {AGENT,	"run",	      "--config", "/dev/null",	    "--listen",
			      listen_a, "--interval", "1s",	  "--no-execsnoop", "--no-profiler",
			      NULL};
	char *prom_argv[] = {PROMETHEUS, pcfg_flag, tsdb_flag, listen_p, "--log.level=warn", NULL};
	struct am_strbuf text = {0}, empty = {0};
	long long deadline;
	double v, up = 0;
	size_t i, ok = 0, n = sizeof(mixin_queries) / sizeof(mixin_queries[0]);

	if (access(PROMETHEUS, X_OK))
		cr_skip_test("skipped: needs Debian's prometheus");
	for (i = 0; i < 20 && pport == aport; i++)
		pport = am_http_free_port();
	snprintf(pcfg, sizeof(pcfg), "%s/prometheus.yml", dir);
	snprintf(tsdb, sizeof(tsdb), "%s/tsdb", dir);
	snprintf(listen_a, sizeof(listen_a), "127.0.0.1:%d", aport);
	snprintf(listen_p, sizeof(listen_p), "--web.listen-address=127.0.0.1:%d", pport);
	snprintf(pcfg_flag, sizeof(pcfg_flag), "--config.file=%s", pcfg);
	snprintf(tsdb_flag, sizeof(tsdb_flag), "--storage.tsdb.path=%s", tsdb);
	am_strbuf_printf(&text,
			 "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
			 "scrape_configs:\n"
			 "  - job_name: node\n    static_configs:\n"
			 "      - targets: ['127.0.0.1:%d']\n",
			 aport);
	cr_assert_eq(am_test_write_file(pcfg, text.data, text.len), 0);
	pids[AGENT_P] = am_test_spawn_log(agent_argv, dir, "agent");
	am_test_wait_server(aport, "/healthz", 15000, dir, "agent");
	pids[PROM_P] = am_test_spawn_log(prom_argv, dir, "prometheus");
	am_test_wait_server(pport, "/-/ready", 30000, dir, "prometheus");
	deadline = am_test_now_ms() + 30000;
	while (am_test_now_ms() < deadline && !(prom_query(pport, "up{job=\"node\"}", &up) && up))
		am_test_sleep_ms(250);
	cr_assert_eq(up, 1, "the agent's target never came up");
	/* Enough scrapes for 10 s windows to hold several samples. */
	am_test_sleep_ms(6000);
	for (i = 0; i < n; i++) {
		if (prom_query(pport, mixin_queries[i], &v))
			ok++;
		else
			am_strbuf_printf(&empty, "  no data: %s\n", mixin_queries[i]);
	}
	fprintf(stderr, "node-mixin / dashboard queries with data: %zu of %zu\n%s", ok, n,
		empty.data ? empty.data : "");
	cr_assert_eq(ok, n, "%zu of %zu queries returned no data:\n%s", n - ok, n,
		     empty.data ? empty.data : "");
	am_strbuf_free(&empty);
	am_strbuf_free(&text);
}
