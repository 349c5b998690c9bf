/* The OOM-kill event the oom collector delivers (from the oom:mark_victim tracepoint, or the
 * kernel log's OOM-killer lines) and exporters render. Strings point into the collector's
 * buffers: valid only during the callback; copy what you keep. */
#ifndef ANTIMETAL_RECORDS_OOM_EVENT_H
#define ANTIMETAL_RECORDS_OOM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

enum am_oom_origin { AM_OOM_FROM_BPF = 1, AM_OOM_FROM_KMSG = 2 };

struct am_oom_event {
	enum am_oom_origin origin;
	uint64_t ts_mono_ns; /* when the victim was chosen (kmsg: the record's time stamp) */
	uint64_t ts_real_ns; /* the same as wall-clock time */
	int32_t pid;	     /* the victim */
	char comm[17];	     /* "" when unknown */
	bool have_uid;
	uint32_t uid;
	/* The victim's memory cgroup, relative to its hierarchy's mount ("/test", "/" for the
	 * root); NULL when unknown. On cgroup v1 it is the memory controller's hierarchy. */
	const char *cgroup;
	const char *container_id;      /* NULL when not in a recognised container */
	const char *container_runtime; /* "docker", "containerd", ... */
	const char *constraint; /* kmsg only: "CONSTRAINT_MEMCG", "CONSTRAINT_NONE"; or NULL */
	/* Memory limit in force over that cgroup (its own or an ancestor's), in bytes;
	 * have_limit false when unknown, limit_unlimited when there is none. */
	bool have_limit, limit_unlimited;
	uint64_t limit_bytes;
	/* The kernel's figures for the victim, in kB; have_figures false when it gave none. */
	bool have_figures;
	uint64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb;
	int oom_score_adj;
};

#endif
