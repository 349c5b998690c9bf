/* A CPU profile as the profiler collector delivers it and the exporters (folded, pprof, SVG)
 * render it: distinct stacks of symbolized frames with their sample counts, the mappings the
 * frames point into, how the profile was taken, and what it lost. Nothing here depends on the
 * BPF side or the symbolizer: the collector translates its counters into these fields. */
#ifndef ANTIMETAL_RECORDS_PROFILE_H
#define ANTIMETAL_RECORDS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for a task name with its NUL (the kernel's TASK_COMM_LEN). */
#define AM_PROFILE_COMM_LEN 16
/* A container id (64 hex digits) and a pod UID (8-4-4-4-12), without their NUL. */
#define AM_PROFILE_CONTAINER_ID_LEN 64
#define AM_PROFILE_POD_UID_LEN	    36

/* A source line of a frame: pprof's Line. */
struct am_profile_line {
	char *func;	   /* an inlined function (demangled); NULL: the frame's own FUNC */
	char *system_name; /* the mangled name FUNC was demangled from; NULL when it was not */
	char *file;	   /* source file, NULL when unknown */
	unsigned line;	   /* 0 when unknown */
};

/* One frame, symbolized. */
struct am_profile_frame {
	uint64_t addr;	   /* as sampled: kernel address or the process's virtual address */
	char *func;	   /* symbol name (demangled), "[unknown]" when none */
	char *system_name; /* the mangled name FUNC was demangled from; NULL when it was not */
	char *module;	   /* mapped file path, "[kernel.kallsyms]", "[vdso]", "" when unmapped */
	int mapping;	   /* index into am_profile.mappings, -1 when none */
	bool kernel;
	/* From DWARF, when the file has it: the innermost inlined function first, each next one
	 * the function it was inlined into, the last FUNC's own line. NULL/0 without. */
	struct am_profile_line *lines;
	size_t nlines;
};

/* One distinct stack with its sample count; frames are leaf first, kernel frames before the
 * user frames that led to them. */
struct am_profile_stack {
	uint32_t pid;
	uint32_t ns_pid; /* PID in the process's own PID namespace (== PID on the host; 0:
			    unknown) */
	char comm[AM_PROFILE_COMM_LEN];
	/* Who the samples belong to: the cgroup v2 the task ran in, its path relative to the
	 * cgroup2 mount (NULL when it could not be resolved, e.g. removed since; both 0/NULL
	 * on hosts without a cgroup2 mount), and what the
	 * path names: a container (64 hex digits, "" when none) and a kubelet pod ("" when
	 * none). */
	uint64_t cgroup_id;
	char *cgroup;
	char container_id[AM_PROFILE_CONTAINER_ID_LEN + 1];
	char pod_uid[AM_PROFILE_POD_UID_LEN + 1];
	uint64_t count;
	size_t nframes;
	struct am_profile_frame *frames;
	bool kstack_lost; /* a kernel stack was expected but the walk failed */
	bool ustack_lost; /* likewise for the user stack */
	bool ktruncated;  /* the kernel stack was cut at the frame limit: a "[truncated]" frame */
	bool utruncated;  /* likewise for the user stack */
};

/* A memory mapping frames point into (pprof's Mapping). */
struct am_profile_mapping {
	uint64_t start, limit, offset;
	char *file;
	char *build_id; /* hex, "" when unknown */
	bool has_functions;
};

/* Every sample the kernel side saw lands in exactly one of IDLE, FILTERED, COUNTED and the
 * lost part AM_PROFILE_LOST_COUNTS_FULL; the stack-walk outcomes are counted besides. */
struct am_profile_samples {
	uint64_t seen;		 /* program invocations */
	uint64_t idle;		 /* idle task skipped (include_idle off) */
	uint64_t filtered;	 /* dropped by the pid or cgroup filter */
	uint64_t counted;	 /* aggregated: the samples in the profile */
	uint64_t kstack_empty;	 /* no kernel stack: sampled in user mode (not a loss) */
	uint64_t ustack_kthread; /* no user stack: a kernel thread (not a loss) */
	uint64_t truncated;	 /* samples with a stack cut at the frame limit (--max-stack) */
};

/* The mmap side band (collectors/ebpf/sideband*.c): kernel records of every executable
 * mapping, so processes that exited before /proc could be read are still symbolized. Its
 * losses are parts of the profile's lost total. */
struct am_profile_sideband {
	bool active;	/* the dummy events were opened (only with user stacks) */
	bool disabled;	/* turned off on purpose (no_sideband or the environment) */
	int error;	/* why it could not be opened (-errno), 0 otherwise */
	int ncpus;	/* buffers opened */
	unsigned pages; /* data pages per buffer */
	bool build_ids; /* the kernel was asked for build-ids (5.12+) */
	uint64_t records, mmaps, execs, forks, exits; /* records read, by kind */
	unsigned captures; /* (pid, mm) generations captured or completed from the records */
	struct {
		unsigned files;	     /* mappings whose file was found and is the one mapped */
		unsigned missing;    /* file gone or unreadable: frames stay unknown */
		unsigned mismatched; /* another file there now: frames stay unknown */
	} files;
};

/* What a profile lost, one part per reason. The profile's lost total
 * (am_profile_lost_total) is the sum of every part: each counts one thing that should be in
 * the profile and is not, in the unit of its kind (am_profile_lost_kind):
 * - SAMPLES: samples not in the profile at all (exporters add them as a "[lost: ...]" entry);
 * - STACKS: samples in the profile whose kernel or user stack is missing (they carry a
 *   "[missing kernel stack]" / "[missing user stack]" frame) or, unwound from a copy, cut
 *   short (they end in a "[truncated]" frame);
 * - MAPPINGS: new-process notices or side-band mapping records lost: some frames of the
 *   processes they describe may stay "[unknown]". */
enum am_profile_lost_part {
	AM_PROFILE_LOST_COUNTS_FULL,	    /* samples: the counts map was full */
	AM_PROFILE_LOST_KSTACK_FULL,	    /* kernel stacks: the stacks map was full */
	AM_PROFILE_LOST_KSTACK_OTHER,	    /* kernel stacks: another error */
	AM_PROFILE_LOST_USTACK_EFAULT,	    /* user stacks: the walk failed */
	AM_PROFILE_LOST_USTACK_FULL,	    /* user stacks: the stacks map was full */
	AM_PROFILE_LOST_USTACK_OTHER,	    /* user stacks: another error */
	AM_PROFILE_LOST_NOTICE_UNSENT,	    /* new-process notices the kernel could not send */
	AM_PROFILE_LOST_NOTICE_DROPPED,	    /* new-process notices lost in the perf buffer */
	AM_PROFILE_LOST_ANNOUNCED_FULL,	    /* new processes not announced: the map was full */
	AM_PROFILE_LOST_SIDEBAND_DROPPED,   /* side-band records the kernel dropped: buffer full */
	AM_PROFILE_LOST_SIDEBAND_MALFORMED, /* side-band records too short or garbled */
	AM_PROFILE_LOST_SIDEBAND_BOUND,	    /* side-band records over the tracker's memory bound */
	/* --call-graph dwarf and auto (copied user stacks unwound in user space): */
	AM_PROFILE_LOST_COPY_UNSENT,	  /* samples: the ring or perf buffer had no room */
	AM_PROFILE_LOST_COPY_DROPPED,	  /* samples: the perf buffer dropped records */
	AM_PROFILE_LOST_COPY_MALFORMED,	  /* samples: a record too short or garbled */
	AM_PROFILE_LOST_UNWOUND_FULL,	  /* samples: the table of unwound stacks was full */
	AM_PROFILE_LOST_DEFER_FULL,	  /* samples: too many waiting for their mappings */
	AM_PROFILE_LOST_USER_REGS,	  /* user stacks: no user registers (kernel < 5.15) */
	AM_PROFILE_LOST_COPY_FAILED,	  /* user stacks: the stack could not be read */
	AM_PROFILE_LOST_UNWIND_TRUNCATED, /* user stacks cut: deeper than the bytes copied */
	AM_PROFILE_LOST_UNWIND_NO_CFI,	  /* user stacks cut: an address without CFI */
	AM_PROFILE_LOST_UNWIND_FAILED,	  /* user stacks cut: unwinding stopped early */
	AM_PROFILE_LOST_MAX,
};

enum am_profile_lost_kind {
	AM_PROFILE_LOST_SAMPLES,
	AM_PROFILE_LOST_STACKS,
	AM_PROFILE_LOST_MAPPINGS,
};

/* How user stacks were taken (--call-graph) and what the copies cost. */
struct am_profile_call_graph {
	char mode[8];		 /* "fp", "dwarf", "auto" */
	unsigned copy_size;	 /* stack bytes copied per sample (dwarf/auto), 0 with fp */
	unsigned user_max_stack; /* frames kept per user stack */
	uint64_t sent;		 /* samples sent with a copied stack */
	uint64_t copied_bytes;	 /* stack bytes the kernel copied */
	uint64_t unwound;	 /* user stacks taken from the unwinder */
	uint64_t reached_entry;	 /* of those, unwound to the outermost frame */
	uint64_t fp_fallback;	 /* auto: user stacks taken from the frame-pointer walk */
	uint64_t unwind_ns;	 /* user space's time unwinding and counting */
};

struct am_profile {
	char event[32];		  /* the event sampled (after any fallback) */
	char requested_event[32]; /* the event asked for */
	bool fell_back;		  /* a hardware event was replaced by cpu-clock */
	uint64_t freq, period;	  /* as configured: one of them is nonzero */
	char attach[8];		  /* "link" or "ioctl": how the program was attached */
	int ncpus;		  /* perf events opened */
	uint64_t start_ns;	  /* CLOCK_REALTIME at the start */
	uint64_t duration_ns;
	uint64_t total;	    /* samples in STACKS */
	unsigned max_stack; /* frames kept per kernel and per user stack */
	struct am_profile_samples samples;
	uint64_t lost[AM_PROFILE_LOST_MAX]; /* by part; see am_profile_lost_total */
	struct am_profile_sideband sideband;
	struct am_profile_call_graph call_graph;
	struct am_profile_stack *stacks;
	size_t nstacks;
	struct am_profile_mapping *mappings;
	size_t nmappings;
};

/* The profile's lost total: the sum of every part of PROF->lost. */
uint64_t am_profile_lost_total(const struct am_profile *prof);
/* The sum of the parts of KIND. */
uint64_t am_profile_lost_of_kind(const struct am_profile *prof, enum am_profile_lost_kind kind);
/* The kind of PART. */
enum am_profile_lost_kind am_profile_lost_kind(enum am_profile_lost_part part);
/* Human name of PART ("samples lost: counts map full"); "?" out of range. */
const char *am_profile_lost_name(enum am_profile_lost_part part);
/* The reason alone ("counts map full"), for labels that already say what was lost. */
const char *am_profile_lost_reason(enum am_profile_lost_part part);

/* The label a frame has in every output: the function, or "[unknown] (module)" for a frame
 * that could not be symbolized. Returns BUF. */
const char *am_profile_frame_label(const struct am_profile_frame *f, char *buf, size_t len);

/* Release a frame's source lines. */
void am_profile_frame_free_lines(struct am_profile_frame *f);
/* Release a profile's contents. */
void am_profile_free(struct am_profile *prof);

#endif
