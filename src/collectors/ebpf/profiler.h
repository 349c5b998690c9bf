/* The CPU profiler collector: one perf event per online CPU running profiler.bpf.c, samples
 * aggregated in the kernel, read back at the end into symbolized stacks (struct am_profile)
 * that the exporters (folded, pprof, SVG) render. It never prints. */
#ifndef ANTIMETAL_COLLECTORS_PROFILER_H
#define ANTIMETAL_COLLECTORS_PROFILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/ebpf/sideband.h"
#include "core/perf_attach.h"
#include "profiler_types.h"
#include "symbolize/usym.h"

struct am_profiler_opts {
	const char *event; /* perf event name, "cpu-clock" when NULL */
	uint64_t freq;	   /* samples per second per CPU; 0 when PERIOD is used */
	uint64_t period;   /* events per sample (perf -c) when FREQ is 0 */
	bool no_fallback;  /* a missing hardware event is an error, not cpu-clock */
	enum am_attach_mode attach;
	const uint32_t *pids; /* processes to profile (tgids); none: every process */
	size_t npids;
	bool filter_cgroup;
	uint64_t cgroup_id;	/* cgroup v2 id (the directory's inode number) */
	bool kernel_stacks;	/* collect kernel stacks */
	bool user_stacks;	/* collect user stacks */
	bool include_idle;	/* keep samples of the idle task (pid 0) */
	bool no_demangle;	/* keep C++/Rust user symbols mangled (perf --no-demangle) */
	const char *btf_path;	/* external BTF, NULL for the kernel's own */
	struct am_usym *usym;	/* a symbolizer to reuse across profiles (its file cache stays
				   warm; processes are captured afresh), NULL: a private one */
	uint32_t stack_entries; /* distinct stacks kept, 0: 16384 (about 1 KiB each) */
	uint32_t count_entries; /* distinct (pid, comm, stacks) counted, 0: 4 x stack_entries */
	bool no_sideband;	/* no mmap side band: mappings from /proc only (as does the
				   environment variable ANTIMETAL_PROFILER_NO_SIDEBAND=1) */
};

/* One frame, symbolized. */
struct am_profile_frame {
	uint64_t addr;	   /* as sampled: kernel address or the process's virtual address */
	char *func;	   /* symbol name (demangled), "[unknown]" when none */
	char *system_name; /* the mangled name FUNC was demangled from; NULL when it was not */
	char *module;	   /* mapped file path, "[kernel.kallsyms]", "[vdso]", "" when unmapped */
	int mapping;	   /* index into am_profile.mappings, -1 when none */
	bool kernel;
};

/* One distinct stack with its sample count; frames are leaf first, kernel frames before the
 * user frames that led to them. */
struct am_profile_stack {
	uint32_t pid;
	char comm[AM_TASK_COMM_LEN];
	uint64_t count;
	size_t nframes;
	struct am_profile_frame *frames;
	bool kstack_lost; /* a kernel stack was expected but the walk failed */
	bool ustack_lost; /* likewise for the user stack */
};

/* A memory mapping frames point into (pprof's Mapping). */
struct am_profile_mapping {
	uint64_t start, limit, offset;
	char *file;
	char *build_id; /* hex, "" when unknown */
	bool has_functions;
};

/* The mmap side band of a profile (sideband.c): kernel records of every executable
 * mapping, so processes that exited before /proc could be read are still symbolized. */
struct am_profile_sideband {
	bool active;   /* the dummy events were opened (only with user stacks) */
	bool disabled; /* turned off on purpose (opts.no_sideband or the environment) */
	int error;     /* why it could not be opened (-errno), 0 otherwise */
	struct am_sideband_stats stats;
	unsigned captures; /* (pid, mm) generations captured or completed from records */
	struct am_usym_rec_stats files; /* their files: found, missing, replaced */
};

struct am_profile {
	char event[32];		    /* the event sampled (after any fallback) */
	char requested_event[32];   /* the event asked for */
	bool fell_back;		    /* a hardware event was replaced by cpu-clock */
	uint64_t freq, period;	    /* as configured: one of them is nonzero */
	enum am_attach_mode attach; /* LINK or IOCTL as used */
	int ncpus;		    /* perf events opened */
	uint64_t start_ns;	    /* CLOCK_REALTIME at the start */
	uint64_t duration_ns;
	uint64_t total;			   /* samples in STACKS */
	uint64_t stats[PROFILER_STAT_MAX]; /* the kernel side's counters, summed over CPUs */
	uint64_t newpid_lost;		   /* notifications lost in the perf buffer */
	struct am_profile_sideband sideband;
	struct am_profile_stack *stacks;
	size_t nstacks;
	struct am_profile_mapping *mappings;
	size_t nmappings;
};

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

/* Detach, read the counts and stacks and symbolize them into OUT. Returns 0 or -errno
 * (logged). */
int am_profiler_collect(struct am_profiler *p, struct am_profile *out);

/* Detach everything and unload; NULL is fine. */
void am_profiler_close(struct am_profiler *p);

/* The label a frame has in every output: the function, or "[unknown] (module)" for a frame
 * that could not be symbolized. Returns BUF. */
const char *am_profile_frame_label(const struct am_profile_frame *f, char *buf, size_t len);

/* Release a profile's contents. */
void am_profile_free(struct am_profile *prof);

/* Human names of the statistics slots ("user stack lost: map full"). */
const char *am_profiler_stat_name(enum profiler_stat s);

#endif
