// SPDX-License-Identifier: GPL-2.0
/* execsnoop: every execve/execveat on the host, successful or failed, with the filename and
 * argv as passed. Arguments are read at syscall entry (afterwards the old image is gone) into
 * a per-thread stash and sent at syscall return with the result, so failures are seen too.
 * Output goes to a ring buffer, or a perf buffer when user space picks the fallback. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "execsnoop_types.h"
#include "task_ns.bpf.h"

/* Filters and limits, fixed at load time by user space. */
const volatile bool use_ringbuf = true;
const volatile bool failed_only = false;
const volatile bool filter_uid = false;
const volatile __u32 target_uid = 0;
const volatile bool filter_comm = false;
const volatile char target_comm[AM_TASK_COMM_LEN] = {};
const volatile bool filter_cgroup = false;
const volatile __u64 target_cgroup = 0;
const volatile __u32 max_args = EXECSNOOP_DEFAULT_MAX_ARGS;
const volatile __u32 max_args_size = EXECSNOOP_DEFAULT_ARGS_SIZE;
/* The stash's value size, set by user space to what the limits need (header + filename +
 * max_args_size) so that stashing an exec copies no more than that. */
const volatile __u32 stash_value_size = sizeof(struct execsnoop_exec);
/* bpf_probe_read_user{,_str} arrived in 5.5; before that the generic helpers read user memory.
 * User space probes the helper and sets this; the verifier (5.2+) prunes the branch a frozen
 * rodata flag rules out, so a kernel without the helper never checks the call to it. */
const volatile bool use_probe_read_user = true;

/* Set by user space while it sleeps between batches (it reads everything when it wakes):
 * then a record need not wake it. A ring buffer wakeup costs the exec'ing task more than the
 * rest of the record (an irq_work, an IPI in a VM). */
volatile __u32 consumer_batching = 0;

/* Both outputs exist in the object; user space turns the unused one into a minimal map. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} events_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events_pb SEC(".maps");

/* Execs in flight, by the calling thread. Not an LRU: with few entries per CPU an LRU evicts
 * live entries early (its per-CPU free lists take entries in batches), and an evicted exec
 * would be lost quietly. Every syscall return deletes its entry, even a fatal one; a stale
 * entry is overwritten when its tid comes back, and a full map is counted as a drop. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__uint(key_size, sizeof(__u32));
	/* sized at load time (no BTF value type, which would have to match) */
	__uint(value_size, sizeof(struct execsnoop_exec));
} stash SEC(".maps");

/* A successful exec from a non-leader thread returns as the leader (de_thread): tgid -> the
 * tid the stash entry is under. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u32);
} leader_alias SEC(".maps");

/* Slack behind the data area, so a variable-length read at a variable offset is provably in
 * bounds for the verifier (offset < DATA_MAX, length <= ARGS_SIZE_MAX). Per-CPU values are
 * limited to 32 KiB, which this fits. */
struct scratch {
	struct execsnoop_exec ev;
	char slack[EXECSNOOP_ARGS_SIZE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EXECSNOOP_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &which);

	if (c)
		*c += 1; /* per-CPU slot: no other writer */
}

/* The one place records leave: the ring buffer, or the perf buffer where user space chose it
 * (libbpf-tools' compat.bpf.h idea). A failure is a drop, counted. */
static __always_inline void output(void *ctx, void *data, __u64 size)
{
	long err;

	if (use_ringbuf)
		err = bpf_ringbuf_output(&events_rb, data, size,
					 consumer_batching ? BPF_RB_NO_WAKEUP : 0);
	else
		err = bpf_perf_event_output(ctx, &events_pb, BPF_F_CURRENT_CPU, data, size);
	if (err)
		count(EXECSNOOP_STAT_OUTPUT_FAILED);
}

static __always_inline long read_user(void *dst, __u32 size, const void *src)
{
	if (use_probe_read_user)
		return bpf_probe_read_user(dst, size, src);
	return bpf_probe_read(dst, size, src);
}

static __always_inline long read_user_str(void *dst, __u32 size, const void *src)
{
	if (use_probe_read_user)
		return bpf_probe_read_user_str(dst, size, src);
	return bpf_probe_read_str(dst, size, src);
}

/* After a read of SIZE bytes returned SIZE, the string either filled the space exactly or was
 * cut: tell them apart by its byte at SIZE - 1. */
static __always_inline bool string_was_cut(const char *src, __u32 size)
{
	char c = 1;

	if (read_user(&c, 1, src + size - 1))
		return true;
	return c != 0;
}

static __always_inline bool comm_matches(const char *comm)
{
	int i;

	for (i = 0; i < AM_TASK_COMM_LEN; i++) {
		if (comm[i] != target_comm[i])
			return false;
		if (!comm[i])
			return true;
	}
	return true;
}

/* Read up to max_args arguments, max_args_size bytes in all, behind the filename. */
static __always_inline void read_args(struct scratch *s, const char *const *argv)
{
	struct execsnoop_exec *e = &s->ev;
	__u64 base = e->filename_size, used = 0, room;
	const char *arg;
	long n;
	int i;

	if (!argv)
		return; /* execve(path, NULL, ...): Linux runs it with an empty argv */
	for (i = 0; i < EXECSNOOP_MAX_ARGS; i++) {
		if (read_user(&arg, sizeof(arg), &argv[i])) {
			e->flags |= EXECSNOOP_F_ARGS_READ_FAILED;
			return;
		}
		if (!arg)
			return;
		if (i >= max_args || used >= max_args_size) {
			e->flags |= EXECSNOOP_F_ARGS_TRUNCATED;
			return;
		}
		room = (__u64)max_args_size - used;
		if (room > EXECSNOOP_ARGS_SIZE_MAX)
			room = EXECSNOOP_ARGS_SIZE_MAX;
		/* Keep the compiler from passing the unclamped copy to the helper. */
		barrier_var(room);
		n = read_user_str(&e->data[(base + used) & (EXECSNOOP_DATA_MAX - 1)], room, arg);
		if (n <= 0) {
			e->flags |= EXECSNOOP_F_ARGS_READ_FAILED;
			return;
		}
		used += n;
		e->args_size = used;
		e->args_count = i + 1;
		if ((__u32)n == room && string_was_cut(arg, room)) {
			e->flags |= EXECSNOOP_F_ARGS_TRUNCATED;
			return;
		}
	}
	/* The compile-time ceiling: anything beyond it was not read. The index is the constant
	 * (i is EXECSNOOP_MAX_ARGS here), not i: with argv[i] clang merges this read into the
	 * loop's first one and the loop then closes with a fall-through into its head, a
	 * back-edge the verifier of 6.1 rejects ("back-edge from insn"; it accepts only jumps). */
	if (!read_user(&arg, sizeof(arg), &argv[EXECSNOOP_MAX_ARGS]) && arg)
		e->flags |= EXECSNOOP_F_ARGS_TRUNCATED;
}

static __always_inline int on_enter(const char *filename, const char *const *argv, __s32 dirfd,
				    __u32 at_flags, __u32 flags)
{
	__u64 id = bpf_get_current_pid_tgid(), uid_gid = bpf_get_current_uid_gid();
	__u32 tid = (__u32)id, tgid = id >> 32, zero = 0;
	struct scratch *s;
	struct execsnoop_exec *e;
	long n;

	if (filter_uid && (__u32)uid_gid != target_uid)
		return 0;
	if (filter_cgroup && bpf_get_current_cgroup_id() != target_cgroup)
		return 0;
	s = bpf_map_lookup_elem(&heap, &zero);
	if (!s)
		return 0;
	e = &s->ev;
	e->type = EXECSNOOP_RECORD_EXEC;
	e->flags = flags;
	e->ts_ns = bpf_ktime_get_ns();
	e->tid = tid;
	e->dirfd = dirfd;
	e->at_flags = at_flags;
	e->args_count = 0;
	e->args_size = 0;
	e->filename_size = 0;
	n = read_user_str(e->data, EXECSNOOP_FILENAME_MAX, filename);
	if (n > 0) {
		e->filename_size = n;
		if (n == EXECSNOOP_FILENAME_MAX && string_was_cut(filename, EXECSNOOP_FILENAME_MAX))
			e->flags |= EXECSNOOP_F_FILENAME_TRUNCATED;
	} else {
		e->flags |= EXECSNOOP_F_FILENAME_READ_FAILED;
	}
	read_args(s, argv);
	if (bpf_map_update_elem(&stash, &tid, e, BPF_ANY)) {
		count(EXECSNOOP_STAT_STASH_FAILED);
		return 0;
	}
	if (tid != tgid)
		bpf_map_update_elem(&leader_alias, &tgid, &tid, BPF_ANY);
	return 0;
}

/* After a successful exec the kernel has put the filename just above the environment strings
 * of the new image (AT_EXECFN), where it is resident: read it from there when it could not be
 * read at entry. The arguments behind it then have to be read again too. */
static __always_inline void filename_from_image(struct execsnoop_exec *e, struct task_struct *task)
{
	const char *p = (const char *)BPF_CORE_READ(task, mm, env_end);
	long n;

	if (!p)
		return;
	n = read_user_str(e->data, EXECSNOOP_FILENAME_MAX, p);
	if (n <= 0)
		return;
	e->filename_size = n;
	e->flags &= ~(EXECSNOOP_F_FILENAME_READ_FAILED | EXECSNOOP_F_FILENAME_TRUNCATED);
	e->flags |= EXECSNOOP_F_FILENAME_FROM_IMAGE | EXECSNOOP_F_ARGS_READ_FAILED;
	if (n == EXECSNOOP_FILENAME_MAX && string_was_cut(p, EXECSNOOP_FILENAME_MAX))
		e->flags |= EXECSNOOP_F_FILENAME_TRUNCATED;
}

/* After a successful exec the kernel has just copied argv into the new image, where it is
 * resident: read it from there when it could not be read at entry. */
static __always_inline void args_from_image(struct execsnoop_exec *e, struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	__u64 start = BPF_CORE_READ(mm, arg_start), end = BPF_CORE_READ(mm, arg_end);
	__u64 len = end - start, off = e->filename_size;
	__u32 flags = e->flags & ~EXECSNOOP_F_ARGS_TRUNCATED;

	if (!mm || end <= start)
		return;
	if (len > max_args_size)
		flags |= EXECSNOOP_F_ARGS_TRUNCATED;
	/* The compile-time ceiling first, then the limit (which is below it): in the other order
	 * the ceiling's clamp can no longer apply, and the 6.1 verifier still walks it, with a
	 * length beyond the stash value (sized at load time) and an impossible range. */
	if (len > EXECSNOOP_ARGS_SIZE_MAX)
		len = EXECSNOOP_ARGS_SIZE_MAX;
	barrier_var(len);
	if (len > max_args_size)
		len = max_args_size;
	if (off > EXECSNOOP_FILENAME_MAX)
		off = EXECSNOOP_FILENAME_MAX;
	barrier_var(len);
	barrier_var(off);
	if (read_user(&e->data[off], len, (const void *)start))
		return;
	e->args_size = len;
	e->args_count = 0;
	e->flags = (flags & ~EXECSNOOP_F_ARGS_READ_FAILED) | EXECSNOOP_F_ARGS_FROM_IMAGE;
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u64 id = bpf_get_current_pid_tgid(), uid_gid = bpf_get_current_uid_gid();
	__u32 tid = (__u32)id, tgid = id >> 32, key = tid, *alias;
	struct task_struct *task;
	struct execsnoop_exec *e;
	__u64 size;

	e = bpf_map_lookup_elem(&stash, &key);
	alias = bpf_map_lookup_elem(&leader_alias, &tgid);
	if (!e && alias) {
		key = *alias;
		e = bpf_map_lookup_elem(&stash, &key);
	}
	if (alias && (!e || *alias == key))
		bpf_map_delete_elem(&leader_alias, &tgid);
	if (!e) {
		count(EXECSNOOP_STAT_UNMATCHED);
		return 0;
	}
	if (failed_only && ret >= 0)
		goto out;
	e->ret_ts_ns = bpf_ktime_get_ns();
	e->ret = ret;
	e->pid = tgid;
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	e->cgroup_id = bpf_get_current_cgroup_id();
	task = (struct task_struct *)bpf_get_current_task();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	task_ns_pids(task, &e->ns_pid, &e->ns_ppid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (filter_comm && !comm_matches(e->comm))
		goto out;
	if (ret == 0 && (e->flags & EXECSNOOP_F_FILENAME_READ_FAILED))
		filename_from_image(e, task);
	if (ret == 0 && (e->flags & EXECSNOOP_F_ARGS_READ_FAILED))
		args_from_image(e, task);
	if (e->flags & (EXECSNOOP_F_ARGS_READ_FAILED | EXECSNOOP_F_FILENAME_READ_FAILED))
		count(EXECSNOOP_STAT_READ_FAILED);
	size = offsetof(struct execsnoop_exec, data) + e->filename_size + e->args_size;
	if (size > stash_value_size)
		size = stash_value_size;
	output(ctx, e, size);
out:
	bpf_map_delete_elem(&stash, &key);
	return 0;
}

/* The context of the syscalls:sys_{enter,exit}_* tracepoints is struct syscall_trace_enter /
 * syscall_trace_exit (int nr, then the arguments or the result), not raw_syscalls' struct
 * trace_event_raw_sys_enter (long id). The two agree at offset 16 only while struct
 * trace_entry is 8 bytes; on PREEMPT_RT it is 12 and the raw_syscalls layout would be relocated
 * to 24. Direct context loads, their offsets relocated by CO-RE (preserve_access_index). */
SEC("tracepoint/syscalls/sys_enter_execve")
int execsnoop_enter_execve(struct syscall_trace_enter *ctx)
{
	return on_enter((const char *)ctx->args[0], (const char *const *)ctx->args[1], 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int execsnoop_enter_execveat(struct syscall_trace_enter *ctx)
{
	return on_enter((const char *)ctx->args[1], (const char *const *)ctx->args[2],
			(__s32)ctx->args[0], (__u32)ctx->args[4], EXECSNOOP_F_EXECVEAT);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int execsnoop_exit_execve(struct syscall_trace_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int execsnoop_exit_execveat(struct syscall_trace_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

/* task_struct.start_time was a struct timespec before 4.x's conversion to nanoseconds. */
struct task_struct___old_start {
	struct timespec64 start_time;
} __attribute__((preserve_access_index));

static __always_inline __u64 task_start_ns(struct task_struct *task)
{
	struct task_struct___old_start *old = (void *)task;

	if (bpf_core_field_size(task->start_time) == sizeof(__u64))
		return BPF_CORE_READ(task, start_time);
	return BPF_CORE_READ(old, start_time.tv_sec) * 1000000000ULL +
	       BPF_CORE_READ(old, start_time.tv_nsec);
}

SEC("tracepoint/sched/sched_process_exit")
int execsnoop_process_exit(struct trace_event_raw_sched_process_template *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), uid_gid = bpf_get_current_uid_gid(), now;
	struct execsnoop_exit e = {};
	struct task_struct *task;

	/* Only the last thread of the process: live has already been decremented. */
	task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	if (filter_uid && (__u32)uid_gid != target_uid)
		return 0;
	if (filter_cgroup && bpf_get_current_cgroup_id() != target_cgroup)
		return 0;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	if (filter_comm && !comm_matches(e.comm))
		return 0;
	now = bpf_ktime_get_ns();
	e.type = EXECSNOOP_RECORD_EXIT;
	e.ts_ns = now;
	e.pid = id >> 32;
	e.tid = (__u32)id;
	e.uid = (__u32)uid_gid;
	e.gid = uid_gid >> 32;
	e.cgroup_id = bpf_get_current_cgroup_id();
	e.ppid = BPF_CORE_READ(task, real_parent, tgid);
	task_ns_pids(task, &e.ns_pid, &e.ns_ppid);
	e.exit_code = BPF_CORE_READ(task, exit_code);
	e.lifetime_ns = now - task_start_ns(task);
	output(ctx, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
