/* The profiler's copied user stacks (--call-graph dwarf and auto): each record the BPF program
 * sends (struct profiler_sample: user registers and the top of the user stack) is unwound with
 * the binaries' CFI (symbolize/unwind.h) against the process's captured mappings and counted,
 * keyed as the kernel keys its own counts (pid, comm, mm, kernel stack, user frames), in a
 * table of bounded size the profile is then built from. A record of a process whose mappings
 * are not captured yet (and cannot be: it is gone and the side band does not know it) waits,
 * within a byte bound, until the end of the profile. Internal to the profiler. */
#ifndef ANTIMETAL_COLLECTORS_PROFILE_UNWIND_H
#define ANTIMETAL_COLLECTORS_PROFILE_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/ebpf/sideband.h"
#include "profiler_types.h"
#include "records/profile.h"
#include "symbolize/unwind.h"
#include "symbolize/usym.h"

struct am_punw_opts {
	enum profiler_call_graph mode; /* PROFILER_CG_DWARF or PROFILER_CG_AUTO */
	unsigned max_frames;	       /* user frames kept (--max-stack) */
	size_t max_entries;	       /* distinct keys counted; a sample with a new key past it
					  is lost (counted) */
	size_t defer_bytes;	       /* records kept waiting for their mappings */
	int stacks_fd;		       /* the BPF stacks map (auto: the frame-pointer walks) */
	struct am_usym *usym;
	struct am_sideband *sb;		    /* NULL: mappings from /proc only */
	unsigned *sb_captures;		    /* generations captured from the side band */
	struct am_usym_rec_stats *sb_files; /* their files */
};

/* One distinct key with its count. */
struct am_punw_entry {
	struct profiler_key key; /* user_stack unused; user_err 0 when PCS hold the user stack */
	uint64_t cgroup_id;
	uint64_t count;
	uint64_t hash;
	uint64_t *pcs; /* user frames, innermost first (the first is the sampled ip) */
	uint32_t npcs;
	bool utruncated; /* cut: deeper than the copy, or than max_frames */
};

/* What the records came to. The lost parts are added to a profile's by am_punw_losses. */
struct am_punw_stats {
	uint64_t records;		 /* records read */
	uint64_t bytes;			 /* stack bytes in them */
	uint64_t counted;		 /* samples counted in the table */
	uint64_t dwarf;			 /* user stacks from the unwinder */
	uint64_t fp;			 /* auto: user stacks from the frame-pointer walk instead */
	uint64_t deferred;		 /* records that waited for their mappings */
	uint64_t malformed;		 /* records too short or with a bad length */
	uint64_t ns;			 /* time spent unwinding and counting */
	uint64_t stop[AM_UNWIND_NSTOPS]; /* unwinder results, of the stacks kept */
	uint64_t lost[AM_PROFILE_LOST_MAX];
};

struct am_punw;

/* A table with OPTS. Returns 0 or -ENOMEM (logged). */
int am_punw_new(const struct am_punw_opts *opts, struct am_punw **out);
void am_punw_free(struct am_punw *p);

/* One record as the buffer delivered it (SIZE bytes). Never fails: a sample that cannot be
 * counted (malformed, table full, no memory) is counted as lost. */
void am_punw_add(struct am_punw *p, const void *rec, size_t size);
/* N records the perf buffer dropped (PERF_RECORD_LOST). */
void am_punw_dropped(struct am_punw *p, uint64_t n);
/* Unwind the records still waiting (at the end, after the final captures were tried). */
void am_punw_finish(struct am_punw *p);

/* The table: *N entries. */
const struct am_punw_entry *am_punw_entries(const struct am_punw *p, size_t *n);
const struct am_punw_stats *am_punw_stats(const struct am_punw *p);

#endif
