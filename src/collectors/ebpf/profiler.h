/* The CPU profiler collector: one perf event per online CPU running profiler.bpf.c, samples
 * aggregated in the kernel, read back at the end into symbolized stacks (struct am_profile,
 * records/profile.h) that the exporters (folded, pprof, SVG) render. It never prints. This file
 * (profiler.c) is the BPF life cycle; profile_build.c turns the maps into the record. */
#ifndef ANTIMETAL_COLLECTORS_PROFILER_H
#define ANTIMETAL_COLLECTORS_PROFILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/perf_attach.h"
#include "profiler_types.h" /* PROFILER_MAX_PIDS, PROFILER_MAX_CGROUPS: filter sizes */
#include "records/profile.h"
#include "symbolize/usym.h"

/* Distinct stacks kept in the kernel when the options do not say. */
#define AM_PROFILER_DEFAULT_STACKS 16384

/* How user stacks are taken (perf's --call-graph). */
enum am_call_graph {
	AM_CALL_GRAPH_FP = 0, /* frame pointers, walked and counted in the kernel */
	AM_CALL_GRAPH_DWARF,  /* registers + the top of the stack copied, unwound with CFI */
	AM_CALL_GRAPH_AUTO,   /* both: the unwound stack, or the frame-pointer walk where the
				 unwinder stopped short of the entry and the walk went deeper */
};

/* Bytes of user stack copied per sample with dwarf/auto: perf's default, and the limits. */
#define AM_PROFILER_COPY_DEFAULT 8192
#define AM_PROFILER_COPY_MAX	 32768
/* Deepest user stack the user-space unwinder keeps (--max-stack with dwarf/auto); the
 * sysctl kernel.perf_event_max_stack limits it further. */
#define AM_PROFILER_MAX_STACK_UNWIND 65535

/* Which buffer carries the copied stacks: the ring buffer where the kernel has one (5.8+),
 * else the perf buffer; tests force either. */
enum am_profiler_buffer {
	AM_PROFILER_BUF_AUTO = 0,
	AM_PROFILER_BUF_RINGBUF,
	AM_PROFILER_BUF_PERFBUF,
};

/* "fp", "dwarf", "dwarf,SIZE", "auto" or "auto,SIZE" (SIZE in bytes, a multiple of 8 from 8
 * to AM_PROFILER_COPY_MAX) into *MODE and *SIZE (the default when not given). Returns 0 or
 * -EINVAL. */
int am_call_graph_parse(const char *s, enum am_call_graph *mode, uint32_t *size);
/* "fp", "dwarf", "auto". */
const char *am_call_graph_name(enum am_call_graph mode);

struct am_profiler_opts {
	const char *event; /* perf event name, "cpu-clock" when NULL */
	uint64_t freq;	   /* samples per second per CPU; 0 when PERIOD is used */
	uint64_t period;   /* events per sample (perf -c) when FREQ is 0 */
	bool no_fallback;  /* a missing hardware event is an error, not cpu-clock */
	enum am_attach_mode attach;
	const uint32_t *pids; /* processes to profile (tgids); none: every process */
	size_t npids;
	bool kernel_stacks; /* collect kernel stacks */
	bool user_stacks;   /* collect user stacks */
	bool include_idle;  /* keep samples of the idle task (pid 0) */
	bool no_demangle;   /* keep C++/Rust user symbols mangled (perf --no-demangle) */
	bool no_lines;	    /* no file:line or inlined functions from DWARF */
	uint32_t max_stack; /* frames kept per kernel and per user stack (perf --max-stack),
			       up to AM_PROFILER_MAX_STACK for kernel stacks and frame-pointer
			       user stacks, AM_PROFILER_MAX_STACK_UNWIND for unwound ones;
			       0: AM_PROFILER_MAX_STACK */
	enum am_call_graph call_graph; /* how user stacks are taken (library default: fp) */
	uint32_t copy_size;	       /* dwarf/auto: stack bytes copied, 0: the default */
	enum am_profiler_buffer buffer;
	bool no_task_regs;	/* tests: act as a kernel without bpf_task_pt_regs (before 5.15) */
	const char *btf_path;	/* external BTF, NULL for the kernel's own */
	struct am_usym *usym;	/* a symbolizer to reuse across profiles (its file cache stays
				   warm; processes are captured afresh), NULL: a private one */
	uint32_t stack_entries; /* distinct stacks kept (about 1 KiB each), 0: the default */
	uint32_t count_entries; /* distinct (pid, comm, stacks) counted, 0: 4 x stack_entries */
	bool no_sideband;	/* no mmap side band: mappings from /proc only (as does the
				   environment variable ANTIMETAL_PROFILER_NO_SIDEBAND=1) */

	/* cgroup v2 ids (the directories' inode numbers) to profile, each with every cgroup
	 * below it; none: every cgroup. */
	const uint64_t *cgroup_ids;
	size_t ncgroups;
	/* Find ancestors through CO-RE even where the kernel's helper exists (as does
	 * ANTIMETAL_PROFILER_CGROUP_WALK=1): the fallback, for tests. */
	bool cgroup_walk;
};

/* Resolve ARG as a cgroup subtree the profiler filters on (profile --cgroup, the daemon's
 * profiler.cgroups): a cgroup v2 directory, absolute or relative to the cgroup2 mount, less
 * than PROFILER_MAX_CGROUP_DEPTH levels below it. Returns 0 with its id in ID, or -EINVAL with
 * the reason, naming ARG, in WHY. */
int am_profiler_cgroup_resolve(const char *arg, uint64_t *id, char *why, size_t whylen);

/* The deepest stack the BPF program can keep (its buffer); kernel.perf_event_max_stack
 * limits it further. */
#define AM_PROFILER_MAX_STACK 127

struct am_profiler;

/* Load the program, open one perf event per online CPU and attach. Returns 0 or -errno with
 * the reason logged: -EOPNOTSUPP when the event cannot be counted here and fallback is off,
 * -EACCES/-EPERM naming the missing capability or sysctl. */
int am_profiler_open(const struct am_profiler_opts *opts, struct am_profiler **out);

/* The caller's event loop drives the profiler (collectors never own a loop): an fd that
 * becomes readable when new-process notifications or mmap side-band records wait, and the
 * call that handles them (captures the processes' mappings, reads the records). Call it when
 * the fd is readable and also now and then (the CLI: every second), which keeps the side
 * band's buffers emptier. Returns the fd; am_profiler_handle_notices returns 0 or -errno. */
int am_profiler_notify_fd(const struct am_profiler *p);
int am_profiler_handle_notices(struct am_profiler *p);

/* Samples counted so far (for a progress line). */
uint64_t am_profiler_samples(struct am_profiler *p);

/* Detach, read the counts and stacks and symbolize them into OUT (its lost parts included).
 * Returns 0 or -errno (logged). */
int am_profiler_collect(struct am_profiler *p, struct am_profile *out);

/* Detach everything and unload; NULL is fine. */
void am_profiler_close(struct am_profiler *p);

#endif
