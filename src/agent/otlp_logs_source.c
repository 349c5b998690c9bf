#include "agent/otlp_logs_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/otel_env.h"
#include "agent/otel_resource.h"
#include "agent/otlp_sender.h"
#include "util/clock.h"
#include "util/log.h"

static void on_timer(void *ctx, uint32_t events, uint64_t expirations)
{
	struct am_otlp_logs_source *x = ctx;

	(void)events;
	(void)expirations;
	x->armed = false;
	am_otlp_logs_source_flush(x);
}

int am_otlp_logs_source_apply(struct am_otlp_logs_source *x, struct am_loop *loop,
			      const struct am_config *cfg, const char *version,
			      struct am_push *push, char *err, size_t errlen)
{
	bool on = am_otlp_signal_enabled(&cfg->otlp, AM_OTLP_LOGS);
	struct am_otlp_signal_settings set;
	int rc;

	if (x->sender && on && !memcmp(&x->cfg, &cfg->otlp, sizeof(x->cfg)) &&
	    !strcmp(x->hostname, cfg->hostname))
		return 0; /* unchanged: the batch, the queue and their counts carry on */
	am_otlp_logs_source_stop(x, push, (uint32_t)cfg->export_shutdown_timeout_ms);
	x->cfg = cfg->otlp;
	snprintf(x->hostname, sizeof(x->hostname), "%s", cfg->hostname);
	if (!on)
		return 0;
	rc = am_otel_resource_build(cfg, version, &x->resource, err, errlen);
	if (rc)
		return rc;
	am_otlp_resource_init(&x->res_msg, &x->resource);
	/* Added disarmed: the first record of each batch arms it. */
	x->timer = am_loop_add_timer_ns(loop, 3600 * 1000000000ull, 0, on_timer, x);
	if (!x->timer || am_loop_timer_set(x->timer, 0, 0)) {
		snprintf(err, errlen, "otlp logs: no timer for the batch delay");
		rc = -ENOMEM;
		goto fail;
	}
	x->loop = loop;
	rc = am_otlp_sender_new(&cfg->otlp, AM_OTLP_LOGS, "otlp_logs", am_otlp_logs_parse_response,
				&x->sender, err, errlen);
	if (!rc)
		rc = am_push_add(push, x->sender);
	if (rc)
		goto fail;
	am_otlp_signal_settings(&cfg->otlp, AM_OTLP_LOGS, &set); /* the sender took it */
	x->gzip = set.gzip;
	x->delay_ns = cfg->otlp.logs_delay_ms * 1000000ull;
	x->max_records = cfg->otlp.logs_batch_size ? cfg->otlp.logs_batch_size : 512;
	/* A batch bigger than the queue could never be queued: a quarter of it at most, so the
	 * queue holds a few batches while the receiver is away. */
	x->max_bytes = cfg->otlp.queue_bytes / 4;
	am_info("otlp logs: to %s, batches of up to %llu records or %llu ms%s", set.url,
		(unsigned long long)x->max_records, (unsigned long long)cfg->otlp.logs_delay_ms,
		x->gzip ? ", gzip" : "");
	return 0;
fail:
	x->sender = NULL;
	am_loop_remove(loop, x->timer);
	x->timer = NULL;
	am_resource_free(&x->resource);
	return rc;
}

bool am_otlp_logs_source_on(const struct am_otlp_logs_source *x)
{
	return x->sender != NULL;
}

/* After a record went in: send a full batch now, else make sure the delay runs. */
static void after_add(struct am_otlp_logs_source *x, int rc)
{
	if (rc) {
		x->dropped_nomem++;
		return;
	}
	if (x->batch.nrecords >= x->max_records || am_otlp_logs_bytes(&x->batch) >= x->max_bytes)
		am_otlp_logs_source_flush(x);
	else if (!x->armed && !am_loop_timer_set(x->timer, x->delay_ns, 0))
		x->armed = true;
}

void am_otlp_logs_source_exec(struct am_otlp_logs_source *x, const struct am_exec_record *r)
{
	if (!x->sender)
		return;
	x->exec_records++;
	after_add(x, am_otlp_logs_add_exec(&x->batch, r, am_clock_ns(CLOCK_REALTIME)));
}

void am_otlp_logs_source_kmsg(struct am_otlp_logs_source *x, const struct am_kmsg_event *e)
{
	if (!x->sender)
		return;
	x->kmsg_records++;
	after_add(x, am_otlp_logs_add_kmsg(&x->batch, e, am_clock_ns(CLOCK_REALTIME)));
}

void am_otlp_logs_source_flush(struct am_otlp_logs_source *x)
{
	void *buf;
	size_t len;

	if (x->armed) {
		am_loop_timer_set(x->timer, 0, 0);
		x->armed = false;
	}
	if (!x->sender || !x->batch.nrecords)
		return;
	if (am_otlp_logs_encode(&x->batch, &x->res_msg.msg, x->gzip, &buf, &len)) {
		am_warn("otlp logs: out of memory encoding %llu records; they are dropped",
			(unsigned long long)x->batch.nrecords);
		x->dropped_nomem += x->batch.nrecords;
	} else {
		am_sender_submit(x->sender, buf, len, x->batch.nrecords);
		x->payloads++;
	}
	am_otlp_logs_reset(&x->batch);
}

void am_otlp_logs_source_metrics(struct am_otlp_logs_source *x, struct am_metric_set *set)
{
	static const struct am_metric_desc records = {
	    .name = "antimetal_otlp_logs_records_total",
	    .help = "Records packed into OTLP log batches, by source.",
	    .unit = "{record}",
	    .type = AM_METRIC_COUNTER,
	    .labels = {"source"},
	};
	static const struct am_metric_desc dropped = {
	    .name = "antimetal_otlp_logs_dropped_records_total",
	    .help = "Records lost before the sender's queue (out of memory); the sender's own "
		    "losses are antimetal_export_dropped_items_total{exporter=\"otlp_logs\"}.",
	    .unit = "{record}",
	    .type = AM_METRIC_COUNTER,
	};

	if (!x->sender)
		return;
	am_metric_add(set, &records, (double)x->exec_records, "source", "execsnoop", NULL);
	am_metric_add(set, &records, (double)x->kmsg_records, "source", "kmsg", NULL);
	am_metric_add(set, &dropped, (double)x->dropped_nomem, NULL);
}

void am_otlp_logs_source_stop(struct am_otlp_logs_source *x, struct am_push *push,
			      uint32_t deadline_ms)
{
	am_otlp_logs_source_flush(x);
	/* The sender's own final counts follow when it is stopped. */
	if (x->sender)
		am_info(
		    "otlp logs: stopped; records %llu (execsnoop %llu, kmsg %llu), payloads %llu, "
		    "lost before the sender %llu",
		    (unsigned long long)(x->exec_records + x->kmsg_records),
		    (unsigned long long)x->exec_records, (unsigned long long)x->kmsg_records,
		    (unsigned long long)x->payloads, (unsigned long long)x->dropped_nomem);
	if (x->sender && push)
		am_push_remove(push, x->sender, deadline_ms);
	if (x->timer)
		am_loop_remove(x->loop, x->timer);
	x->timer = NULL;
	x->armed = false;
	x->sender = NULL;
	am_otlp_logs_free(&x->batch);
	am_resource_free(&x->resource);
}
