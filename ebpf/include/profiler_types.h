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

/* Indexes of the per-CPU statistics array: every sample the program sees lands in exactly one
 * of the "outcome" slots (IDLE, FILTERED, COUNTED, COUNTS_FULL), and stack-walk results are
 * counted separately, so nothing is dropped without a trace. */
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
	PROFILER_STAT_MAX,
};

#endif
