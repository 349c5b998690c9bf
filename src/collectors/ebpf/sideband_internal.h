/* What the side band's files share (sideband.c reads and parses the records,
 * sideband_procs.c keeps them per process, sideband_epochs.c binds a (pid, mm) to
 * its exec and lists its mappings); not for anyone else: the API is sideband.h. */
#ifndef ANTIMETAL_COLLECTORS_PROFILER_MMAP_INTERNAL_H
#define ANTIMETAL_COLLECTORS_PROFILER_MMAP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/ebpf/sideband.h"
#include "core/perf_ring.h"

#define MAX_COMMS    4 /* task names remembered per (pid, mm) */
#define TIME_UNKNOWN UINT64_MAX

enum item_kind { IT_EXEC, IT_FORK, IT_MAP }; /* boundaries sort before mappings at one time */

/* One event in a process's history. */
struct item {
	uint64_t time;
	uint32_t seq; /* arrival order: ties keep it */
	uint8_t kind; /* enum item_kind */
	uint8_t bid_len;
	uint32_t ppid;			 /* FORK: the parent */
	uint64_t start, end, pgoff, ino; /* MAP */
	const char *path;		 /* MAP: interned */
	union {
		uint8_t bid[20]; /* MAP: build-id when BID_LEN */
		char comm[16];	 /* EXEC: the new program's name */
	};
};

/* One (pid, mm) the profiler announced, with the task names its samples had. */
struct ann {
	uint64_t mm, time; /* TIME_UNKNOWN: only seen in the counts (notification lost) */
	char comms[MAX_COMMS][16];
	unsigned ncomms;
};

struct proc {
	uint32_t pid;
	bool sorted, exited;
	struct item *items;
	size_t n, cap;
	struct ann *anns;
	size_t nanns, anncap;
};

struct am_sideband {
	uint32_t *pids; /* sorted */
	size_t npids;
	struct am_perf_rings *rings; /* NULL: no events (am_sideband_new) */
	struct proc *procs;
	size_t nprocs, proccap;
	uint32_t *index; /* open addressing: pid -> 1 + position in procs; 0 empty */
	size_t indexcap;
	char **strs; /* interned paths, open addressing */
	size_t nstrs, strcap;
	size_t nitems;
	uint32_t seq;
	struct am_sideband_stats st;
};

/* The process table (sideband_procs.c). */
struct proc *am_sb_find(const struct am_sideband *t, uint32_t pid);
struct proc *am_sb_find_or_add(struct am_sideband *t, uint32_t pid);
void am_sb_proc_free(struct proc *p);
/* The one copy of S the tracker keeps; NULL on allocation failure. */
const char *am_sb_intern(struct am_sideband *t, const char *s);
/* Whether PID passes the pid filter. */
bool am_sb_wanted(const struct am_sideband *t, uint32_t pid);
/* Keep IT for PID. Returns 0, or -ENOSPC/-ENOMEM (counted as dropped). */
int am_sb_add_item(struct am_sideband *t, uint32_t pid, struct item *it);

#endif
