/* execsnoop inside the daemon: its buffer fd is one more source of the event loop; every
 * exec becomes a JSON line ({"type":"event","source":"execsnoop",...}) when JSON lines are
 * on and an OTLP log record when OTLP logs are on (exits too, when asked), and is always
 * counted for /metrics, with the BPF side's drops. */
#ifndef ANTIMETAL_AGENT_EXEC_SOURCE_H
#define ANTIMETAL_AGENT_EXEC_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/loop.h"
#include "agent/otlp_logs_source.h"
#include "collectors/ebpf/execsnoop.h"
#include "records/metric.h"
#include "export/jsonl.h"
#include "util/strbuf.h"

struct am_exec_source {
	struct am_execsnoop *snoop; /* NULL when not running */
	struct am_loop_source *src;
	struct am_loop *loop;
	struct am_jsonl *out; /* NULL: count only */
	const char *host;
	uint64_t execs, failed_execs; /* since the agent started */
	uint64_t base_drops;	      /* drops of execsnoop instances closed before this one */
	struct am_strbuf line, event;
	int start_error;      /* 0, or why it could not start */
	const char *btf_path; /* external BTF, NULL: native */
	/* OTLP logs: every exec (and exit, when EXITS) also goes there; NULL: not exported. */
	struct am_otlp_logs_source *logs;
	bool exits; /* ask execsnoop for exits too (read at start) */
	uint64_t exits_seen;
};

/* Open execsnoop and watch its fd in LOOP. Returns 0 or -errno (logged; the daemon goes on). */
int am_exec_source_start(struct am_exec_source *x, struct am_loop *loop);
/* Where event lines go (OUT NULL: nowhere) and the host they name. */
void am_exec_source_set_output(struct am_exec_source *x, struct am_jsonl *out, const char *host);
/* Append the execsnoop counters and its BPF drops to SET. */
void am_exec_source_metrics(struct am_exec_source *x, struct am_metric_set *set);
/* Deliver what is still buffered, then detach and close. Safe when not running. */
void am_exec_source_stop(struct am_exec_source *x);
/* Release the buffers (after the last stop). */
void am_exec_source_free(struct am_exec_source *x);

#endif
