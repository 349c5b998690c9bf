#include "agent/agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent/collector_runner.h"
#include "agent/exec_source.h"
#include "agent/kmsg_source.h"
#include "agent/otlp_logs_source.h"
#include "agent/profile_source.h"
#include "agent/push.h"
#include "agent/remote_write_source.h"
#include "agent/oom_source.h"
#include "agent/otel_env.h"
#include "agent/otlp_metrics_source.h"
#include "agent/web_config.h"
#include "export/jsonl.h"
#include "export/metrics_json.h"
#include "export/prom_text.h"
#include "export/prometheus.h"
#include "symbolize/usym.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/output_file.h"
#include "util/loop.h"
#include "util/signals.h"

#ifndef AM_VERSION
#define AM_VERSION "0.1.0"
#endif

struct agent;

/* What a collector's timer callback needs: the agent and which runner entry. */
struct timer_ctx {
	struct agent *a;
	size_t index;
};

struct agent {
	const struct am_agent_options *opts;
	struct am_config cfg;
	char host[256];
	struct am_loop loop;
	struct am_signals sig;
	struct am_loop_source *sig_src;

	struct am_runner runner;
	struct timer_ctx *tctx;
	struct am_loop_source *stats_timer;

	struct am_prom_server http;
	struct am_loop_source *http_src;

	struct am_jsonl jsonl;
	bool jsonl_on;
	struct am_strbuf line;

	struct am_exec_source exec;
	struct am_oom_source oom;
	struct am_profile_source prof;
	/* The push exporters' senders (OTLP, remote_write), flushed at shutdown. */
	struct am_push push;
	/* OTLP logs: execs (exits) and the kernel log, batched onto their sender in PUSH. */
	struct am_otlp_logs_source logs;
	struct am_kmsg_source kmsg;
	struct am_rw_source rw; /* Prometheus remote_write, when remote_write.url is set */
	struct am_otlp_metrics_source otlp_metrics;

	uint64_t start_ns;
	uint64_t reloads_ok, reloads_failed;
};

/* Outputs that can never work are configuration errors (exit 2, or a refused reload), not a
 * source reported up that fails every window: a profile directory that is a symbolic link or
 * not a directory, a JSON lines path that is a link or not a regular file. Absent is fine:
 * both are created. */
static int check_outputs(const struct am_config *c, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	if (c->profiler_enabled) {
		rc = am_output_dir_check(c->profiler_dir);
		if (rc && rc != -ENOENT) {
			snprintf(err, errlen, "profiler.output_dir: %s: %s", c->profiler_dir,
				 am_output_strerror(-rc));
			return -EINVAL;
		}
	}
	if (c->jsonl_path[0] && strcmp(c->jsonl_path, "-") && !lstat(c->jsonl_path, &st) &&
	    !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "jsonl.path: %s: %s", c->jsonl_path,
			 S_ISLNK(st.st_mode) ? am_output_strerror(AM_ELINKED)
					     : "not a regular file (use - for stdout)");
		return -EINVAL;
	}
	return 0;
}

int am_agent_load_config(const struct am_agent_options *o, struct am_config *out, char *err,
			 size_t errlen)
{
	const char *path = o->config_path ? o->config_path : AM_CONFIG_DEFAULT_PATH;
	struct am_config c;
	size_t i;
	int rc;

	am_config_defaults(&c);
	/* The OTEL_* variables sit between the defaults and the file (agent/otel_env.h). */
	rc = am_otel_env_apply(&c, o->envp ? o->envp : environ, err, errlen);
	if (rc)
		return rc;
	rc = am_config_load_file(&c, path, err, errlen);
	/* Only the default file may be absent (C untouched then): a path someone typed must
	 * exist. */
	if (rc == -ENOENT && !o->config_path)
		rc = 0;
	if (rc)
		return rc;
	for (i = 0; i < o->noverrides; i++) {
		const char *kv = o->overrides[i], *eq = strchr(kv, '=');
		char key[128], msg[512];

		if (!eq || (size_t)(eq - kv) >= sizeof(key)) {
			snprintf(err, errlen, "bad override '%s': expected key=value", kv);
			return -EINVAL;
		}
		memcpy(key, kv, (size_t)(eq - kv));
		key[eq - kv] = '\0';
		if (am_config_set(&c, key, eq + 1, msg, sizeof(msg))) {
			snprintf(err, errlen, "command line: %s", msg);
			return -EINVAL;
		}
	}
	am_config_resolve_roots(&c);
	rc = check_outputs(&c, err, errlen);
	if (rc)
		return rc;
	if (c.rw_url[0]) {
		struct am_rw_settings rw;

		rc = am_rw_settings_build(&c, "check", &rw, err, errlen);
		am_rw_settings_free(&rw);
		if (rc)
			return rc;
	}
	if (c.http_enabled && c.http_web_config_file[0]) {
		struct am_prom_security *sec;

		rc = am_web_config_load(c.http_web_config_file, &sec, err, errlen);
		am_prom_security_free(sec);
		if (rc)
			return rc;
	}
	*out = c;
	return 0;
}

static void resolve_host(const struct am_config *cfg, char *host, size_t len)
{
	struct utsname u;

	if (cfg->hostname[0])
		snprintf(host, len, "%s", cfg->hostname);
	else if (!uname(&u))
		snprintf(host, len, "%s", u.nodename);
	else
		snprintf(host, len, "unknown");
}

/* ---- JSON lines ---- */

static void write_line(struct agent *a)
{
	if (a->line.oom) {
		am_err("jsonl: out of memory building a line; dropped");
		a->jsonl.errors++;
	} else {
		am_jsonl_write(&a->jsonl, a->line.data, a->line.len);
	}
	am_strbuf_reset(&a->line);
	a->line.oom = 0;
}

/* A collector with thousands of samples (cgroups on a busy node) would make one line of
 * megabytes, more than a rotated file may hold: its samples are split over lines of about this
 * size, each a whole line with "part" (from 1) and "last" after the array. */
#define METRIC_LINE_BYTES (32 * 1024)

/* One line of E's samples from index FROM; returns the index the next part starts at. */
static size_t metric_line(struct am_strbuf *b, const char *host, const struct am_runner_entry *e,
			  size_t from, unsigned part)
{
	size_t next;

	am_jsonl_begin(b, "metric", host, e->latest.timestamp_ns);
	am_json_kv_str(b, "collector", e->col->name, false);
	am_json_key(b, "metrics", false);
	next = am_metrics_json_array_from(&e->latest, from, METRIC_LINE_BYTES, b);
	if (from || next < e->latest.n) {
		am_json_kv_u64(b, "part", part, false);
		am_json_kv_bool(b, "last", next >= e->latest.n, false);
	}
	am_jsonl_end(b);
	return next;
}

/* A stats line up to its last field: the caller may add more, then ends it. */
static void stats_fields(struct am_strbuf *b, const char *host, const struct am_runner *r,
			 uint64_t scrapes, uint64_t jsonl_errors)
{
	size_t i;

	am_jsonl_begin(b, "stats", host, am_clock_ns(CLOCK_REALTIME));
	am_json_key(b, "collectors", false);
	am_strbuf_putc(b, '[');
	for (i = 0; i < r->n; i++) {
		const struct am_runner_entry *e = &r->entries[i];

		if (i)
			am_strbuf_putc(b, ',');
		am_strbuf_putc(b, '{');
		am_json_kv_str(b, "name", e->col->name, true);
		am_json_kv_bool(b, "running", !e->init_error, false);
		if (e->init_error)
			am_json_kv_str(b, "init_error", strerror(-e->init_error), false);
		am_json_kv_u64(b, "runs", e->runs, false);
		am_json_kv_u64(b, "errors", e->errors, false);
		if (e->last_error)
			am_json_kv_str(b, "last_error", strerror(-e->last_error), false);
		am_json_kv_u64(b, "last_success_ns", e->last_success_ns, false);
		am_json_kv_double(b, "duration_seconds", e->last_duration_s, false);
		am_strbuf_putc(b, '}');
	}
	am_strbuf_putc(b, ']');
	am_json_kv_u64(b, "scrapes", scrapes, false);
	am_json_kv_u64(b, "jsonl_write_errors", jsonl_errors, false);
}

/* ---- /metrics and /healthz ---- */

static const struct am_metric_desc http_refused = {
    .name = "antimetal_agent_http_refused_total",
    .help = "HTTP requests refused since the listener started, by reason.",
    .type = AM_METRIC_COUNTER,
    .labels = {"reason"},
};

static const struct am_metric_desc config_reloads = {
    .name = "antimetal_agent_config_reloads_total",
    .help = "SIGHUP reloads, by result (a failed reload keeps the running config).",
    .type = AM_METRIC_COUNTER,
    .labels = {"result"},
};

static void agent_metrics(struct agent *a, struct am_metric_set *out)
{
	am_runner_health(&a->runner, out);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_agent_start_time_seconds",
				     .help = "Unix time the agent started.",
				     .type = AM_METRIC_GAUGE),
		      (double)a->start_ns / 1e9, NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_agent_build_info",
				     .help = "The agent's version, as a label.",
				     .type = AM_METRIC_GAUGE, .labels = {"version"}),
		      1, "version", AM_VERSION, NULL);
	am_metric_add(out, &config_reloads, (double)a->reloads_ok, "result", "success", NULL);
	am_metric_add(out, &config_reloads, (double)a->reloads_failed, "result", "failure", NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_agent_scrapes_total",
				     .help = "/metrics requests answered.",
				     .type = AM_METRIC_COUNTER),
		      (double)a->http.scrapes, NULL);
	if (a->http.sec) {
		am_metric_add(out, &http_refused, (double)a->http.sec->auth.denied, "reason",
			      "credentials", NULL);
		am_metric_add(out, &http_refused, (double)a->http.sec->auth.throttled, "reason",
			      "auth_budget", NULL);
		am_metric_add(out, &http_refused,
			      (double)(a->http.refused - a->http.sec->auth.denied -
				       a->http.sec->auth.throttled),
			      "reason", "client_certificate", NULL);
	}
	if (a->cfg.execsnoop_enabled)
		am_exec_source_metrics(&a->exec, out);
	if (a->cfg.profiler_enabled)
		am_profile_source_metrics(&a->prof, out);
	if (a->cfg.oom_enabled)
		am_oom_source_metrics(&a->oom, out);
	am_push_metrics(&a->push, out);
	am_otlp_logs_source_metrics(&a->logs, out);
	am_kmsg_source_metrics(&a->kmsg, out);
	am_rw_source_metrics(&a->rw, out);
	if (a->jsonl_on) {
		am_metric_add(
		    out,
		    AM_METRIC_DESC(.name = "antimetal_agent_jsonl_lines_total",
				   .help = "JSON lines written since the output was (re)opened.",
				   .type = AM_METRIC_COUNTER),
		    (double)a->jsonl.lines, NULL);
		am_metric_add(
		    out,
		    AM_METRIC_DESC(
			    .name = "antimetal_agent_jsonl_write_errors_total",
			    .help =
				"JSON lines lost to write errors since the output was (re)opened.",
			    .type = AM_METRIC_COUNTER),
		    (double)a->jsonl.errors, NULL);
		am_metric_add(
		    out,
		    AM_METRIC_DESC(
			    .name = "antimetal_agent_jsonl_reopened_total",
			    .help =
				"Times the JSON lines file was found deleted and created again.",
			    .type = AM_METRIC_COUNTER),
		    (double)a->jsonl.reopened, NULL);
	}
}

/* The agent's own part of /metrics, for the push exporters. */
static void own_metrics(void *ctx, struct am_metric_set *out)
{
	agent_metrics(ctx, out);
}

/* OTLP metrics per the otlp.* configuration (a reload included). */
static int apply_otlp(struct agent *a)
{
	return am_otlp_metrics_source_apply(&a->otlp_metrics, &a->loop, &a->push, &a->cfg,
					    &a->runner, own_metrics, a, AM_VERSION, a->start_ns);
}

/* OTLP logs follow the configuration at start and at each reload (their sender replaced when
 * the otlp settings change); process exits are asked of execsnoop when it starts. */
static int apply_otlp_logs(struct agent *a)
{
	bool kmsg;
	char err[512];
	int rc;

	rc = am_otlp_logs_source_apply(&a->logs, &a->loop, &a->cfg, AM_VERSION, &a->push, err,
				       sizeof(err));
	if (rc)
		am_err("otlp logs: %s", err);
	a->exec.logs = &a->logs;
	if (!a->exec.snoop)
		a->exec.exits = a->cfg.otlp.logs_exits && am_otlp_logs_source_on(&a->logs);
	kmsg = a->cfg.otlp.logs_kmsg && am_otlp_logs_source_on(&a->logs);
	if (a->kmsg.follow && (!kmsg || strcmp(a->kmsg.devfs, a->cfg.devfs)))
		am_kmsg_source_stop(&a->kmsg);
	if (kmsg && !a->kmsg.follow &&
	    am_kmsg_source_start(&a->kmsg, &a->loop, a->cfg.devfs, &a->logs) == 0)
		am_info("otlp logs: following the kernel log");
	return rc;
}

/* After the sources' last records: the partial batch goes to the sender, which the push list
 * then flushes. */
static void stop_otlp_logs(struct agent *a)
{
	am_kmsg_source_stop(&a->kmsg);
	a->exec.logs = NULL;
	am_otlp_logs_source_stop(&a->logs, NULL, 0);
}

static void render_metrics(void *ctx, struct am_strbuf *out)
{
	struct agent *a = ctx;
	struct am_metric_set view, own = {0}, all = {0};

	if (am_runner_view(&a->runner, &view)) {
		out->oom = 1;
		return;
	}
	agent_metrics(a, &own);
	/* One set, so families from every collector and the agent's own are sorted together. */
	all.items = malloc((view.n + own.n + 1) * sizeof(*all.items));
	if (!all.items || own.oom) {
		out->oom = 1;
	} else {
		if (view.n)
			memcpy(all.items, view.items, view.n * sizeof(*all.items));
		memcpy(all.items + view.n, own.items, own.n * sizeof(*all.items));
		all.n = all.cap = view.n + own.n;
		am_prom_text_render_names(&all, out, a->cfg.http_antimetal_names);
	}
	free(all.items);
	am_metric_set_free(&own);
	am_runner_view_free(&view);
}

static int render_health(void *ctx, struct am_strbuf *out)
{
	struct agent *a = ctx;
	size_t i;

	for (i = 0; i < a->runner.n; i++) {
		const struct am_runner_entry *e = &a->runner.entries[i];

		am_strbuf_printf(out, "collector %s: %s\n", e->col->name,
				 e->init_error	 ? "not running"
				 : e->last_error ? "failing"
				 : e->runs	 ? "ok"
						 : "starting");
	}
	if (a->runner.n && !a->runner.nrunning) {
		am_strbuf_puts(out, "unhealthy: no collector is running\n");
		return 503;
	}
	am_strbuf_puts(out, "ok\n");
	return 200;
}

/* One line per continuous collector for /readyz; false when enabled and not attached. */
static bool ready_line(struct am_strbuf *out, const char *name, bool enabled, bool running)
{
	if (!enabled)
		return true;
	am_strbuf_printf(out, "%s: %s\n", name, running ? "attached" : "not attached");
	return running;
}

/* Ready once every system collector that could start has collected once and every enabled
 * eBPF collector is attached; collectors that cannot start here are listed, not waited for. */
static int render_ready(void *ctx, struct am_strbuf *out)
{
	struct agent *a = ctx;
	bool ready = true;
	size_t i;

	for (i = 0; i < a->runner.n; i++) {
		const struct am_runner_entry *e = &a->runner.entries[i];

		am_strbuf_printf(out, "collector %s: %s\n", e->col->name,
				 e->init_error ? "not running"
				 : e->runs     ? "collected"
					       : "waiting");
		if (!e->init_error && !e->runs)
			ready = false;
	}
	ready &= ready_line(out, "execsnoop", a->cfg.execsnoop_enabled, a->exec.snoop != NULL);
	ready &= ready_line(out, "profiler", a->cfg.profiler_enabled, a->prof.prof != NULL);
	ready &= ready_line(out, "oom", a->cfg.oom_enabled, a->oom.oom != NULL);
	am_strbuf_puts(out, ready ? "ready\n" : "not ready\n");
	return ready ? 200 : 503;
}

/* ---- collectors and timers ---- */

static void on_collector_timer(void *ctx, uint32_t events, uint64_t expirations)
{
	struct timer_ctx *t = ctx;
	struct agent *a = t->a;
	struct am_runner_entry *e = &a->runner.entries[t->index];
	unsigned part;
	size_t i;

	(void)events;
	/* Missed ticks (a stalled host) collapse into one collection: rates use real deltas. */
	(void)expirations;
	if (am_runner_collect(&a->runner, t->index) || !a->jsonl_on)
		return;
	for (i = 0, part = 1; i < e->latest.n || part == 1; part++) {
		i = metric_line(&a->line, a->host, e, i, part);
		write_line(a);
	}
}

/* The daemon's stats line: the system collectors' health, then the continuous ones'. */
static void agent_stats_line(struct agent *a)
{
	struct am_execsnoop_stats st = {0};

	stats_fields(&a->line, a->host, &a->runner, a->http.scrapes, a->jsonl.errors);
	if (a->cfg.execsnoop_enabled) {
		if (a->exec.snoop)
			am_execsnoop_stats(a->exec.snoop, &st);
		am_json_key(&a->line, "execsnoop", false);
		am_strbuf_putc(&a->line, '{');
		am_json_kv_bool(&a->line, "running", a->exec.snoop != NULL, true);
		am_json_kv_u64(&a->line, "execs", a->exec.execs, false);
		am_json_kv_u64(&a->line, "exec_failures", a->exec.failed_execs, false);
		am_json_kv_u64(&a->line, "drops", a->exec.base_drops + st.drops, false);
		am_strbuf_putc(&a->line, '}');
	}
	if (a->cfg.profiler_enabled) {
		am_json_key(&a->line, "profiler", false);
		am_strbuf_putc(&a->line, '{');
		am_json_kv_bool(&a->line, "running", a->prof.prof != NULL, true);
		am_json_kv_u64(&a->line, "profiles_written", a->prof.profiles_written, false);
		am_json_kv_u64(&a->line, "samples", a->prof.samples, false);
		am_json_kv_u64(&a->line, "lost", a->prof.lost, false);
		am_strbuf_putc(&a->line, '}');
	}
	am_push_stats_json(&a->push, &a->line, "export");
	am_jsonl_end(&a->line);
	write_line(a);
}

static void on_stats_timer(void *ctx, uint32_t events, uint64_t expirations)
{
	struct agent *a = ctx;

	(void)events;
	(void)expirations;
	agent_stats_line(a);
}

static void stop_collectors(struct agent *a)
{
	size_t i;

	for (i = 0; i < a->runner.n; i++)
		am_loop_remove(&a->loop, a->runner.entries[i].timer);
	am_loop_remove(&a->loop, a->stats_timer);
	a->stats_timer = NULL;
	am_runner_destroy(&a->runner);
	free(a->tctx);
	a->tctx = NULL;
}

static int start_collectors(struct agent *a)
{
	size_t i;
	int err = am_runner_init(&a->runner, &a->cfg);

	if (err) {
		am_err("collectors: %s", strerror(-err));
		return err;
	}
	a->tctx = calloc(a->runner.n ? a->runner.n : 1, sizeof(*a->tctx));
	if (!a->tctx)
		return -ENOMEM;
	for (i = 0; i < a->runner.n; i++) {
		struct am_runner_entry *e = &a->runner.entries[i];

		if (e->init_error)
			continue;
		a->tctx[i] = (struct timer_ctx){a, i};
		/* The first collection now, before the loop answers anything: the first scrape
		 * already has data. */
		on_collector_timer(&a->tctx[i], 0, 1);
		e->timer = am_loop_add_timer(&a->loop, e->interval_ms, e->interval_ms,
					     on_collector_timer, &a->tctx[i]);
		if (!e->timer)
			return -ENOMEM;
	}
	if (a->jsonl_on) {
		a->stats_timer = am_loop_add_timer(&a->loop, a->cfg.interval_ms, a->cfg.interval_ms,
						   on_stats_timer, a);
		if (!a->stats_timer)
			return -ENOMEM;
	}
	am_info("collectors: %zu of %zu enabled running", a->runner.nrunning, a->runner.n);
	return 0;
}

/* ---- HTTP ---- */

static void on_http(void *ctx, uint32_t events, uint64_t expirations)
{
	(void)events;
	(void)expirations;
	am_prom_server_run(ctx);
}

static int http_timeout(void *ctx)
{
	return am_prom_server_timeout_ms(ctx);
}

static void http_run(void *ctx)
{
	am_prom_server_run(ctx);
}

static void stop_http(struct agent *a)
{
	am_loop_remove(&a->loop, a->http_src);
	a->http_src = NULL;
	am_loop_set_hook(&a->loop, NULL, NULL, NULL);
	am_prom_server_stop(&a->http);
}

/* Start serving on CFG's address into a->http. Returns 0 or -errno (logged). */
static int start_http(struct agent *a, const struct am_config *cfg)
{
	struct am_prom_security *sec = NULL;
	char msg[768];
	int err;

	if (!cfg->http_enabled)
		return 0;
	/* Read again: the files it names (certificates) may have changed since it was checked. */
	if (cfg->http_web_config_file[0]) {
		err = am_web_config_load(cfg->http_web_config_file, &sec, msg, sizeof(msg));
		if (err) {
			am_err("http: %s", msg);
			return err;
		}
	}
	err = am_prom_server_start(&a->http, cfg->http_address, cfg->http_port, render_metrics,
				   render_health, a, sec);
	if (err)
		return err;
	am_prom_server_set_ready(&a->http, render_ready);
	a->http_src = am_loop_add(&a->loop, am_prom_server_fd(&a->http), on_http, &a->http);
	if (!a->http_src) {
		am_prom_server_stop(&a->http);
		return -ENOMEM;
	}
	am_loop_set_hook(&a->loop, http_timeout, http_run, &a->http);
	return 0;
}

static bool http_changed(const struct am_config *x, const struct am_config *y)
{
	/* A web configuration is read again on every reload: its certificates may have been
	 * renewed under the same names. The new listener binds beside the old (SO_REUSEPORT). */
	return x->http_enabled != y->http_enabled || x->http_port != y->http_port ||
	       strcmp(x->http_address, y->http_address) || x->http_web_config_file[0] ||
	       y->http_web_config_file[0];
}

/* ---- JSON lines output ---- */

static int open_jsonl(struct am_jsonl *w, const struct am_config *cfg)
{
	if (!cfg->jsonl_path[0])
		return 0;
	return am_jsonl_open(w, cfg->jsonl_path, cfg->jsonl_max_bytes, cfg->jsonl_keep);
}

/* ---- continuous eBPF collectors ---- */

/* The OOM source reads the roots in CFG: a change of them restarts it. */
static void apply_oom(struct agent *a, const struct am_config *cfg)
{
	am_oom_source_set_output(&a->oom, a->jsonl_on ? &a->jsonl : NULL, a->host);
	a->oom.btf_path = a->opts->btf_path;
	if (am_oom_source_set_roots(&a->oom, cfg->rootfs, cfg->procfs, cfg->devfs) ||
	    !cfg->oom_enabled)
		am_oom_source_stop(&a->oom);
	if (cfg->oom_enabled && !a->oom.oom)
		am_oom_source_start(&a->oom, &a->loop);
}

/* Bring execsnoop and the profiler in line with CFG; a collector that failed to start is
 * tried again at each reload. Event lines follow the JSON lines output. */
static void apply_continuous(struct agent *a, const struct am_config *cfg)
{
	am_exec_source_set_output(&a->exec, a->jsonl_on ? &a->jsonl : NULL, a->host);
	a->exec.btf_path = a->opts->btf_path;
	a->prof.btf_path = a->opts->btf_path;
	if (cfg->execsnoop_enabled && !a->exec.snoop)
		am_exec_source_start(&a->exec, &a->loop);
	else if (!cfg->execsnoop_enabled && a->exec.snoop)
		am_exec_source_stop(&a->exec);
	apply_oom(a, cfg);
	if (a->prof.prof && (!cfg->profiler_enabled || !am_profile_source_same(&a->prof, cfg)))
		am_profile_source_stop(&a->prof, 1);
	if (cfg->profiler_enabled && !a->prof.prof)
		am_profile_source_start(&a->prof, &a->loop, cfg);
}

/* Flush what they hold (buffered events, the partial profile window), then detach. */
static void stop_continuous(struct agent *a)
{
	am_exec_source_stop(&a->exec);
	am_oom_source_stop(&a->oom);
	am_profile_source_stop(&a->prof, 1);
}

/* The one way out for what feeds the push exporters, then the exporters: after a run (FLUSH)
 * the last records and collections are queued and everything queued is delivered within
 * export.shutdown_timeout; after a failed start nothing waits. */
static void stop_exports(struct agent *a, bool flush)
{
	stop_continuous(a);
	stop_otlp_logs(a);
	if (flush) {
		/* The latest collection goes out with the rest of the queue. */
		am_otlp_metrics_source_export(&a->otlp_metrics);
		am_rw_source_push(&a->rw);
	}
	am_otlp_metrics_source_stop(&a->otlp_metrics, &a->loop, NULL, 0);
	am_push_stop(&a->push, flush ? (uint32_t)a->cfg.export_shutdown_timeout_ms : 0);
}

/* ---- reload and signals ---- */

static void reload(struct agent *a)
{
	struct am_config next;
	struct am_jsonl w;
	bool rw_restart;
	char err[768];
	int rc;

	rc = am_agent_load_config(a->opts, &next, err, sizeof(err));
	if (rc) {
		am_err("reload failed, keeping the running configuration: %s", err);
		a->reloads_failed++;
		return;
	}
	am_log_init(next.log_level);
	/* Before the collectors restart: what they collected since the last push goes first. */
	rw_restart = am_rw_config_changed(&a->cfg, &next) ||
		     am_rw_source_headers_changed(&a->rw, &next, a->host);
	if (rw_restart)
		am_rw_source_close(&a->rw, &a->loop, &a->push,
				   (uint32_t)a->cfg.export_shutdown_timeout_ms);
	/* The listener moves only when asked, and only once the new one is bound. */
	if (http_changed(&a->cfg, &next)) {
		struct am_prom_server old = a->http;
		struct am_loop_source *old_src = a->http_src;

		a->http = (struct am_prom_server){0};
		a->http_src = NULL;
		if (start_http(a, &next)) {
			am_err("reload: keeping the previous HTTP listener");
			a->http = old;
			a->http_src = old_src;
			next.http_enabled = a->cfg.http_enabled;
			next.http_port = a->cfg.http_port;
			strcpy(next.http_address, a->cfg.http_address);
			if (a->http.daemon)
				am_loop_set_hook(&a->loop, http_timeout, http_run, &a->http);
		} else {
			am_loop_remove(&a->loop, old_src);
			am_prom_server_stop(&old);
			if (!a->http.daemon)
				am_loop_set_hook(&a->loop, NULL, NULL, NULL);
		}
	}
	/* Reopen even an unchanged path, so an externally rotated file is let go. */
	w = (struct am_jsonl){.fd = -1};
	if (open_jsonl(&w, &next)) {
		am_err("reload: keeping the previous JSON lines output");
		strcpy(next.jsonl_path, a->cfg.jsonl_path);
		next.jsonl_max_bytes = a->cfg.jsonl_max_bytes;
		next.jsonl_keep = a->cfg.jsonl_keep;
	} else {
		am_jsonl_close(&a->jsonl);
		a->jsonl = w;
		a->jsonl_on = next.jsonl_path[0] != '\0';
	}
	stop_collectors(a);
	a->cfg = next;
	resolve_host(&a->cfg, a->host, sizeof(a->host));
	if (start_collectors(a))
		am_err("reload: some collectors could not be scheduled");
	apply_continuous(a, &a->cfg);
	if (apply_otlp(a))
		am_err("reload: OTLP metrics export stopped");
	if (apply_otlp_logs(a))
		am_err("reload: OTLP logs export stopped");
	if (rw_restart && a->cfg.rw_url[0] &&
	    am_rw_source_start(&a->rw, &a->cfg, a->host, &a->loop, &a->push, &a->runner,
			       own_metrics, a))
		am_err("reload: remote_write export stopped");
	a->reloads_ok++;
	am_info("configuration reloaded");
}

static void on_signal(void *ctx, uint32_t events, uint64_t expirations)
{
	struct agent *a = ctx;
	int signo;

	(void)events;
	(void)expirations;
	while ((signo = am_signals_next(&a->sig)) != 0) {
		if (signo == SIGHUP) {
			am_info("SIGHUP: reloading %s", a->opts->config_path
							    ? a->opts->config_path
							    : AM_CONFIG_DEFAULT_PATH);
			reload(a);
		} else {
			am_info("%s: shutting down", strsignal(signo));
			am_loop_stop(&a->loop);
		}
	}
}

static int setup_signals(struct agent *a)
{
	static const int taken[] = {SIGINT, SIGTERM, SIGHUP};
	int err;

	/* A closed stdout or scraper must be an EPIPE error, not death. */
	signal(SIGPIPE, SIG_IGN);
	err = am_signals_open(&a->sig, taken, sizeof(taken) / sizeof(taken[0]));
	if (err)
		return err;
	a->sig_src = am_loop_add(&a->loop, a->sig.fd, on_signal, a);
	return a->sig_src ? 0 : -ENOMEM;
}

/* systemd and most shells start services with a soft limit of 1,024 descriptors and a far
 * higher hard limit, meant to be raised by programs that need more: /metrics serves up to
 * 2,048 connections so that idle ones cannot lock the scraper out, and the cgroup collector
 * keeps up to collectors.cgroup.keep_open files open (and as many directories), within three
 * quarters of the limit. */
static void raise_fd_limit(unsigned cgroup_keep_open)
{
	rlim_t want = 2 * (rlim_t)cgroup_keep_open + 8192;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		am_debug("cannot raise the descriptor limit: %s", strerror(errno));
}

int am_agent_run(const struct am_agent_options *o, const struct am_config *cfg)
{
	struct agent *a = calloc(1, sizeof(*a));
	int status = 1, err;
	bool ran = false;

	if (!a) {
		am_err("out of memory");
		return 1;
	}
	a->opts = o;
	a->cfg = *cfg;
	a->sig.fd = -1;
	a->jsonl.fd = -1;
	a->start_ns = am_clock_ns(CLOCK_REALTIME);
	am_log_init(a->cfg.log_level);
	raise_fd_limit(a->cfg.cgroup_keep_open);
	/* Before any thread: it sets the environment libdebuginfod reads. */
	am_usym_debuginfod_defaults(AM_USYM_DEBUGINFOD_CACHE, AM_USYM_DEBUGINFOD_TIMEOUT_S);
	/* libcurl's global set-up is not to race with threads (the senders'). */
	if (am_sender_global_init())
		am_warn("export: libcurl failed to initialise; push exporters cannot start");
	resolve_host(&a->cfg, a->host, sizeof(a->host));
	if (am_loop_init(&a->loop)) {
		free(a);
		return 1;
	}
	if (setup_signals(a))
		goto out;
	if (start_http(a, &a->cfg))
		goto out;
	if (open_jsonl(&a->jsonl, &a->cfg))
		goto out;
	a->jsonl_on = a->cfg.jsonl_path[0] != '\0';
	if (start_collectors(a))
		goto out;
	if (apply_otlp_logs(a))
		goto out;
	apply_continuous(a, &a->cfg);
	if (apply_otlp(a))
		goto out;
	if (a->cfg.rw_url[0] && am_rw_source_start(&a->rw, &a->cfg, a->host, &a->loop, &a->push,
						   &a->runner, own_metrics, a))
		goto out;
	am_info("running as host '%s'", a->host);
	err = am_loop_run(&a->loop);
	status = err ? 1 : 0;
	ran = true;
out:
	stop_exports(a, ran);
	/* Writes are unbuffered: the last stats line is all there is left to flush. */
	if (ran && a->jsonl_on)
		agent_stats_line(a);
	am_rw_source_stop(&a->rw, &a->loop);
	am_exec_source_free(&a->exec);
	am_oom_source_free(&a->oom);
	stop_collectors(a);
	stop_http(a);
	am_jsonl_close(&a->jsonl);
	am_loop_close(&a->loop);
	am_signals_close(&a->sig);
	am_strbuf_free(&a->line);
	free(a);
	if (!status)
		am_info("stopped");
	return status;
}

int am_agent_once(const struct am_config *cfg)
{
	struct am_runner r;
	struct am_jsonl out;
	struct am_strbuf b = {0};
	char host[256];
	size_t i, from, ok = 0;
	unsigned part;

	am_log_init(cfg->log_level);
	resolve_host(cfg, host, sizeof(host));
	if (am_runner_init(&r, cfg)) {
		am_err("out of memory");
		return 1;
	}
	am_jsonl_open(&out, "-", 0, 0);
	for (i = 0; i < r.n; i++) {
		if (am_runner_collect(&r, i))
			continue;
		ok++;
		for (from = 0, part = 1; from < r.entries[i].latest.n || part == 1; part++) {
			from = metric_line(&b, host, &r.entries[i], from, part);
			am_jsonl_write(&out, b.data, b.len);
			am_strbuf_reset(&b);
		}
	}
	stats_fields(&b, host, &r, 0, out.errors);
	am_jsonl_end(&b);
	am_jsonl_write(&out, b.data, b.len);
	am_strbuf_free(&b);
	am_runner_destroy(&r);
	if (out.errors) {
		am_jsonl_close(&out);
		return 1;
	}
	am_jsonl_close(&out);
	if (!ok) {
		am_err("one-shot collection: no collector produced a snapshot");
		return 1;
	}
	return 0;
}
