#include "agent/kmsg_source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

static void on_record(const struct am_kmsg_event *e, void *ctx)
{
	struct am_kmsg_source *x = ctx;

	am_otlp_logs_source_kmsg(x->logs, e);
}

static void on_ready(void *ctx, uint32_t events, uint64_t expirations)
{
	struct am_kmsg_source *x = ctx;
	int n;

	(void)events;
	(void)expirations;
	n = am_kmsg_follow_consume(x->follow);
	if (n < 0)
		am_warn("kmsg: reading the kernel log failed: %s", strerror(-n));
}

int am_kmsg_source_start(struct am_kmsg_source *x, struct am_loop *loop, const char *devfs,
			 struct am_otlp_logs_source *logs)
{
	struct am_kmsg_follow_opts o = {0};
	int err;

	o.devfs = devfs;
	o.start = AM_KMSG_FROM_END;
	o.cb = on_record;
	o.ctx = x;
	x->logs = logs;
	x->loop = loop;
	snprintf(x->devfs, sizeof(x->devfs), "%s", devfs ? devfs : "");
	err = am_kmsg_follow_open(&o, &x->follow);
	if (err) {
		x->follow = NULL;
		x->start_error = err;
		return err;
	}
	x->src = am_loop_add(loop, am_kmsg_follow_fd(x->follow), on_ready, x);
	if (!x->src) {
		am_kmsg_follow_close(x->follow);
		x->follow = NULL;
		x->start_error = -ENOMEM;
		return -ENOMEM;
	}
	x->start_error = 0;
	return 0;
}

void am_kmsg_source_metrics(struct am_kmsg_source *x, struct am_metric_set *set)
{
	struct am_kmsg_follow_stats st;

	if (!x->follow)
		return;
	am_kmsg_follow_stats(x->follow, &st);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_kmsg_stream_records_total",
				     .help = "Kernel log records read for export (OTLP logs).",
				     .type = AM_METRIC_COUNTER),
		      (double)st.records, NULL);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_kmsg_stream_lost_records_total",
				     .help = "Kernel log records overwritten in the kernel's ring "
					     "before the export stream read them.",
				     .type = AM_METRIC_COUNTER),
		      (double)st.lost, NULL);
	am_metric_add(
	    set,
	    AM_METRIC_DESC(.name = "antimetal_kmsg_stream_malformed_records_total",
			   .help = "Kernel log records the export stream could not parse.",
			   .type = AM_METRIC_COUNTER),
	    (double)st.malformed, NULL);
}

void am_kmsg_source_stop(struct am_kmsg_source *x)
{
	if (!x->follow)
		return;
	am_kmsg_follow_consume(x->follow);
	am_loop_remove(x->loop, x->src);
	x->src = NULL;
	am_kmsg_follow_close(x->follow);
	x->follow = NULL;
}
