// SPDX-License-Identifier: GPL-2.0
/* CPU profiler: runs on every perf event overflow (one event per CPU), copies the kernel and
 * user stacks (bpf_get_stack), stores each distinct stack once under a hash of its content and
 * counts (pid, comm, cgroup, user stack, kernel stack) in a hash map, so the cost of a profile
 * does not grow with its sample count. User space reads the maps once at the end; the only
 * streaming output is one notification per new process (or exec), so user space can capture
 * its mappings while it is still alive. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "profiler_types.h"
#include "task_ns.bpf.h"

#define EFAULT 14
#define EEXIST 17

const volatile bool filter_pids = false;
/* --cgroup: keep tasks in the cgroups of the map "cgroups" or below them. */
const volatile bool filter_cgroups = false;
/* bpf_get_current_ancestor_cgroup_id (5.7+, and only later to perf_event programs) when user
 * space found it; else the task's cgroup and its parents are read through CO-RE. */
const volatile bool use_ancestor_helper = false;
/* bpf_get_current_cgroup_id (4.18+ with CONFIG_CGROUPS), as user space probed it; the verifier
 * (5.2+) prunes the branch a frozen rodata flag rules out. */
const volatile bool have_cgroup_id = false;
const volatile bool kernel_stacks = true;
const volatile bool user_stacks = true;
const volatile bool include_idle = false;
/* Frames kept per stack (profile --max-stack), 1..PROFILER_MAX_STACK_DEPTH. */
const volatile __u32 max_stack = PROFILER_MAX_STACK_DEPTH;

/* Sizes are set by user space before load (bpf_map__set_max_entries). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct profiler_stack);
	__uint(max_entries, 16384);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct profiler_key);
	__type(value, __u64);
	__uint(max_entries, 16384);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, PROFILER_MAX_PIDS);
} pids SEC(".maps");

/* Processes already announced to user space, with the address of the mm they had: threads
 * share it and exec replaces it, so a process is announced again exactly when its mappings
 * were replaced. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, __u8);
	__uint(max_entries, PROFILER_MAX_CGROUPS);
} cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16384);
} seen SEC(".maps");

/* One stack being walked, per CPU (too big for the 512-byte BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct profiler_stack);
	__uint(max_entries, 1);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, PROFILER_STAT_MAX);
} stats SEC(".maps");

/* New-process notifications (a perf buffer, not a ring buffer, so 4.18 kernels load it). */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} newpids SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1; /* per-CPU slot: no other writer */
}

/* Walk one stack into the stacks map. Returns 0 with *ID set, or the negative error (also
 * counted: EFAULT_SLOT for a failed walk, FULL_SLOT for a full map, OTHER_SLOT otherwise). */
static __always_inline int take_stack(struct bpf_perf_event_data *ctx, __u64 flags, __u64 *id,
				      __u32 efault_slot, __u32 full_slot, __u32 other_slot)
{
	struct profiler_stack *st;
	__u32 zero = 0;
	__u64 h = 14695981039346656037ull;
	__u32 depth;
	long len;
	int i, err;

	st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st)
		return -1;
	depth = max_stack;
	if (depth < 1 || depth > PROFILER_MAX_STACK_DEPTH)
		depth = PROFILER_MAX_STACK_DEPTH;
	/* bpf_get_stack zero-fills the buffer past the stack; entries past DEPTH are never
	 * written (DEPTH is fixed for the program's life), so they stay zero. */
	len = bpf_get_stack(ctx, st->ips, depth * sizeof(st->ips[0]), flags);
	if (len <= 0) {
		if (len == -EFAULT || len == 0)
			stat_inc(efault_slot);
		else
			stat_inc(other_slot);
		return len ? (int)len : -EFAULT;
	}
	/* FNV-1a over the frames (bounded, unrolled for pre-5.3 verifiers). */
#pragma clang loop unroll(full)
	for (i = 0; i < PROFILER_MAX_STACK_DEPTH; i++) {
		if (i * 8 >= len)
			break;
		h = (h ^ st->ips[i]) * 1099511628211ull;
	}
	h |= 1; /* never 0 */
	/* Most stacks repeat: a lock-free lookup first spares the update's bucket lock. */
	if (!bpf_map_lookup_elem(&stacks, &h)) {
		err = bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST);
		if (err && err != -EEXIST) {
			stat_inc(full_slot);
			return err;
		}
	}
	*id = h;
	return 0;
}

static __always_inline void announce(struct bpf_perf_event_data *ctx, __u32 tgid, __u64 mm)
{
	struct profiler_newproc ev = {.pid = tgid, .mm = mm};
	__u64 *prev;

	prev = bpf_map_lookup_elem(&seen, &tgid);
	if (prev && *prev == mm)
		return;
	/* A full map only costs the notification (counted): user space captures live processes
	 * and, from the mmap side band, gone ones at the end as well. */
	if (bpf_map_update_elem(&seen, &tgid, &mm, BPF_ANY)) {
		stat_inc(PROFILER_STAT_SEEN_FULL);
		return;
	}
	if (bpf_perf_event_output(ctx, &newpids, BPF_F_CURRENT_CPU, &ev, sizeof(ev)))
		stat_inc(PROFILER_STAT_NEWPID_LOST);
}

/* kernfs_node.parent became __parent in 6.15 (its readers must now hold a lock or RCU). */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn, bool renamed)
{
	struct kernfs_node___old *old = (void *)kn;

	if (renamed)
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ(old, parent);
}

/* The current task's cgroup v2 or one of its ancestors is in the map "cgroups". */
static __always_inline bool in_cgroups(struct task_struct *task)
{
	struct kernfs_node *kn;
	bool renamed;
	__u64 id;
	int i;

	if (use_ancestor_helper) {
		/* From the root down: past the task's own level the helper returns 0. */
#pragma clang loop unroll(full)
		for (i = 0; i < PROFILER_MAX_CGROUP_DEPTH; i++) {
			id = bpf_get_current_ancestor_cgroup_id(i);
			if (!id)
				return false;
			if (bpf_map_lookup_elem(&cgroups, &id))
				return true;
		}
		return false;
	}
	/* kernfs_node.id is a u64 since 5.5 and a union of that size before: its 8 bytes are
	 * the id bpf_get_current_cgroup_id returns in both. */
	kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	/* Decided once, outside the loop: the relocated constant would keep clang from
	 * unrolling it. */
	renamed = bpf_core_field_exists(kn->__parent);
#pragma clang loop unroll(full)
	for (i = 0; i < PROFILER_MAX_CGROUP_DEPTH; i++) {
		/* Past the root kn is NULL, the read fails and leaves 0 (no cgroup's id). Testing
		 * the id rather than kn keeps the loop unrollable for clang 14. */
		id = 0;
		bpf_core_read(&id, sizeof(id), &kn->id);
		if (!id)
			return false;
		if (bpf_map_lookup_elem(&cgroups, &id))
			return true;
		kn = kn_parent(kn, renamed);
	}
	return false;
}

SEC("perf_event")
int profile_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct profiler_key key = {};
	struct task_struct *task;
	__u64 *count, one = 1, mm;
	unsigned int level;
	int err;

	stat_inc(PROFILER_STAT_SEEN);
	if (tid == 0 && !include_idle) {
		stat_inc(PROFILER_STAT_IDLE);
		return 0;
	}
	task = (struct task_struct *)bpf_get_current_task();
	if ((filter_pids && !bpf_map_lookup_elem(&pids, &tgid)) ||
	    (filter_cgroups && !in_cgroups(task))) {
		stat_inc(PROFILER_STAT_FILTERED);
		return 0;
	}

	mm = (__u64)BPF_CORE_READ(task, mm);
	key.pid = tgid;
	key.mm = mm;
	key.cgroup_id = have_cgroup_id ? bpf_get_current_cgroup_id() : 0;
	key.ns_pid = task_ns_tgid(task, &level);
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	key.kernel_err = -1;
	key.user_err = -1;
	if (kernel_stacks)
		key.kernel_err = take_stack(ctx, 0, &key.kernel_stack, PROFILER_STAT_KSTACK_EMPTY,
					    PROFILER_STAT_KSTACK_FULL, PROFILER_STAT_KSTACK_OTHER);
	if (user_stacks) {
		if (!mm)
			stat_inc(PROFILER_STAT_USTACK_KTHREAD);
		else
			key.user_err = take_stack(
			    ctx, BPF_F_USER_STACK, &key.user_stack, PROFILER_STAT_USTACK_EFAULT,
			    PROFILER_STAT_USTACK_FULL, PROFILER_STAT_USTACK_OTHER);
	}

	count = bpf_map_lookup_elem(&counts, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
	} else {
		err = bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
		if (err == -EEXIST) {
			/* Another CPU inserted the same key between lookup and update. */
			count = bpf_map_lookup_elem(&counts, &key);
			if (count)
				__sync_fetch_and_add(count, 1);
		} else if (err) {
			stat_inc(PROFILER_STAT_COUNTS_FULL);
			return 0;
		}
	}
	stat_inc(PROFILER_STAT_COUNTED);
	if (mm) /* kernel threads have no mappings to capture */
		announce(ctx, tgid, mm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
