#include "agent/otlp_metrics_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/otel_env.h"
#include "agent/otel_resource.h"
#include "agent/otlp_sender.h"
#include "export/otlp_metrics.h"
#include "util/clock.h"
#include "util/log.h"

/* The host's boot in CLOCK_REALTIME: when the kernel's counters started. */
static uint64_t boot_ns(void)
{
	return am_clock_ns(CLOCK_REALTIME) - am_clock_ns(CLOCK_BOOTTIME);
}

void am_otlp_metrics_source_export(struct am_otlp_metrics_source *s)
{
	const struct am_runner *r = s->runner;
	struct am_otlp_metrics_input *in;
	struct am_metric_set own = {0};
	uint64_t boot = boot_ns(), npoints;
	size_t i, n = 0, len;
	void *buf;
	int rc;

	if (!s->sender)
		return;
	in = calloc(r->n + 1, sizeof(*in));
	if (!in) {
		s->encode_errors++;
		return;
	}
	for (i = 0; i < r->n; i++)
		if (r->entries[i].latest.n)
			/* The agent's own process (the self collector) started with the agent. */
			in[n++] = (struct am_otlp_metrics_input){
			    &r->entries[i].latest,
			    strcmp(r->entries[i].col->name, "self") ? boot : s->start_ns};
	if (s->own) {
		s->own(s->own_ctx, &own);
		own.timestamp_ns = am_clock_ns(CLOCK_REALTIME);
		in[n++] = (struct am_otlp_metrics_input){&own, s->start_ns};
	}
	rc = own.oom ? -ENOMEM
		     : am_otlp_metrics_encode(in, n, &s->res, s->version, s->gzip, &buf, &len,
					      &npoints);
	free(in);
	am_metric_set_free(&own);
	if (rc) {
		s->encode_errors++;
		am_warn("otlp metrics: cannot encode this export: %s", strerror(-rc));
		return;
	}
	am_sender_submit(s->sender, buf, len, npoints);
	s->exports++;
}

static void on_timer(void *ctx, uint32_t events, uint64_t expirations)
{
	(void)events;
	(void)expirations;
	am_otlp_metrics_source_export(ctx);
}

static int start_sender(struct am_otlp_metrics_source *s, struct am_push *push,
			const struct am_otlp_config *o)
{
	struct am_otlp_signal_settings set;
	char err[512];
	int rc;

	rc = am_otlp_sender_new(o, AM_OTLP_METRICS, "otlp_metrics", am_otlp_metrics_parse_response,
				&s->sender, err, sizeof(err));
	if (rc) {
		am_err("otlp metrics: %s", err);
		s->sender = NULL;
		return rc;
	}
	am_otlp_signal_settings(o, AM_OTLP_METRICS, &set); /* the sender took it */
	s->gzip = set.gzip;
	rc = am_push_add(push, s->sender);
	if (rc)
		s->sender = NULL;
	else
		am_info("otlp metrics: every %llu ms to %s%s",
			(unsigned long long)o->metrics_interval_ms, set.url,
			s->gzip ? ", gzip" : "");
	return rc;
}

void am_otlp_metrics_source_stop(struct am_otlp_metrics_source *s, struct am_loop *loop,
				 struct am_push *push, uint32_t deadline_ms)
{
	am_loop_remove(loop, s->timer);
	s->timer = NULL;
	if (s->sender && push)
		am_push_remove(push, s->sender, deadline_ms);
	s->sender = NULL;
	am_resource_free(&s->res);
}

int am_otlp_metrics_source_apply(struct am_otlp_metrics_source *s, struct am_loop *loop,
				 struct am_push *push, const struct am_config *cfg,
				 const struct am_runner *runner, am_own_metrics_fn own,
				 void *own_ctx, const char *version, uint64_t start_ns)
{
	bool on = am_otlp_signal_enabled(&cfg->otlp, AM_OTLP_METRICS);
	char err[512];
	int rc;

	s->runner = runner;
	s->own = own;
	s->own_ctx = own_ctx;
	s->version = version;
	s->start_ns = start_ns;
	if (s->sender && on && !memcmp(&s->cfg, &cfg->otlp, sizeof(s->cfg)) &&
	    !strcmp(s->hostname, cfg->hostname))
		return 0; /* unchanged: the queue and its counts carry on */
	am_otlp_metrics_source_stop(s, loop, push, (uint32_t)cfg->export_shutdown_timeout_ms);
	s->cfg = cfg->otlp;
	snprintf(s->hostname, sizeof(s->hostname), "%s", cfg->hostname);
	if (!on)
		return 0;
	rc = am_otel_resource_build(cfg, version, &s->res, err, sizeof(err));
	if (rc) {
		am_err("otlp metrics: resource: %s", err);
		return rc;
	}
	rc = start_sender(s, push, &cfg->otlp);
	if (rc)
		return rc;
	s->timer = am_loop_add_timer(loop, cfg->otlp.metrics_interval_ms,
				     cfg->otlp.metrics_interval_ms, on_timer, s);
	if (!s->timer) {
		am_otlp_metrics_source_stop(s, loop, push, 0);
		return -ENOMEM;
	}
	return 0;
}
