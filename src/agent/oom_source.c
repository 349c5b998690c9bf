#include "agent/oom_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/source_common.h"
#include "export/oom_render.h"
#include "util/log.h"

static void count_kill(struct am_oom_source *x, const struct am_oom_event *ev)
{
	const char *cg = ev->cgroup ? ev->cgroup : "";
	const char *cid = ev->container_id ? ev->container_id : "";
	struct am_oom_series *s;
	size_t i;

	x->kills++;
	for (i = 0; i < x->nseries; i++)
		if (!strcmp(x->series[i].cgroup, cg) && !strcmp(x->series[i].container_id, cid)) {
			x->series[i].kills++;
			return;
		}
	if (x->nseries == AM_OOM_SOURCE_MAX_SERIES) {
		x->other_kills++;
		return;
	}
	s = realloc(x->series, (x->nseries + 1) * sizeof(*s));
	if (!s || !(s[x->nseries].cgroup = strdup(cg))) {
		if (s)
			x->series = s;
		x->other_kills++;
		return;
	}
	x->series = s;
	snprintf(s[x->nseries].container_id, sizeof(s->container_id), "%s", cid);
	s[x->nseries].kills = 1;
	x->nseries++;
}

static void on_event(const struct am_oom_event *ev, void *ctx)
{
	struct am_oom_source *x = ctx;

	count_kill(x, ev);
	am_info("oom: pid %d (%s) killed in cgroup %s", ev->pid, ev->comm,
		ev->cgroup ? ev->cgroup : "(unknown)");
	if (!x->out)
		return;
	am_strbuf_reset(&x->event);
	am_oom_render_json(&x->event, ev);
	am_source_write_event(x->out, &x->line, &x->event, x->host, ev->ts_real_ns, "oom");
}

static void on_ready(void *ctx, uint32_t events, uint64_t expirations)
{
	struct am_oom_source *x = ctx;
	int n;

	(void)events;
	(void)expirations;
	n = am_oom_consume(x->oom);
	if (n < 0 && n != -EINTR)
		am_warn("oom: reading events failed: %s", strerror(-n));
}

static int mode_from_env(enum am_oom_mode *mode)
{
	const char *v = getenv("ANTIMETAL_OOM_SOURCE");

	*mode = AM_OOM_AUTO;
	if (!v || !*v || !strcmp(v, "auto"))
		return 0;
	if (!strcmp(v, "bpf"))
		*mode = AM_OOM_BPF;
	else if (!strcmp(v, "kmsg"))
		*mode = AM_OOM_KMSG;
	else {
		am_err("oom: ANTIMETAL_OOM_SOURCE=%s: expected auto, bpf or kmsg", v);
		return -EINVAL;
	}
	return 0;
}

int am_oom_source_start(struct am_oom_source *x, struct am_loop *loop)
{
	struct am_oom_opts o = {0};
	int err;

	x->loop = loop;
	err = mode_from_env(&o.mode);
	o.cb = on_event;
	o.ctx = x;
	o.btf_path = x->btf_path;
	o.procfs = x->procfs[0] ? x->procfs : NULL;
	o.devfs = x->devfs[0] ? x->devfs : NULL;
	o.rootfs = x->rootfs[0] ? x->rootfs : NULL;
	err = err ? err : am_oom_open(&o, &x->oom);
	if (err) {
		x->oom = NULL;
		x->start_error = err;
		am_warn("oom: cannot start (%s); the daemon runs without it", strerror(-err));
		return err;
	}
	x->src = am_loop_add(loop, am_oom_fd(x->oom), on_ready, x);
	if (!x->src) {
		am_oom_close(x->oom);
		x->oom = NULL;
		x->start_error = -ENOMEM;
		return -ENOMEM;
	}
	x->start_error = 0;
	am_info("oom: watching OOM kills (%s)", am_oom_origin_name(x->oom));
	return 0;
}

bool am_oom_source_set_roots(struct am_oom_source *x, const char *rootfs, const char *procfs,
			     const char *devfs)
{
	bool changed =
	    strcmp(x->procfs, procfs) || strcmp(x->devfs, devfs) || strcmp(x->rootfs, rootfs);

	snprintf(x->rootfs, sizeof(x->rootfs), "%s", rootfs);
	snprintf(x->procfs, sizeof(x->procfs), "%s", procfs);
	snprintf(x->devfs, sizeof(x->devfs), "%s", devfs);
	return changed;
}

void am_oom_source_set_output(struct am_oom_source *x, struct am_jsonl *out, const char *host)
{
	x->out = out;
	x->host = host;
}

void am_oom_source_metrics(struct am_oom_source *x, struct am_metric_set *set)
{
	static const struct am_metric_desc kills = {
	    .name = "antimetal_oom_kills_total",
	    .help = "OOM kills, by the victim's memory cgroup and container.",
	    .type = AM_METRIC_COUNTER,
	    .labels = {"cgroup", "container_id"},
	};
	struct am_oom_stats st = {0};
	size_t i;

	if (x->oom)
		am_oom_stats(x->oom, &st);
	for (i = 0; i < x->nseries; i++)
		am_metric_add(set, &kills, (double)x->series[i].kills, "cgroup",
			      x->series[i].cgroup, "container_id", x->series[i].container_id, NULL);
	if (x->other_kills)
		am_metric_add(set, &kills, (double)x->other_kills, "cgroup", "(other)",
			      "container_id", "", NULL);
	am_source_health(set, "oom", x->oom,
			 x->base_lost + st.output_failures + st.malformed + st.kmsg_overwritten);
}

void am_oom_source_stop(struct am_oom_source *x)
{
	struct am_oom_stats st;

	if (!x->oom)
		return;
	am_oom_consume(x->oom);
	am_oom_stats(x->oom, &st);
	x->base_lost += st.output_failures + st.malformed + st.kmsg_overwritten;
	am_loop_remove(x->loop, x->src);
	x->src = NULL;
	am_oom_close(x->oom);
	x->oom = NULL;
}

void am_oom_source_free(struct am_oom_source *x)
{
	size_t i;

	for (i = 0; i < x->nseries; i++)
		free(x->series[i].cgroup);
	free(x->series);
	x->series = NULL;
	x->nseries = 0;
	am_strbuf_free(&x->line);
	am_strbuf_free(&x->event);
}
