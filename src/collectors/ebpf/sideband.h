/* The profiler's mapping side band, perf's way: one dummy software event per online CPU
 * (PERF_COUNT_SW_DUMMY, which never samples) asks the kernel for PERF_RECORD_MMAP2, COMM (exec
 * flagged), FORK and EXIT records in a ring buffer of its own. The kernel writes MMAP2 while the
 * mapping is made, so the executable mappings of a process are known even when it exited before
 * user space could read /proc/PID/maps; am_sideband_maps gives them for one (pid, mm) generation
 * in the form am_usym_capture_maps takes.
 *
 * Every record carries perf's sample_id trailer {u32 pid, tid; u64 time} (sample_type TID|TIME,
 * sample_id_all), time on CLOCK_MONOTONIC (use_clockid), the clock the profiler's new-process
 * notifications are stamped with too. */
#ifndef ANTIMETAL_COLLECTORS_PROFILER_MMAP_H
#define ANTIMETAL_COLLECTORS_PROFILER_MMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize/usym.h"

struct am_sideband;

struct am_sideband_opts {
	const uint32_t *pids; /* keep only these processes (tgids); none: every process */
	size_t npids;
	unsigned pages;	  /* data pages per CPU (a power of 2), 0: 64 (256 KiB) */
	bool no_build_id; /* do not ask for build-ids (the path of kernels before 5.12) */
};

struct am_sideband_stats {
	uint64_t records;   /* records read */
	uint64_t mmaps;	    /* executable mappings kept */
	uint64_t execs;	    /* COMM records flagged PERF_RECORD_MISC_COMM_EXEC */
	uint64_t forks;	    /* FORK records of new processes (not threads) */
	uint64_t exits;	    /* EXIT records of processes */
	uint64_t lost;	    /* records the kernel dropped, buffer full (PERF_RECORD_LOST) */
	uint64_t malformed; /* records too short or garbled: skipped */
	uint64_t dropped;   /* records not kept: the tracker reached its memory bound */
	int ncpus;	    /* buffers opened */
	unsigned pages;	    /* data pages per buffer */
	bool build_ids;	    /* the kernel was asked for build-ids in MMAP2 (5.12+) */
};

/* Sizes of the records' fixed parts, for parsers and tests (the layouts documented in
 * linux/perf_event.h, which declares no structs for them). */
struct am_sideband_sample_id {
	uint32_t pid, tid;
	uint64_t time;
};

/* Open one dummy event per online CPU and map its buffer. Returns 0, or -errno without
 * logging (the caller decides how loud: the profiler goes on without a side band). */
int am_sideband_open(const struct am_sideband_opts *o, struct am_sideband **out);
/* A tracker with no events, fed by am_sideband_feed (tests). NULL on allocation failure. */
struct am_sideband *am_sideband_new(const struct am_sideband_opts *o);
/* Close the events, unmap the buffers and free every record; NULL is fine. */
void am_sideband_close(struct am_sideband *t);

/* An epoll fd that becomes readable when a buffer is a quarter full; -1 without events. */
int am_sideband_fd(const struct am_sideband *t);
/* Read every buffer to its end. Returns the number of records read. */
int am_sideband_read(struct am_sideband *t);
/* Parse and keep one record (a perf_event_header and what follows, LEN bytes). Returns 0,
 * -EINVAL for a truncated or garbled record (counted as malformed). */
int am_sideband_feed(struct am_sideband *t, const void *rec, size_t len);

/* The profiler announced (PID, MM) at TIME_NS (its first sample with that mm). */
void am_sideband_announce(struct am_sideband *t, uint32_t pid, uint64_t mm, uint64_t time_ns);
/* Samples of (PID, MM) were taken with the task name COMM (it tells an exec apart, see
 * bind_epoch in sideband_epochs.c). */
void am_sideband_note_comm(struct am_sideband *t, uint32_t pid, uint64_t mm, const char *comm);

/* The executable mappings generation MM of PID had: those made since the exec (or fork) that
 * began it, a forked process's inherited from its parent, later ones replacing what they
 * overlap. Sorted by address, not overlapping. Returns 0 with *MAPS (free with
 * am_sideband_maps_free) and *N, which is 0 when nothing is known of PID; -ENOMEM. */
int am_sideband_maps(struct am_sideband *t, uint32_t pid, uint64_t mm,
		     struct am_usym_rec_map **maps, size_t *n);
void am_sideband_maps_free(struct am_usym_rec_map *maps, size_t n);

void am_sideband_stats(const struct am_sideband *t, struct am_sideband_stats *out);

#endif
