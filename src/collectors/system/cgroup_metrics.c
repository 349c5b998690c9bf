#include "collectors/system/cgroup_metrics.h"

#include <stddef.h>
#include <stdio.h>

#define LABELS "cgroup", "container_id", "runtime", "pod_uid", "qos"
#define DESC(n, h, u, t, ...)                                                                      \
	AM_METRIC_DESC(.name = n, .help = h, .unit = u, .type = t, .labels = {LABELS, __VA_ARGS__})

/* Append one sample with the cgroup's labels and, when KEY is set, one more label. */
static void add(struct am_metric_set *out, const struct am_metric_desc *d, double v,
		const struct am_cgroup_labels *l, const char *key, const char *val)
{
	am_metric_add(out, d, v, "cgroup", l->cgroup, "container_id", l->container_id, "runtime",
		      l->runtime, "pod_uid", l->pod_uid, "qos", l->qos, key, val, NULL);
}

static void emit_cpu(const struct am_cgroup_cpu *c, const struct am_cgroup_labels *l,
		     struct am_metric_set *out)
{
	if (c->have & AM_CG_CPU_USAGE)
		add(out,
		    DESC("antimetal_cgroup_cpu_usage_seconds_total", "CPU time of the cgroup.", "s",
			 AM_METRIC_COUNTER, NULL),
		    (double)c->usage_usec / 1e6, l, NULL, NULL);
	if (c->have & AM_CG_CPU_USER_SYSTEM) {
		add(out,
		    DESC("antimetal_cgroup_cpu_user_seconds_total", "User CPU time of the cgroup.",
			 "s", AM_METRIC_COUNTER, NULL),
		    (double)c->user_usec / 1e6, l, NULL, NULL);
		add(out,
		    DESC("antimetal_cgroup_cpu_system_seconds_total",
			 "System CPU time of the cgroup.", "s", AM_METRIC_COUNTER, NULL),
		    (double)c->system_usec / 1e6, l, NULL, NULL);
	}
	if (c->have & AM_CG_CPU_THROTTLING) {
		add(out,
		    DESC("antimetal_cgroup_cpu_periods_total", "CFS bandwidth periods elapsed.",
			 "{period}", AM_METRIC_COUNTER, NULL),
		    (double)c->nr_periods, l, NULL, NULL);
		add(out,
		    DESC("antimetal_cgroup_cpu_throttled_periods_total",
			 "CFS bandwidth periods in which the cgroup was throttled.", "{period}",
			 AM_METRIC_COUNTER, NULL),
		    (double)c->nr_throttled, l, NULL, NULL);
		add(out,
		    DESC("antimetal_cgroup_cpu_throttled_seconds_total",
			 "Time the cgroup was throttled.", "s", AM_METRIC_COUNTER, NULL),
		    (double)c->throttled_usec / 1e6, l, NULL, NULL);
	}
	if ((c->have & AM_CG_CPU_QUOTA) && c->period_usec) {
		add(out,
		    DESC("antimetal_cgroup_cpu_period_seconds",
			 "CFS bandwidth period of the cgroup.", "s", AM_METRIC_GAUGE, NULL),
		    (double)c->period_usec / 1e6, l, NULL, NULL);
		/* No quota: no series, rather than a number standing for "unlimited". */
		if (c->quota_usec != AM_CGROUP_UNLIMITED)
			add(out,
			    DESC("antimetal_cgroup_cpu_quota_cores",
				 "CPUs the cgroup may use per period (quota / period).", "1",
				 AM_METRIC_GAUGE, NULL),
			    (double)c->quota_usec / (double)c->period_usec, l, NULL, NULL);
	}
	if (c->have & AM_CG_CPU_WEIGHT)
		add(out,
		    DESC("antimetal_cgroup_cpu_weight", "cpu.weight of the cgroup (v2, 1-10000).",
			 "1", AM_METRIC_GAUGE, NULL),
		    (double)c->weight, l, NULL, NULL);
	if (c->have & AM_CG_CPU_SHARES)
		add(out,
		    DESC("antimetal_cgroup_cpu_shares", "cpu.shares of the cgroup (v1, 2-262144).",
			 "1", AM_METRIC_GAUGE, NULL),
		    (double)c->shares, l, NULL, NULL);
}

/* A byte value that is absent or unlimited gives no series. */
static void bytes(struct am_metric_set *out, const struct am_metric_desc *d, unsigned have,
		  unsigned bit, uint64_t v, const struct am_cgroup_labels *l)
{
	if ((have & bit) && v != AM_CGROUP_UNLIMITED)
		add(out, d, (double)v, l, NULL, NULL);
}

static void emit_memory(const struct am_cgroup_sample *s, const struct am_cgroup_labels *l,
			struct am_metric_set *out)
{
	static const struct {
		const char *type;
		unsigned bit;
		size_t off;
	} stat[] = {
	    {"anon", AM_CG_MS_ANON, offsetof(struct am_cgroup_memstat, anon)},
	    {"file", AM_CG_MS_FILE, offsetof(struct am_cgroup_memstat, file)},
	    {"kernel", AM_CG_MS_KERNEL, offsetof(struct am_cgroup_memstat, kernel)},
	    {"shmem", AM_CG_MS_SHMEM, offsetof(struct am_cgroup_memstat, shmem)},
	    {"file_mapped", AM_CG_MS_FILE_MAPPED, offsetof(struct am_cgroup_memstat, file_mapped)},
	    {"slab", AM_CG_MS_SLAB, offsetof(struct am_cgroup_memstat, slab)},
	    {"kernel_stack", AM_CG_MS_KERNEL_STACK,
	     offsetof(struct am_cgroup_memstat, kernel_stack)},
	    {"sock", AM_CG_MS_SOCK, offsetof(struct am_cgroup_memstat, sock)},
	    {"file_dirty", AM_CG_MS_FILE_DIRTY, offsetof(struct am_cgroup_memstat, file_dirty)},
	    {"file_writeback", AM_CG_MS_FILE_WRITEBACK,
	     offsetof(struct am_cgroup_memstat, file_writeback)},
	};
	const struct am_cgroup_memstat *ms = &s->memstat;
	size_t i;

	bytes(out,
	      DESC("antimetal_cgroup_memory_current_bytes", "Memory charged to the cgroup.", "By",
		   AM_METRIC_GAUGE, NULL),
	      s->have, AM_CG_MEM_USAGE, s->mem_usage, l);
	bytes(out,
	      DESC("antimetal_cgroup_memory_limit_bytes",
		   "Memory limit of the cgroup (memory.max, memory.limit_in_bytes).", "By",
		   AM_METRIC_GAUGE, NULL),
	      s->have, AM_CG_MEM_LIMIT, s->mem_limit, l);
	bytes(out,
	      DESC("antimetal_cgroup_memory_high_bytes",
		   "Memory above which the cgroup is throttled and reclaimed (memory.high).", "By",
		   AM_METRIC_GAUGE, NULL),
	      s->have, AM_CG_MEM_HIGH, s->mem_high, l);
	bytes(out,
	      DESC("antimetal_cgroup_memory_low_bytes",
		   "Memory of the cgroup protected from reclaim while others have reclaimable "
		   "memory (memory.low).",
		   "By", AM_METRIC_GAUGE, NULL),
	      s->have, AM_CG_MEM_LOW, s->mem_low, l);
	bytes(out,
	      DESC("antimetal_cgroup_memory_min_bytes",
		   "Memory of the cgroup never reclaimed (memory.min).", "By", AM_METRIC_GAUGE,
		   NULL),
	      s->have, AM_CG_MEM_MIN, s->mem_min, l);
	bytes(out,
	      DESC("antimetal_cgroup_memory_peak_bytes",
		   "Most memory the cgroup was charged (memory.peak, max_usage_in_bytes).", "By",
		   AM_METRIC_GAUGE, NULL),
	      s->have, AM_CG_MEM_PEAK, s->mem_peak, l);
	bytes(out,
	      DESC("antimetal_cgroup_memory_swap_bytes", "Swap used by the cgroup.", "By",
		   AM_METRIC_GAUGE, NULL),
	      s->have, AM_CG_MEM_SWAP, s->swap_usage, l);
	bytes(out,
	      DESC("antimetal_cgroup_memory_swap_limit_bytes", "Swap limit of the cgroup.", "By",
		   AM_METRIC_GAUGE, NULL),
	      s->have, AM_CG_MEM_SWAP_LIMIT, s->swap_limit, l);
	if (s->have & AM_CG_MEM_FAILCNT)
		add(out,
		    DESC("antimetal_cgroup_memory_failcnt_total",
			 "Times the cgroup hit its memory limit (v1 memory.failcnt).", "{event}",
			 AM_METRIC_COUNTER, NULL),
		    (double)s->mem_failcnt, l, NULL, NULL);
	for (i = 0; i < sizeof(stat) / sizeof(stat[0]); i++)
		if (ms->have & stat[i].bit)
			add(out,
			    DESC("antimetal_cgroup_memory_stat_bytes",
				 "Memory of the cgroup by type (memory.stat).", "By",
				 AM_METRIC_GAUGE, "type"),
			    (double)*(const uint64_t *)((const char *)ms + stat[i].off), l, "type",
			    stat[i].type);
	if (ms->have & AM_CG_MS_PGMAJFAULT)
		add(out,
		    DESC("antimetal_cgroup_memory_major_page_faults_total",
			 "Major page faults in the cgroup.", "{fault}", AM_METRIC_COUNTER, NULL),
		    (double)ms->pgmajfault, l, NULL, NULL);
	if (ms->have & AM_CG_MS_PGFAULT)
		add(out,
		    DESC("antimetal_cgroup_memory_page_faults_total", "Page faults in the cgroup.",
			 "{fault}", AM_METRIC_COUNTER, NULL),
		    (double)ms->pgfault, l, NULL, NULL);
}

static void emit_events(const struct am_cgroup_memevents *e, const struct am_cgroup_labels *l,
			struct am_metric_set *out)
{
	static const struct {
		const char *event;
		unsigned bit;
		size_t off;
	} ev[] = {
	    {"low", AM_CG_ME_LOW, offsetof(struct am_cgroup_memevents, low)},
	    {"high", AM_CG_ME_HIGH, offsetof(struct am_cgroup_memevents, high)},
	    {"max", AM_CG_ME_MAX, offsetof(struct am_cgroup_memevents, max)},
	    {"oom", AM_CG_ME_OOM, offsetof(struct am_cgroup_memevents, oom)},
	    {"oom_kill", AM_CG_ME_OOM_KILL, offsetof(struct am_cgroup_memevents, oom_kill)},
	    {"oom_group_kill", AM_CG_ME_OOM_GROUP_KILL,
	     offsetof(struct am_cgroup_memevents, oom_group_kill)},
	};
	size_t i;

	for (i = 0; i < sizeof(ev) / sizeof(ev[0]); i++)
		if (e->have & ev[i].bit)
			add(out,
			    DESC("antimetal_cgroup_memory_events_total",
				 "Memory events of the cgroup (memory.events; v1 "
				 "memory.oom_control has oom_kill).",
				 "{event}", AM_METRIC_COUNTER, "event"),
			    (double)*(const uint64_t *)((const char *)e + ev[i].off), l, "event",
			    ev[i].event);
	if (e->have & AM_CG_ME_UNDER_OOM)
		add(out,
		    DESC("antimetal_cgroup_memory_under_oom",
			 "1 while the cgroup is out of memory with the OOM killer disabled (v1).",
			 "1", AM_METRIC_GAUGE, NULL),
		    (double)e->under_oom, l, NULL, NULL);
}

static const struct am_metric_desc *pids_events_desc(void)
{
	return DESC(
	    "antimetal_cgroup_pids_events_total",
	    "Forks refused by pids.max (pids.events: max, and max.imposed on v2 from 6.12).",
	    "{event}", AM_METRIC_COUNTER, "event");
}

static void emit_pids_io(const struct am_cgroup_sample *s, const struct am_cgroup_labels *l,
			 struct am_metric_set *out)
{
	char dev[32];
	size_t i;

	if (s->have & AM_CG_PIDS)
		add(out,
		    DESC("antimetal_cgroup_pids", "Tasks in the cgroup (pids.current).", "{task}",
			 AM_METRIC_GAUGE, NULL),
		    (double)s->pids, l, NULL, NULL);
	if ((s->have & AM_CG_PIDS_LIMIT) && s->pids_limit != AM_CGROUP_UNLIMITED)
		add(out,
		    DESC("antimetal_cgroup_pids_limit", "Task limit of the cgroup (pids.max).",
			 "{task}", AM_METRIC_GAUGE, NULL),
		    (double)s->pids_limit, l, NULL, NULL);
	if (s->pids_events.have & AM_CG_PE_MAX)
		add(out, pids_events_desc(), (double)s->pids_events.max, l, "event", "max");
	if (s->pids_events.have & AM_CG_PE_MAX_IMPOSED)
		add(out, pids_events_desc(), (double)s->pids_events.max_imposed, l, "event",
		    "max.imposed");
	if (!(s->have & AM_CG_IO))
		return;
	for (i = 0; i < s->io.n; i++) {
		const struct am_cgroup_io_dev *d = &s->io.dev[i];

		snprintf(dev, sizeof(dev), "%u:%u", d->major, d->minor);
		add(out,
		    DESC("antimetal_cgroup_io_read_bytes_total",
			 "Bytes the cgroup read from DEVICE.", "By", AM_METRIC_COUNTER, "device"),
		    (double)d->rbytes, l, "device", dev);
		add(out,
		    DESC("antimetal_cgroup_io_written_bytes_total",
			 "Bytes the cgroup wrote to DEVICE.", "By", AM_METRIC_COUNTER, "device"),
		    (double)d->wbytes, l, "device", dev);
		add(out,
		    DESC("antimetal_cgroup_io_reads_total", "Read operations of the cgroup.",
			 "{operation}", AM_METRIC_COUNTER, "device"),
		    (double)d->rios, l, "device", dev);
		add(out,
		    DESC("antimetal_cgroup_io_writes_total", "Write operations of the cgroup.",
			 "{operation}", AM_METRIC_COUNTER, "device"),
		    (double)d->wios, l, "device", dev);
	}
	if (s->io.dropped)
		add(out,
		    DESC("antimetal_cgroup_io_devices_dropped",
			 "Device lines of the cgroup's I/O file past the per-cgroup device cap.",
			 "{device}", AM_METRIC_GAUGE, NULL),
		    (double)s->io.dropped, l, NULL, NULL);
}

static void emit_psi(const struct am_psi *p, const char *resource, const struct am_cgroup_labels *l,
		     struct am_metric_set *out)
{
	add(out,
	    DESC("antimetal_cgroup_pressure_waiting_seconds_total",
		 "Time some task of the cgroup was stalled on the resource.", "s",
		 AM_METRIC_COUNTER, "resource"),
	    (double)p->some_total_us / 1e6, l, "resource", resource);
	if (p->has_full)
		add(out,
		    DESC("antimetal_cgroup_pressure_stalled_seconds_total",
			 "Time all tasks of the cgroup were stalled on the resource.", "s",
			 AM_METRIC_COUNTER, "resource"),
		    (double)p->full_total_us / 1e6, l, "resource", resource);
}

void am_cgroup_emit(const struct am_cgroup_sample *s, const struct am_cgroup_labels *l,
		    struct am_metric_set *out)
{
	emit_cpu(&s->cpu, l, out);
	emit_memory(s, l, out);
	emit_events(&s->events, l, out);
	emit_pids_io(s, l, out);
	if (s->have & AM_CG_PSI_CPU)
		emit_psi(&s->psi_cpu, "cpu", l, out);
	if (s->have & AM_CG_PSI_MEMORY)
		emit_psi(&s->psi_memory, "memory", l, out);
	if (s->have & AM_CG_PSI_IO)
		emit_psi(&s->psi_io, "io", l, out);
}
