// SPDX-License-Identifier: GPL-2.0
/* oom: every OOM kill, at oom:mark_victim (the kernel has chosen the victim and is about to
 * kill it), with the memory figures the tracepoint gives on this kernel and, from the task
 * that ran the OOM killer, its memory cgroup and the tightest limit over it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "oom_types.h"

/* Memory cgroups nest at most this deep here when the effective limit is sought. */
#define MEMCG_MAX_DEPTH 16

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

/* The record is built here rather than on the stack so that its type is in the object's BTF,
 * where `make generate-ebpf-types` checks the user side's layout against it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oom_victim);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OOM_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Kernels before 4.16 called page_counter.max "limit". */
struct page_counter___old {
	unsigned long limit;
} __attribute__((preserve_access_index));

static __always_inline __u64 counter_max(struct page_counter *pc)
{
	struct page_counter___old *old = (void *)pc;

	if (bpf_core_field_exists(pc->max))
		return BPF_CORE_READ(pc, max);
	return BPF_CORE_READ(old, limit);
}

/* The memory cgroup of TASK (the css of the memory controller, on v1 or v2), its kernfs id and
 * the smallest limit on it and its ancestors: a child without a limit of its own is bounded by
 * its parent's. */
static __always_inline void read_memcg(struct oom_victim *e, struct task_struct *task)
{
	struct cgroup_subsys_state *css;
	struct mem_cgroup *memcg;
	__u64 limit = ~0ULL, max;
	int i;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return; /* built without memory cgroups */
	css = BPF_CORE_READ(task, cgroups,
			    subsys[bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)]);
	if (!css)
		return;
	e->memcg_id = BPF_CORE_READ(css, cgroup, kn, id);
	for (i = 0; i < MEMCG_MAX_DEPTH && css; i++) {
		/* css is mem_cgroup's first member, but let CO-RE say where it is. */
		memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
		max = counter_max(&memcg->memory);
		if (max < limit)
			limit = max;
		css = BPF_CORE_READ(css, parent);
	}
	e->memcg_limit_pages = limit;
	e->flags |= OOM_F_MEMCG;
}

static __always_inline void read_figures(struct oom_victim *e,
					 struct trace_event_raw_mark_victim *ctx)
{
	__u32 loc;

	if (bpf_core_field_exists(ctx->total_vm)) {
		e->total_vm_kb = BPF_CORE_READ(ctx, total_vm);
		e->anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
		e->file_rss_kb = BPF_CORE_READ(ctx, file_rss);
		e->shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
		e->pgtables_kb = BPF_CORE_READ(ctx, pgtables);
		e->uid = BPF_CORE_READ(ctx, uid);
		e->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
		e->flags |= OOM_F_MEMORY_FIGURES;
	}
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		/* __data_loc: the string's offset from the record in the low 16 bits. */
		loc = BPF_CORE_READ(ctx, __data_loc_comm);
		if (bpf_probe_read_kernel_str(e->comm, sizeof(e->comm),
					      (void *)ctx + (loc & 0xffff)) > 0)
			e->flags |= OOM_F_COMM_FROM_TP;
	}
}

SEC("tracepoint/oom/mark_victim")
int oom_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 key = 0;
	struct oom_victim *e = bpf_map_lookup_elem(&scratch, &key);
	__u64 *failed;

	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = BPF_CORE_READ(ctx, pid);
	e->current_pid = bpf_get_current_pid_tgid() >> 32;
	e->cgroup_id = bpf_get_current_cgroup_id();
	if (e->current_pid == e->pid)
		e->flags |= OOM_F_CURRENT_IS_VICTIM;
	read_figures(e, ctx);
	if (!(e->flags & OOM_F_COMM_FROM_TP) && (e->flags & OOM_F_CURRENT_IS_VICTIM))
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	read_memcg(e, task);
	if (bpf_ringbuf_output(&events, e, sizeof(*e), 0)) {
		key = OOM_STAT_OUTPUT_FAILED;
		failed = bpf_map_lookup_elem(&stats, &key);
		if (failed)
			*failed += 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
