// SPDX-License-Identifier: GPL-2.0
/* CO-RE proof: on getppid() by the target pid, read real_parent->tgid and the task state through
 * relocations; the test compares with getppid() and the state a running task must have. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "test_core_types.h"

/* task_struct.state was renamed __state in 5.14; describe the old layout for the relocation. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

const volatile int target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct test_core_event);
} result SEC(".maps");

static __always_inline unsigned int task_state(struct task_struct *task, int *field)
{
	if (bpf_core_field_exists(task->__state)) {
		*field = TEST_CORE_STATE_NEW;
		return BPF_CORE_READ(task, __state);
	}
	*field = TEST_CORE_STATE_OLD;
	return (unsigned int)BPF_CORE_READ((struct task_struct___pre514 *)task, state);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int test_core_getppid(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 key = 0;
	struct test_core_event *e;
	struct task_struct *task;

	if ((int)(id >> 32) != target_tgid)
		return 0;
	e = bpf_map_lookup_elem(&result, &key);
	if (!e)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	e->tgid = id >> 32;
	e->pid = (__u32)id;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->state = task_state(task, &e->state_field);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	__sync_fetch_and_add(&e->hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
