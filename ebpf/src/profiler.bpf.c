// SPDX-License-Identifier: GPL-2.0
/* CPU profiler: runs on every perf event overflow (one event per CPU), copies the kernel and
 * user stacks (bpf_get_stack), stores each distinct stack once under a hash of its content and
 * counts (pid, comm, cgroup, user stack, kernel stack) in a hash map, so the cost of a profile
 * does not grow with its sample count. User space reads the maps once at the end; the only
 * streaming output is one notification per new process (or exec), so user space can capture
 * its mappings while it is still alive. With --call-graph dwarf or auto, samples of user tasks
 * are sent out instead with their user registers and the top of their user stack, for user
 * space to unwind with the binaries' CFI (perf's --call-graph dwarf). */
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
const volatile bool kernel_stacks = true;
const volatile bool user_stacks = true;
const volatile bool include_idle = false;
/* Frames kept per stack (profile --max-stack), 1..PROFILER_MAX_STACK_DEPTH. */
const volatile __u32 max_stack = PROFILER_MAX_STACK_DEPTH;
/* profile --call-graph: enum profiler_call_graph, and the bytes of user stack copied. */
const volatile __u32 call_graph = PROFILER_CG_FP;
const volatile __u32 copy_size = 8192;
/* Features user space probed; the verifier (5.2+) prunes the branch a frozen rodata flag rules
 * out, so a kernel without a helper never checks the call to it. */
const volatile bool use_ringbuf = true;
const volatile bool use_probe_read_user = true;
const volatile bool have_task_pt_regs = false; /* bpf_task_pt_regs: 5.15+ */
const volatile bool have_cgroup_id = false;
/* Ring buffer fill (bytes) above which a record wakes the reader: below it records collect
 * and the reader drains them on its own tick, so a sample does not cost a wakeup (an
 * irq_work, an IPI in a VM, a trip through the reader's loop) each. */
const volatile __u64 wakeup_bytes = 0;

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

/* Samples with copied stacks: a ring buffer, or a perf buffer where user space chose it (a
 * kernel without ring buffers: before 5.8). User space turns the unused one into a minimal map. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} samples_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} samples_pb SEC(".maps");

/* The record being built, one slot per CPU (the program runs with preemption off, so the
 * slot of the current CPU has no other writer). Not a per-CPU array: those values are limited
 * to 32 KiB, and a record is its header plus up to PROFILER_COPY_MAX bytes. Sized to the
 * possible CPUs by user space. */
struct sample_buf {
	struct profiler_sample s;
	unsigned char data[PROFILER_COPY_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct sample_buf);
	__uint(max_entries, 1);
} sample_scratch SEC(".maps");

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += n; /* per-CPU slot: no other writer */
}

static __always_inline void stat_inc(__u32 idx)
{
	stat_add(idx, 1);
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

static __always_inline long read_user(void *dst, __u32 size, const void *src)
{
	if (use_probe_read_user)
		return bpf_probe_read_user(dst, size, src);
	return bpf_probe_read(dst, size, src);
}

/* x86_64's struct pt_regs as the user ABI fixes it (struct user_regs_struct), declared here
 * without CO-RE relocations: a relocated access computes its address into a register first,
 * and the verifier refuses a context load through a modified pointer. */
struct user_regs {
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs,
	    flags, sp, ss;
};

/* Registers in DWARF order (x86_64), but for rip (16), which the caller sets. Two copies of one
 * body, one from the perf context and one from a kernel-memory copy of the task's registers: the
 * verifier rewrites context loads and refuses an instruction that loads from both kinds of pointer.
 */
#define COPY_REGS(dst, r)                                                                          \
	do {                                                                                       \
		(dst)[0] = (r)->ax;                                                                \
		(dst)[1] = (r)->dx;                                                                \
		(dst)[2] = (r)->cx;                                                                \
		(dst)[3] = (r)->bx;                                                                \
		(dst)[4] = (r)->si;                                                                \
		(dst)[5] = (r)->di;                                                                \
		(dst)[6] = (r)->bp;                                                                \
		(dst)[7] = (r)->sp;                                                                \
		(dst)[8] = (r)->r8;                                                                \
		(dst)[9] = (r)->r9;                                                                \
		(dst)[10] = (r)->r10;                                                              \
		(dst)[11] = (r)->r11;                                                              \
		(dst)[12] = (r)->r12;                                                              \
		(dst)[13] = (r)->r13;                                                              \
		(dst)[14] = (r)->r14;                                                              \
		(dst)[15] = (r)->r15;                                                              \
	} while (0)

/* The sampled thread's user registers into S. In user mode they are the interrupted context;
 * in the kernel (a system call, a page fault) they are the ones saved at the kernel's entry,
 * which only bpf_task_pt_regs (5.15+) reaches portably: computing task_pt_regs from the task's
 * stack with CO-RE would hard-code THREAD_SIZE and the stack's top padding, which differ by
 * configuration (KASAN) and version (FRED). Without it the sample keeps no user registers
 * (counted; auto mode still has the frame-pointer walk). */
static __always_inline int user_regs(struct bpf_perf_event_data *ctx, struct profiler_sample *s)
{
	const struct user_regs *cr = (const void *)ctx; /* bpf_perf_event_data starts with them */
	struct task_struct *task;
	struct user_regs regs;
	struct pt_regs *tr;

	__u64 ip = cr->ip;

	if (!(ip >> 63)) { /* a user address: the sample interrupted user mode */
		COPY_REGS(s->regs, cr);
		s->regs[16] = ip;
		s->flags |= PROFILER_SF_REGS_USER;
		return 0;
	}
	if (!have_task_pt_regs) {
		s->flags |= PROFILER_SF_NO_REGS;
		return -1;
	}
	task = bpf_get_current_task_btf();
	tr = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!tr || bpf_probe_read_kernel(&regs, sizeof(regs), tr)) {
		s->flags |= PROFILER_SF_NO_REGS;
		return -1;
	}
	COPY_REGS(s->regs, &regs);
	s->regs[16] = regs.ip;
	s->flags |= PROFILER_SF_REGS_TASK;
	return 0;
}

/* Copy COPY_SIZE bytes of user stack from SP into B. The stack of the main thread ends at
 * mm->start_stack (the stack pointer _start was given; above it only argv and the
 * environment): a copy is cut there. Other threads' stacks end where their mapping does: a read
 * that crosses it fails, and is retried with halves. */
static __always_inline void copy_stack(struct sample_buf *b, struct task_struct *task)
{
	__u64 sp = b->s.regs[7], top = BPF_CORE_READ(task, mm, start_stack);
	__u32 len = copy_size, i;

	if (len > PROFILER_COPY_MAX)
		len = PROFILER_COPY_MAX;
	if (sp < top && top - sp < len) {
		len = (__u32)(top - sp);
		b->s.flags |= PROFILER_SF_COPY_SHORT;
	}
#pragma clang loop unroll(full)
	for (i = 0; i < 4; i++) {
		len &= ~7u;
		if (len >
		    PROFILER_COPY_MAX) /* for the verifier: the bound on the register passed */
			len = PROFILER_COPY_MAX;
		if (!len)
			break;
		if (!read_user(b->data, len, (const void *)sp)) {
			b->s.stack_len = len;
			stat_add(PROFILER_STAT_COPY_BYTES, len);
			return;
		}
		len /= 2;
		b->s.flags |= PROFILER_SF_COPY_SHORT;
	}
	b->s.flags |= PROFILER_SF_COPY_FAIL;
}

/* Send the sample with its copied stack (dwarf and auto): one record, only the bytes copied. */
static __always_inline void send_sample(struct bpf_perf_event_data *ctx,
					const struct profiler_key *key, __u32 tid,
					struct task_struct *task)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct sample_buf *b = bpf_map_lookup_elem(&sample_scratch, &cpu);
	__u64 size;
	long err;

	if (!b) {
		stat_inc(PROFILER_STAT_SEND_FAILED);
		return;
	}
	b->s.hdr_size = sizeof(b->s);
	b->s.flags = 0;
	b->s.pid = key->pid;
	b->s.tid = tid;
	__builtin_memcpy(b->s.comm, key->comm, sizeof(b->s.comm));
	b->s.mm = key->mm;
	b->s.cgroup_id = key->cgroup_id;
	b->s.ns_pid = key->ns_pid;
	b->s.kernel_err = key->kernel_err;
	b->s.kernel_stack = key->kernel_stack;
	b->s.user_err = key->user_err;
	b->s.user_stack = key->user_stack;
	b->s.stack_len = 0;
	if (!user_regs(ctx, &b->s))
		copy_stack(b, task);
	size = sizeof(b->s) + b->s.stack_len;
	if (size > sizeof(*b)) /* for the verifier */
		size = sizeof(*b);
	if (use_ringbuf)
		err = bpf_ringbuf_output(&samples_rb, b, size,
					 bpf_ringbuf_query(&samples_rb, BPF_RB_AVAIL_DATA) >=
						 wakeup_bytes
					     ? BPF_RB_FORCE_WAKEUP
					     : BPF_RB_NO_WAKEUP);
	else
		err = bpf_perf_event_output(ctx, &samples_pb, BPF_F_CURRENT_CPU, b, size);
	stat_inc(err ? PROFILER_STAT_SEND_FAILED : PROFILER_STAT_SENT);
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
		else if (call_graph != PROFILER_CG_DWARF)
			key.user_err = take_stack(
			    ctx, BPF_F_USER_STACK, &key.user_stack, PROFILER_STAT_USTACK_EFAULT,
			    PROFILER_STAT_USTACK_FULL, PROFILER_STAT_USTACK_OTHER);
	}
	/* A user task's sample with a copied stack is counted by user space after unwinding;
	 * kernel threads have no user stack and stay counted here. */
	if (user_stacks && mm && call_graph != PROFILER_CG_FP) {
		send_sample(ctx, &key, tid, task);
		announce(ctx, tgid, mm);
		return 0;
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
