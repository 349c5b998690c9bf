/* Records of the oom program, shared by ebpf/src/oom.bpf.c and src/collectors/ebpf/oom.c.
 * Fixed-width types only: the layout is checked against the object's BTF by
 * `make generate-ebpf-types`. */
#ifndef ANTIMETAL_OOM_TYPES_H
#define ANTIMETAL_OOM_TYPES_H

#include "common.h"

/* oom_victim.flags: which fields the kernel gave. */
enum oom_victim_flags {
	/* total_vm .. oom_score_adj and uid come from the tracepoint (5.19+ / backports); without
	 * them only pid is known. */
	OOM_F_MEMORY_FIGURES = 1 << 0,
	OOM_F_COMM_FROM_TP = 1 << 1, /* comm is the tracepoint's (the victim's own) */
	/* The task that ran the OOM killer is the victim itself: comm, cgroup ids and the memcg
	 * limit are the victim's. Otherwise they belong to the task that triggered the kill
	 * and user space looks the victim up by pid. */
	OOM_F_CURRENT_IS_VICTIM = 1 << 2,
	OOM_F_MEMCG = 1 << 3, /* memcg_id and memcg_limit_pages were read */
};

enum oom_stat {
	OOM_STAT_OUTPUT_FAILED = 0, /* ring buffer full: event lost */
	OOM_STAT_NR,
};

struct oom_victim {
	__u64 ts_ns;		 /* CLOCK_MONOTONIC */
	__u64 cgroup_id;	 /* cgroup v2 id of the current task */
	__u64 memcg_id;		 /* kernfs id of the current task's memory cgroup (v1 or v2) */
	__u64 memcg_limit_pages; /* tightest memory limit on the memcg and its ancestors */
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__s32 pid;	   /* the victim (tgid) */
	__s32 current_pid; /* the task that ran the OOM killer (tgid) */
	__u32 uid;
	__u32 flags; /* enum oom_victim_flags */
	__s16 oom_score_adj;
	__u16 pad[3];
	char comm[AM_TASK_COMM_LEN];
};

#endif
