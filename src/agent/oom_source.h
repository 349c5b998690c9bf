/* OOM kills inside the daemon: the oom collector's fd is one more source of the event loop;
 * every kill becomes a JSON line ({"type":"event","source":"oom",...}) when JSON lines are on,
 * and is counted per memory cgroup and container for /metrics. ANTIMETAL_OOM_SOURCE=bpf|kmsg
 * forces one origin (tests, or a kernel whose tracepoint misbehaves); default auto. */
#ifndef ANTIMETAL_AGENT_OOM_SOURCE_H
#define ANTIMETAL_AGENT_OOM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/loop.h"
#include "collectors/ebpf/oom.h"
#include "export/jsonl.h"
#include "records/metric.h"
#include "util/strbuf.h"

/* Distinct (cgroup, container) counters kept; kills past it count under cgroup="(other)". */
#define AM_OOM_SOURCE_MAX_SERIES 1024

struct am_oom_series {
	char *cgroup;
	char container_id[65];
	uint64_t kills;
};

struct am_oom_source {
	struct am_oom *oom; /* NULL when not running */
	struct am_loop_source *src;
	struct am_loop *loop;
	struct am_jsonl *out; /* NULL: count only */
	const char *host;
	const char *btf_path; /* set by the agent before start */
	/* The roots the running instance was opened with ("" = the default). */
	char rootfs[1024], procfs[1024], devfs[1024];
	struct am_oom_series *series;
	size_t nseries;
	uint64_t kills, other_kills; /* since the agent started; other: past the series cap */
	uint64_t base_lost;	     /* losses of instances closed before this one */
	struct am_strbuf line, event;
	int start_error;
};

/* Set the roots; true when they differ from those the running instance uses. */
bool am_oom_source_set_roots(struct am_oom_source *x, const char *rootfs, const char *procfs,
			     const char *devfs);
/* Open the collector and watch its fd in LOOP. Returns 0 or -errno (logged; the daemon goes on). */
int am_oom_source_start(struct am_oom_source *x, struct am_loop *loop);
/* Where event lines go (OUT NULL: nowhere) and the host they name. */
void am_oom_source_set_output(struct am_oom_source *x, struct am_jsonl *out, const char *host);
/* Append the per-cgroup kill counters and the collector's health to SET. */
void am_oom_source_metrics(struct am_oom_source *x, struct am_metric_set *set);
/* Deliver what is waiting, then detach and close. Safe when not running. */
void am_oom_source_stop(struct am_oom_source *x);
/* Release the counters and buffers (after the last stop). */
void am_oom_source_free(struct am_oom_source *x);

#endif
