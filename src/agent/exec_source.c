#include "agent/exec_source.h"

#include <errno.h>
#include <string.h>

#include "agent/source_common.h"
#include "export/exec_render.h"
#include "util/log.h"

static void on_record(const struct am_exec_record *r, void *ctx)
{
	struct am_exec_source *x = ctx;

	if (x->logs)
		am_otlp_logs_source_exec(x->logs, r);
	if (r->kind != AM_EXEC_EVENT) {
		x->exits_seen++;
		return;
	}
	x->execs++;
	if (r->ret < 0)
		x->failed_execs++;
	if (!x->out)
		return;
	/* execsnoop's own JSON object, nested in the daemon's self-describing envelope. */
	am_strbuf_reset(&x->event);
	am_exec_render_json(&x->event, r);
	am_source_write_event(x->out, &x->line, &x->event, x->host, r->ts_real_ns, "execsnoop");
}

static void on_ready(void *ctx, uint32_t events, uint64_t expirations)
{
	struct am_exec_source *x = ctx;
	int n;

	(void)events;
	(void)expirations;
	n = am_execsnoop_consume(x->snoop);
	if (n < 0 && n != -EINTR)
		am_warn("execsnoop: reading events failed: %s", strerror(-n));
}

int am_exec_source_start(struct am_exec_source *x, struct am_loop *loop)
{
	struct am_execsnoop_opts o = {0};
	int err;

	x->loop = loop;
	o.cb = on_record;
	o.ctx = x;
	o.resolve_cgroups = true;
	o.exits = x->exits;
	o.btf_path = x->btf_path;
	err = am_execsnoop_open(&o, &x->snoop);
	if (err) {
		x->snoop = NULL;
		x->start_error = err;
		am_warn("execsnoop: cannot start (%s); the daemon runs without it", strerror(-err));
		return err;
	}
	x->src = am_loop_add(loop, am_execsnoop_fd(x->snoop), on_ready, x);
	if (!x->src) {
		am_execsnoop_close(x->snoop);
		x->snoop = NULL;
		x->start_error = -ENOMEM;
		return -ENOMEM;
	}
	x->start_error = 0;
	am_info("execsnoop: tracing every exec (%s)",
		am_execsnoop_uses_ringbuf(x->snoop) ? "ring buffer" : "perf buffer");
	return 0;
}

void am_exec_source_set_output(struct am_exec_source *x, struct am_jsonl *out, const char *host)
{
	x->out = out;
	x->host = host;
}

void am_exec_source_metrics(struct am_exec_source *x, struct am_metric_set *set)
{
	struct am_execsnoop_stats st = {0};

	if (x->snoop)
		am_execsnoop_stats(x->snoop, &st);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_execsnoop_execs_total",
				     .help = "Execs seen by execsnoop, successful or not.",
				     .type = AM_METRIC_COUNTER),
		      (double)x->execs, NULL);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_execsnoop_exec_failures_total",
				     .help = "Execs that returned an error.",
				     .type = AM_METRIC_COUNTER),
		      (double)x->failed_execs, NULL);
	am_source_health(set, "execsnoop", x->snoop, x->base_drops + st.drops);
}

void am_exec_source_stop(struct am_exec_source *x)
{
	struct am_execsnoop_stats st;

	if (!x->snoop)
		return;
	/* Flush: what the kernel already buffered is delivered before detaching. */
	am_execsnoop_consume(x->snoop);
	am_execsnoop_stats(x->snoop, &st);
	x->base_drops += st.drops;
	am_loop_remove(x->loop, x->src);
	x->src = NULL;
	am_execsnoop_close(x->snoop);
	x->snoop = NULL;
}

void am_exec_source_free(struct am_exec_source *x)
{
	am_strbuf_free(&x->line);
	am_strbuf_free(&x->event);
}
