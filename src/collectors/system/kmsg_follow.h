/* Following the kernel log (/dev/kmsg) as a stream of records for export: every record from
 * a starting position on, its whole text with the kernel's escapes undone, and every record
 * the ring overwrote before it was read counted (sequence-number gaps). One reader of its own,
 * separate from the kmsg collector's counts and the OOM collector's kernel-log fallback: each
 * /dev/kmsg file descriptor has its own position. */
#ifndef ANTIMETAL_COLLECTORS_KMSG_FOLLOW_H
#define ANTIMETAL_COLLECTORS_KMSG_FOLLOW_H

#include <stdint.h>

#include "records/kmsg_event.h"

/* Called for each record, in the thread that consumes. E is valid only during the call. */
typedef void (*am_kmsg_follow_cb)(const struct am_kmsg_event *e, void *ctx);

enum am_kmsg_start {
	AM_KMSG_FROM_END = 0, /* only records written after open (the default) */
	AM_KMSG_FROM_START,   /* everything still in the ring, then new records */
	AM_KMSG_AFTER_SEQ,    /* records with a sequence number above after_seq (a resume) */
};

struct am_kmsg_follow_opts {
	const char *devfs; /* NULL: "/dev" */
	enum am_kmsg_start start;
	uint64_t after_seq;
	am_kmsg_follow_cb cb;
	void *ctx;
};

struct am_kmsg_follow_stats {
	uint64_t records;     /* delivered */
	uint64_t lost;	      /* overwritten by the kernel before they were read (seq gaps) */
	uint64_t overwritten; /* times a read found its position overwritten (EPIPE) */
	uint64_t malformed;   /* records that did not parse */
	uint64_t last_seq;
};

struct am_kmsg_follow;

/* Open DEVFS/kmsg at O's position. Returns 0 and *OUT, or -errno (logged, naming the path;
 * reading /dev/kmsg needs CAP_SYSLOG and a device cgroup that allows it). */
int am_kmsg_follow_open(const struct am_kmsg_follow_opts *o, struct am_kmsg_follow **out);
/* The descriptor that becomes readable when records are waiting (for epoll). */
int am_kmsg_follow_fd(const struct am_kmsg_follow *f);
/* Deliver what is waiting without blocking, at most a bounded number per call (a flood is
 * read over several calls). Returns the records delivered or -errno. */
int am_kmsg_follow_consume(struct am_kmsg_follow *f);
void am_kmsg_follow_stats(const struct am_kmsg_follow *f, struct am_kmsg_follow_stats *out);
/* Close and free. NULL is accepted. */
void am_kmsg_follow_close(struct am_kmsg_follow *f);

#endif
