/* execsnoop collector: every execve/execveat on the host (and optionally every process exit),
 * delivered as struct am_exec_record to a callback. Life cycle, as in libbpf-tools:
 * open (checks, set rodata, load, attach) -> poll/consume -> close. Never prints. */
#ifndef ANTIMETAL_COLLECTORS_EXECSNOOP_H
#define ANTIMETAL_COLLECTORS_EXECSNOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "records/exec_event.h"

struct am_execsnoop;

/* Called for each record, in the thread that polls. REC is valid only during the call. */
typedef void (*am_exec_cb)(const struct am_exec_record *rec, void *ctx);

enum am_execsnoop_buffer {
	AM_EXECSNOOP_BUF_AUTO = 0, /* ring buffer where the kernel has one, else perf buffer */
	AM_EXECSNOOP_BUF_RINGBUF,
	AM_EXECSNOOP_BUF_PERFBUF,
};

struct am_execsnoop_opts {
	am_exec_cb cb;
	void *ctx;
	const char *btf_path; /* NULL: native BTF */
	enum am_execsnoop_buffer buffer;
	bool exits;	  /* also deliver process exits */
	bool failed_only; /* only execs that failed */
	bool filter_uid;
	uint32_t uid;
	const char *comm;   /* only this comm (after the exec); NULL: any */
	const char *cgroup; /* only this cgroup v2 directory; NULL: any */
	uint32_t max_args;  /* 0: AM_EXECSNOOP_DEFAULT_MAX_ARGS; at most AM_EXECSNOOP_MAX_ARGS */
	uint32_t max_args_size; /* 0: AM_EXECSNOOP_DEFAULT_ARGS_SIZE; at most ..._MAX_ARGS_SIZE */
	bool resolve_cgroups;	/* fill cgroup_path and container_id */
	uint32_t ringbuf_bytes; /* 0: default (4 MiB) */
	uint32_t perfbuf_pages; /* per CPU; 0: default (128) */
};

/* Limits of the compiled program, and the defaults it applies. */
#define AM_EXECSNOOP_MAX_ARGS	       256
#define AM_EXECSNOOP_MAX_ARGS_SIZE     15360
#define AM_EXECSNOOP_DEFAULT_MAX_ARGS  64
#define AM_EXECSNOOP_DEFAULT_ARGS_SIZE 4096

/* Validate OPTS, then open, load and attach. Returns 0 and *OUT, or -errno with the reason
 * logged and nothing left attached. */
int am_execsnoop_open(const struct am_execsnoop_opts *opts, struct am_execsnoop **out);
/* A file descriptor that becomes readable when records are waiting (for poll/epoll). */
int am_execsnoop_fd(const struct am_execsnoop *s);
/* Deliver what is waiting without blocking. Returns records delivered or -errno. */
int am_execsnoop_consume(struct am_execsnoop *s);
/* Wait up to TIMEOUT_MS for records and deliver them. Returns records delivered or -errno. */
int am_execsnoop_poll(struct am_execsnoop *s, int timeout_ms);
/* Tell the kernel whether the caller is sleeping between batches (true) or about to wait on
 * am_execsnoop_fd (false): while batching, records are written without waking the reader.
 * Call with false, then consume (am_execsnoop_poll does), before waiting on the fd: records
 * written without a wakeup do not make the fd readable. */
void am_execsnoop_set_batching(struct am_execsnoop *s, bool batching);
/* Counters so far, kernel per-CPU counters summed. */
void am_execsnoop_stats(struct am_execsnoop *s, struct am_execsnoop_stats *out);
/* True when the ring buffer is in use, false for the perf buffer. */
bool am_execsnoop_uses_ringbuf(const struct am_execsnoop *s);
/* Detach and free everything. NULL is accepted. */
void am_execsnoop_close(struct am_execsnoop *s);

#endif
