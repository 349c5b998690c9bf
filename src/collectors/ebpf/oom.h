/* OOM collector: every OOM kill on the host as a struct am_oom_event, from the oom:mark_victim
 * tracepoint through BPF, or, where the tracepoint or BPF is missing (or when asked), from the
 * kernel log's OOM-killer lines in /dev/kmsg. Life cycle: open -> consume on fd readiness ->
 * close. Never prints. */
#ifndef ANTIMETAL_COLLECTORS_OOM_H
#define ANTIMETAL_COLLECTORS_OOM_H

#include <stdint.h>

#include "records/oom_event.h"

struct am_oom;

/* Called for each kill, in the thread that consumes. EV is valid only during the call. */
typedef void (*am_oom_cb)(const struct am_oom_event *ev, void *ctx);

enum am_oom_mode {
	AM_OOM_AUTO = 0, /* BPF, else the kernel log */
	AM_OOM_BPF,	 /* BPF only */
	AM_OOM_KMSG,	 /* the kernel log only */
};

struct am_oom_opts {
	am_oom_cb cb;
	void *ctx;
	enum am_oom_mode mode;
	const char *btf_path; /* NULL: native BTF */
	const char *procfs;   /* NULL: /proc (mountinfo, /proc/PID/cgroup) */
	const char *devfs;    /* NULL: /dev (kmsg) */
	const char *rootfs;   /* NULL: /; prefixes the cgroup mount points found in mountinfo */
};

struct am_oom_stats {
	uint64_t events;	   /* kills delivered */
	uint64_t output_failures;  /* BPF: ring buffer full, kill lost */
	uint64_t malformed;	   /* records or OOM-killer lines that did not parse */
	uint64_t kmsg_overwritten; /* kmsg: the kernel overwrote records before they were read */
};

/* Open in OPTS->mode. Returns 0 and *OUT, or -errno with the reason logged. */
int am_oom_open(const struct am_oom_opts *opts, struct am_oom **out);
/* A file descriptor that becomes readable when kills are waiting (for poll/epoll). */
int am_oom_fd(const struct am_oom *o);
/* Deliver what is waiting without blocking. Returns kills delivered or -errno. */
int am_oom_consume(struct am_oom *o);
/* "bpf" or "kmsg": where kills come from. */
const char *am_oom_origin_name(const struct am_oom *o);
/* Counters so far. */
void am_oom_stats(struct am_oom *o, struct am_oom_stats *out);
/* Detach and free everything. NULL is accepted. */
void am_oom_close(struct am_oom *o);

#endif
