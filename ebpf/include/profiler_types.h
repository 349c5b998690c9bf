/* CPU profiler: the key of the in-kernel sample counts and the per-CPU statistics slots. */
#ifndef ANTIMETAL_PROFILER_TYPES_H
#define ANTIMETAL_PROFILER_TYPES_H

#include "common.h"

/* Deepest stack recorded (the kernel's sysctl kernel.perf_event_max_stack defaults to 127). */
#define PROFILER_MAX_STACK_DEPTH 127
/* Most pids -p may name (the size of the pid filter map). */
#define PROFILER_MAX_PIDS 1024
/* Most cgroups --cgroup may name (the size of the cgroup filter map). */
#define PROFILER_MAX_CGROUPS 64
/* Levels of cgroup nesting the subtree filter searches (systemd and the kubelet nest fewer
 * than 10; user space refuses a --cgroup deeper than this). */
#define PROFILER_MAX_CGROUP_DEPTH 32

/* Samples are aggregated in the kernel: one counter per distinct key. Stacks are stored once
 * each in a hash map keyed by a 64-bit hash of their content (unlike a stack-trace map, two
 * stacks never evict each other: a full map is the only loss, and it is counted). */
struct profiler_key {
	unsigned int pid; /* tgid: the process */
	char comm[AM_TASK_COMM_LEN];
	int user_err;	/* 0: USER_STACK is valid; -1: not collected; else -errno */
	int kernel_err; /* likewise for KERNEL_STACK */
	int ns_pid;	/* the process in its own PID namespace (a container's getpid()) */
	unsigned long long user_stack; /* key in the stacks map */
	unsigned long long kernel_stack;
	/* Address of the process's mm: it changes at exec, so user space symbolizes with the
	 * mappings of the program that was running. */
	unsigned long long mm;
	unsigned long long cgroup_id; /* cgroup v2 id of the sampled task */
};

/* A process (or an exec'd one) seen for the first time: user space captures its mappings. */
struct profiler_newproc {
	unsigned int pid;
	unsigned int pad;
	unsigned long long mm;
};

/* A stack as stored: return addresses, innermost first, zero-filled after the last. */
struct profiler_stack {
	unsigned long long ips[PROFILER_MAX_STACK_DEPTH];
};

/* How user stacks are taken (profile --call-graph). */
enum profiler_call_graph {
	PROFILER_CG_FP = 0, /* frame pointers walked in the kernel, counted in the kernel */
	PROFILER_CG_DWARF, /* registers + top of the user stack copied out, unwound by user space */
	PROFILER_CG_AUTO,  /* both: the copy and the frame-pointer walk, user space picks */
};

/* Largest stack copy (profile --call-graph dwarf,SIZE); SIZE is a multiple of 8. */
#define PROFILER_COPY_MAX 32768
/* User registers in DWARF numbering (x86_64: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip). */
#define PROFILER_NREGS 17

/* profiler_sample.flags */
#define PROFILER_SF_REGS_USER  0x1  /* registers from the interrupted user context */
#define PROFILER_SF_REGS_TASK  0x2  /* sampled in the kernel: the task's saved user registers */
#define PROFILER_SF_NO_REGS    0x4  /* sampled in the kernel, user registers unavailable (< 5.15) */
#define PROFILER_SF_COPY_FAIL  0x8  /* not one byte of the stack could be read */
#define PROFILER_SF_COPY_SHORT 0x10 /* fewer bytes than asked: the stack's readable end */

/* One sample with a copied user stack (dwarf and auto modes), sent to user space as it is
 * taken: this header, then STACK_LEN bytes (only those copied). Kernel stacks stay in the
 * kernel (in the stacks map, as the frame-pointer path keeps them). Fields are added at the
 * end of the header only (user space checks HDR_SIZE). */
struct profiler_sample {
	unsigned int hdr_size; /* sizeof(struct profiler_sample) as the program was built */
	unsigned int flags;    /* PROFILER_SF_* */
	unsigned int pid;      /* tgid */
	unsigned int tid;
	char comm[AM_TASK_COMM_LEN];
	unsigned long long mm;
	unsigned long long cgroup_id; /* bpf_get_current_cgroup_id (0 where not available) */
	int kernel_err;		      /* as profiler_key's */
	int user_err;		      /* the frame-pointer walk (auto only; -1: not taken) */
	unsigned long long kernel_stack;
	unsigned long long user_stack; /* auto: the frame-pointer walk in the stacks map */
	unsigned long long regs[PROFILER_NREGS];
	unsigned int stack_len; /* bytes of STACK, a multiple of 8 */
	int ns_pid;		/* as profiler_key's */
	/* followed by STACK_LEN bytes: the user stack from regs[7] (rsp) up */
};

/* Indexes of the per-CPU statistics array: every sample the program sees lands in exactly one
 * of the "outcome" slots (IDLE, FILTERED, COUNTED, COUNTS_FULL, SENT, SEND_FAILED), and stack-walk
 * results are counted separately, so nothing is dropped without a trace. */
enum profiler_stat {
	PROFILER_STAT_SEEN = 0,	      /* program invocations */
	PROFILER_STAT_IDLE,	      /* dropped: idle task (pid 0) and idle not asked for */
	PROFILER_STAT_FILTERED,	      /* dropped: pid or cgroup filter */
	PROFILER_STAT_COUNTED,	      /* aggregated into the counts map */
	PROFILER_STAT_COUNTS_FULL,    /* lost: the counts map was full */
	PROFILER_STAT_KSTACK_EMPTY,   /* no kernel stack: sample taken in user mode (-EFAULT) */
	PROFILER_STAT_KSTACK_FULL,    /* kernel stack lost: stacks map full */
	PROFILER_STAT_KSTACK_OTHER,   /* kernel stack lost: another error */
	PROFILER_STAT_USTACK_KTHREAD, /* no user stack: kernel thread */
	PROFILER_STAT_USTACK_EFAULT,  /* user stack lost: walk failed (-EFAULT) in a user task */
	PROFILER_STAT_USTACK_FULL,    /* user stack lost: stacks map full */
	PROFILER_STAT_USTACK_OTHER,   /* user stack lost: another error */
	PROFILER_STAT_NEWPID_LOST,    /* new-process notification could not be sent */
	PROFILER_STAT_SEEN_FULL,      /* not announced: the map of announced processes was full */
	PROFILER_STAT_SENT,	      /* sent to user space with a copied stack (dwarf, auto) */
	PROFILER_STAT_SEND_FAILED,    /* lost: the ring or perf buffer had no room */
	PROFILER_STAT_COPY_BYTES,     /* stack bytes copied (for the cost) */
	PROFILER_STAT_MAX,
};

#endif
