/* A task's pids as seen inside its own PID namespace (what getpid() and getppid() return in a
 * container), for BPF programs only. struct pid keeps one number per namespace level, the
 * innermost (the task's own namespace) at pid->level. */
#ifndef ANTIMETAL_TASK_NS_BPF_H
#define ANTIMETAL_TASK_NS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Before 4.19 a task reached its struct pid through pids[PIDTYPE_PID].pid, not thread_pid. */
struct pid_link___old {
	struct hlist_node node;
	struct pid *pid;
} __attribute__((preserve_access_index));

struct task_struct___old_pids {
	struct pid_link___old pids[4];
} __attribute__((preserve_access_index));

static __always_inline struct pid *task_pid_struct(struct task_struct *task)
{
	struct task_struct___old_pids *old = (void *)task;

	if (bpf_core_field_exists(task->thread_pid))
		return BPF_CORE_READ(task, thread_pid);
	return BPF_CORE_READ(old, pids[0].pid); /* PIDTYPE_PID */
}

/* The number of PID at namespace level LEVEL (0 on a failed read). */
static __always_inline __s32 pid_nr_at(struct pid *pid, unsigned int level)
{
	int nr = 0;

	if (pid)
		bpf_core_read(&nr, sizeof(nr), &pid->numbers[level].nr);
	return nr;
}

/* TASK's process (tgid) in TASK's own PID namespace; *LEVEL gets that namespace's level. */
static __always_inline __s32 task_ns_tgid(struct task_struct *task, unsigned int *level)
{
	struct pid *pid = task_pid_struct(BPF_CORE_READ(task, group_leader));

	*level = pid ? BPF_CORE_READ(pid, level) : 0;
	return pid_nr_at(pid, *level);
}

/* TASK's process (tgid) and its real parent's, in TASK's own PID namespace. The parent is 0
 * when it lives outside that namespace (as getppid() says inside a new namespace). */
static __always_inline void task_ns_pids(struct task_struct *task, __s32 *ns_tgid, __s32 *ns_ppid)
{
	struct pid *ppid = task_pid_struct(BPF_CORE_READ(task, real_parent, group_leader));
	unsigned int level;

	*ns_tgid = task_ns_tgid(task, &level);
	*ns_ppid = ppid && BPF_CORE_READ(ppid, level) == level ? pid_nr_at(ppid, level) : 0;
}

#endif
