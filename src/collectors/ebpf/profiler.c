#include "collectors/ebpf/profiler.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "collectors/ebpf/profile_build.h"
#include "collectors/ebpf/profile_unwind.h"
#include "collectors/ebpf/sideband.h"
#include "core/bpf_load.h"
#include "core/cgroup_path.h"
#include "core/percpu.h"
#include "core/perf_ring.h"
#include "core/probes.h"
#include "profiler.skel.h"
#include "profiler_types.h"
#include "symbolize/usym.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"

struct am_profiler {
	struct am_profiler_opts opts;
	uint32_t *pids;
	uint64_t *cgroup_ids;
	struct profiler_bpf *skel;
	struct am_bpf_open_state st;
	struct am_perf_attachment *att;
	int natt;
	struct perf_buffer *pb;
	struct am_sideband *sb; /* NULL: mappings from /proc only */
	bool sb_disabled;	/* turned off on purpose */
	int sb_error;		/* why it could not be opened (-errno), 0 otherwise */
	unsigned sb_captures;	/* generations captured from its records */
	struct am_usym_rec_stats sb_files;
	int ep; /* the notification fd: the perf buffer's and the side band's */
	struct am_usym *usym;
	enum am_attach_mode attach; /* as resolved */
	struct am_profile meta;	    /* event, attach mode...: copied into the collected profile */
	uint64_t start_mono_ns;
	uint64_t newpid_lost;
	bool detached;
	/* cgroup ids to paths for the samples' labels; NULL without a cgroup2 mount */
	struct am_cgroup_paths *cgroups;
	/* dwarf/auto: the copied stacks' buffer (one of the two) and their table */
	struct ring_buffer *rb;
	struct perf_buffer *spb;
	struct am_punw *unw;
	bool copies;	   /* samples of user tasks are copied out (dwarf/auto with user stacks) */
	bool ringbuf;	   /* copies come through the ring buffer */
	bool task_regs;	   /* bpf_task_pt_regs is used */
	uint32_t user_max; /* frames kept per unwound user stack */
};

int am_call_graph_parse(const char *s, enum am_call_graph *mode, uint32_t *size)
{
	static const char *const names[] = {"fp", "dwarf", "auto"};
	const char *comma = strchr(s, ',');
	size_t len = comma ? (size_t)(comma - s) : strlen(s);
	unsigned long long v;
	char *end;
	int i;

	*size = AM_PROFILER_COPY_DEFAULT;
	for (i = 0; i < 3; i++)
		if (strlen(names[i]) == len && !strncmp(s, names[i], len))
			break;
	if (i == 3 || (comma && i == AM_CALL_GRAPH_FP))
		return -EINVAL;
	*mode = (enum am_call_graph)i;
	if (!comma)
		return 0;
	errno = 0;
	v = strtoull(comma + 1, &end, 10);
	if (errno || end == comma + 1 || *end || comma[1] == '-' || !v ||
	    v > AM_PROFILER_COPY_MAX || v % 8)
		return -EINVAL;
	*size = (uint32_t)v;
	return 0;
}

const char *am_call_graph_name(enum am_call_graph mode)
{
	return mode == AM_CALL_GRAPH_DWARF ? "dwarf" : mode == AM_CALL_GRAPH_AUTO ? "auto" : "fp";
}

_Static_assert((int)AM_CALL_GRAPH_DWARF == PROFILER_CG_DWARF &&
		   (int)AM_CALL_GRAPH_AUTO == PROFILER_CG_AUTO &&
		   (int)AM_CALL_GRAPH_FP == PROFILER_CG_FP,
	       "one numbering for the program and the library");
_Static_assert(AM_PROFILER_COPY_MAX == PROFILER_COPY_MAX, "the program's copy buffer");

static void on_newpid(struct am_profiler *p, const struct profiler_newproc *ev, uint64_t time)
{
	int err;

	/* The side band needs the time to tell which exec this mm came from. */
	am_sideband_announce(p->sb, ev->pid, ev->mm, time);
	/* New, or announced again after an exec (new mm): capture this generation. A process
	 * already gone is captured from the side band's records at the end. */
	err = am_usym_snapshot(p->usym, ev->pid, ev->mm);
	if (err)
		am_debug("pid %u: mappings not captured from /proc: %s%s", ev->pid, strerror(-err),
			 p->sb ? " (the side band's records will be used)" : "");
}

/* A record of the notifications' perf buffer: PERF_RECORD_SAMPLE is {header; u64 time; u32
 * size; char raw[size]} (sample_type TIME|RAW), the raw part a struct profiler_newproc. */
static enum bpf_perf_event_ret on_newpid_record(void *ctx, int cpu, struct perf_event_header *h)
{
	const uint8_t *rec = (const uint8_t *)h;
	struct am_profiler *p = ctx;
	struct profiler_newproc ev;
	uint64_t time, lost[2];
	uint32_t size;

	(void)cpu;
	if (h->type == PERF_RECORD_LOST && h->size >= sizeof(*h) + sizeof(lost)) {
		memcpy(lost, rec + sizeof(*h), sizeof(lost)); /* {u64 id, lost} */
		p->newpid_lost += lost[1];
	} else if (h->type == PERF_RECORD_SAMPLE && h->size >= sizeof(*h) + 12 + sizeof(ev)) {
		memcpy(&time, rec + sizeof(*h), sizeof(time));
		memcpy(&size, rec + sizeof(*h) + 8, sizeof(size));
		if (size >= sizeof(ev) && sizeof(*h) + 12 + (size_t)size <= h->size) {
			memcpy(&ev, rec + sizeof(*h) + 12, sizeof(ev));
			on_newpid(p, &ev, time);
		}
	}
	return LIBBPF_PERF_EVENT_CONT;
}

static struct perf_buffer *newpid_buffer(struct am_profiler *p)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_BPF_OUTPUT;
	/* Stamped with the side band's clock, to place each announcement among the execs. */
	attr.sample_type = PERF_SAMPLE_RAW | PERF_SAMPLE_TIME;
	attr.use_clockid = 1;
	attr.clockid = CLOCK_MONOTONIC;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	return perf_buffer__new_raw(bpf_map__fd(p->skel->maps.newpids), 8, &attr, on_newpid_record,
				    p, NULL);
}

static void perf_open_error(const char *event, int err)
{
	char paranoid[32] = "?";

	if (err != -EACCES && err != -EPERM) {
		am_err("perf_event_open(%s) failed: %s", event, strerror(-err));
		return;
	}
	if (!am_file_first_line("/proc/sys/kernel/perf_event_paranoid", paranoid, sizeof(paranoid)))
		paranoid[strcspn(paranoid, "\n")] = '\0';
	am_err("perf_event_open(%s) not permitted: system-wide sampling needs CAP_PERFMON (or "
	       "CAP_SYS_ADMIN), or the sysctl kernel.perf_event_paranoid <= 0 (it is %s)",
	       event, paranoid);
}

static void fill_attr(struct perf_event_attr *attr, const struct am_perf_event_desc *ev,
		      const struct am_profiler_opts *o)
{
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	attr->type = ev->type;
	attr->config = ev->config;
	if (o->freq) {
		attr->freq = 1;
		attr->sample_freq = o->freq;
	} else {
		attr->sample_period = o->period;
	}
	/* The BPF program reads what it needs from the registers, but an event without a sample
	 * type and wakeup never delivers overflows on some kernels (the spec's "hanging tests"). */
	attr->sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID;
	attr->wakeup_events = 1;
	attr->disabled = 1; /* enabled by the attach, once the program is on it */
}

/* Open and attach EV on every online CPU. -ENOENT/-EOPNOTSUPP/-ENODEV from the first CPU mean
 * the event does not exist here (no PMU) and are returned unlogged for the fallback. */
static int open_events(struct am_profiler *p, const struct am_perf_event_desc *ev)
{
	int ncpus = libbpf_num_possible_cpus(), cpu, err, fd;
	struct perf_event_attr attr;
	bool *online;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	online = calloc((size_t)ncpus, sizeof(*online));
	if (!p->att) /* kept across the fallback's second call */
		p->att = calloc((size_t)ncpus, sizeof(*p->att));
	if (!online || !p->att) {
		free(online);
		return -ENOMEM;
	}
	err = am_online_cpus(online, ncpus);
	if (err < 0) {
		am_err("cannot read /sys/devices/system/cpu/online: %s", strerror(-err));
		free(online);
		return err;
	}
	fill_attr(&attr, ev, &p->opts);
	err = 0;
	for (cpu = 0; cpu < ncpus; cpu++) {
		if (!online[cpu])
			continue;
		fd = am_perf_event_open(&attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd == -ENODEV)
			continue; /* went offline meanwhile */
		if (fd < 0) {
			err = fd;
			if (p->natt == 0 && am_perf_event_is_hw(ev) &&
			    (err == -ENOENT || err == -EOPNOTSUPP))
				break;
			perf_open_error(ev->name, err);
			break;
		}
		err =
		    am_perf_attach(p->skel->progs.profile_sample, fd, p->attach, &p->att[p->natt]);
		if (err) {
			am_err("attaching the profiler to %s on CPU %d (%s) failed: %s", ev->name,
			       cpu, am_attach_mode_name(p->attach), strerror(-err));
			break;
		}
		p->natt++;
	}
	free(online);
	if (err) {
		while (p->natt > 0)
			am_perf_detach(&p->att[--p->natt]);
		return err;
	}
	if (!p->natt) {
		am_err("no online CPU to profile");
		return -ENODEV;
	}
	return 0;
}

_Static_assert(AM_PROFILER_MAX_STACK == PROFILER_MAX_STACK_DEPTH, "the program's stack buffer");

/* Bytes of records kept waiting for the mappings of their process (the end of the profile). */
#define DEFER_BYTES (4u << 20)

/* The frames a stack keeps: WANT (0: as many as possible), within the program's buffer and
 * kernel.perf_event_max_stack, below which the kernel's walk stops anyway (a stack cut there
 * must still be seen as cut). */
static uint32_t effective_max_stack(uint32_t want)
{
	uint32_t n = want && want < PROFILER_MAX_STACK_DEPTH ? want : PROFILER_MAX_STACK_DEPTH;
	unsigned long long k = 0;
	char line[64];

	if (!am_file_first_line("/proc/sys/kernel/perf_event_max_stack", line, sizeof(line)) &&
	    sscanf(line, "%llu", &k) == 1 && k && k < n)
		n = (uint32_t)k;
	return n;
}

/* Whether the subtree filter can ask the kernel for the task's ancestors
 * (bpf_get_current_ancestor_cgroup_id: 5.7+, and perf_event programs got it later still); the
 * program otherwise reads them through CO-RE. */
static bool ancestor_helper(const struct am_profiler_opts *o)
{
	const char *env = getenv("ANTIMETAL_PROFILER_CGROUP_WALK");
	bool have;

	if (o->cgroup_walk || (env && *env && strcmp(env, "0"))) {
		am_debug("profiler: cgroup subtrees matched by walking kernfs parents (forced)");
		return false;
	}
	have = libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT,
				       BPF_FUNC_get_current_ancestor_cgroup_id, NULL) > 0;
	am_debug("profiler: cgroup subtrees matched %s",
		 have ? "with bpf_get_current_ancestor_cgroup_id"
		      : "by walking kernfs parents (no ancestor helper for perf_event programs)");
	return have;
}

/* Turn an output map this run does not use into the cheapest valid map of a type every
 * kernel has (a kernel without ring buffers cannot create one). */
static int minimal_map(struct bpf_map *m)
{
	int err = bpf_map__set_type(m, BPF_MAP_TYPE_PERF_EVENT_ARRAY);

	err = err ? err : bpf_map__set_key_size(m, sizeof(__u32));
	err = err ? err : bpf_map__set_value_size(m, sizeof(__u32));
	return err ? err : bpf_map__set_max_entries(m, 1);
}

static size_t pow2_at_least(size_t n)
{
	size_t v = 1;

	while (v < n)
		v <<= 1;
	return v;
}

/* Records a buffer holds per CPU before the reader must have caught up, and the ring buffer's
 * largest size (it is mapped into the reader: part of its memory on a host with many CPUs). */
#define COPIES_PER_CPU 32
#define RING_MAX       (8u << 20)
/* A buffer wakes its reader when this fraction of it is full (the reader also drains it on its
 * once-a-second tick, see am_profiler_handle_notices). */
#define WAKEUP_FRACTION 4

static size_t record_bytes(const struct am_profiler *p)
{
	return sizeof(struct profiler_sample) + p->opts.copy_size;
}

/* The rodata and maps of the copied stacks: on only for dwarf/auto with user stacks, through
 * a ring buffer where the kernel has one. The kernel-mode samples' user registers come from
 * bpf_task_pt_regs where the kernel has it (5.15+). */
static int configure_copies(struct am_profiler *p)
{
	struct profiler_bpf *s = p->skel;
	const struct am_profiler_opts *o = &p->opts;
	int ncpus = libbpf_num_possible_cpus(), err;
	char why[160];

	p->copies = o->user_stacks && o->call_graph != AM_CALL_GRAPH_FP;
	s->rodata->call_graph = p->copies ? (__u32)o->call_graph : PROFILER_CG_FP;
	s->rodata->copy_size = o->copy_size;
	s->rodata->have_cgroup_id =
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_get_current_cgroup_id,
				    NULL) > 0;
	if (!p->copies) {
		err = minimal_map(s->maps.samples_rb);
		return err ? err : bpf_map__set_max_entries(s->maps.samples_pb, 1);
	}
	s->rodata->use_probe_read_user =
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_probe_read_user, NULL) != 0;
	p->task_regs = !o->no_task_regs && libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT,
								   BPF_FUNC_task_pt_regs, NULL) > 0;
	s->rodata->have_task_pt_regs = p->task_regs;
	p->ringbuf = o->buffer == AM_PROFILER_BUF_RINGBUF;
	if (o->buffer == AM_PROFILER_BUF_AUTO) {
		err = am_probe_ringbuf();
		if (err < 0 && am_probe_refusal(err, why, sizeof(why))) {
			/* the load would be refused too: say so, not "no ring buffer" */
			am_err("profiler: creating a BPF ring buffer was %s", why);
			return err;
		}
		if (err < 0)
			am_warn("profiler: creating a BPF ring buffer failed (%s); using the perf "
				"buffer",
				strerror(-err));
		p->ringbuf = err > 0;
	}
	s->rodata->use_ringbuf = p->ringbuf;
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	err = bpf_map__set_max_entries(s->maps.sample_scratch, (__u32)ncpus);
	if (err)
		return err;
	if (p->ringbuf) {
		size_t ring = pow2_at_least((size_t)ncpus * COPIES_PER_CPU * record_bytes(p));

		if (ring > RING_MAX)
			ring = RING_MAX;

		s->rodata->wakeup_bytes = ring / WAKEUP_FRACTION;
		return bpf_map__set_max_entries(s->maps.samples_rb, (__u32)ring);
	}
	return minimal_map(s->maps.samples_rb);
}

static int on_copy_rb(void *ctx, void *data, size_t size)
{
	struct am_profiler *p = ctx;

	am_punw_add(p->unw, data, size);
	return 0;
}

/* A record of the copies' perf buffer: PERF_RECORD_SAMPLE is {header; u32 size; char
 * raw[size]} (sample_type RAW), PERF_RECORD_LOST {header; u64 id, lost}. */
static enum bpf_perf_event_ret on_copy_pb(void *ctx, int cpu, struct perf_event_header *h)
{
	const uint8_t *rec = (const uint8_t *)h;
	struct am_profiler *p = ctx;
	uint64_t lost[2];
	uint32_t size;

	(void)cpu;
	if (h->type == PERF_RECORD_LOST && h->size >= sizeof(*h) + sizeof(lost)) {
		memcpy(lost, rec + sizeof(*h), sizeof(lost));
		am_punw_dropped(p->unw, lost[1]);
	} else if (h->type == PERF_RECORD_SAMPLE && h->size >= sizeof(*h) + sizeof(size)) {
		memcpy(&size, rec + sizeof(*h), sizeof(size));
		if (sizeof(*h) + sizeof(size) + (size_t)size <= h->size)
			am_punw_add(p->unw, rec + sizeof(*h) + sizeof(size), size);
		else
			am_punw_add(p->unw, rec, 0); /* counted as malformed */
	}
	return LIBBPF_PERF_EVENT_CONT;
}

/* The copies' perf buffer, waking the reader at a quarter full rather than at every record. */
static struct perf_buffer *copies_perf_buffer(struct am_profiler *p)
{
	size_t pages = pow2_at_least(COPIES_PER_CPU * record_bytes(p) / (size_t)getpagesize());
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_BPF_OUTPUT;
	attr.sample_type = PERF_SAMPLE_RAW;
	attr.sample_period = 1;
	attr.watermark = 1;
	attr.wakeup_watermark = (__u32)(pages * (size_t)getpagesize() / WAKEUP_FRACTION);
	return perf_buffer__new_raw(bpf_map__fd(p->skel->maps.samples_pb), pages, &attr, on_copy_pb,
				    p, NULL);
}

/* The reader of the copied stacks and their table. */
static int open_copies(struct am_profiler *p)
{
	struct am_punw_opts uo = {
	    .mode = (enum profiler_call_graph)p->opts.call_graph,
	    .max_frames = p->user_max,
	    .max_entries = p->opts.count_entries
			       ? p->opts.count_entries
			       : 4 * (size_t)(p->opts.stack_entries ? p->opts.stack_entries
								    : AM_PROFILER_DEFAULT_STACKS),
	    .defer_bytes = DEFER_BYTES,
	    .stacks_fd = bpf_map__fd(p->skel->maps.stacks),
	    .usym = p->usym,
	    .sb = p->sb,
	    .sb_captures = &p->sb_captures,
	    .sb_files = &p->sb_files,
	};
	int err;

	if (!p->copies)
		return 0;
	err = am_punw_new(&uo, &p->unw);
	if (err)
		return err;
	if (p->ringbuf)
		p->rb =
		    ring_buffer__new(bpf_map__fd(p->skel->maps.samples_rb), on_copy_rb, p, NULL);
	else
		p->spb = copies_perf_buffer(p);
	if (!p->rb && !p->spb) {
		err = -errno;
		am_err("cannot open the profiler's %s for copied stacks: %s",
		       p->ringbuf ? "ring buffer" : "perf buffer", strerror(-err));
		return err;
	}
	am_debug("profiler: call graph %s, %u stack bytes per sample through a %s, user registers "
		 "of kernel-mode samples %s",
		 am_call_graph_name(p->opts.call_graph), p->opts.copy_size,
		 p->ringbuf ? "ring buffer" : "perf buffer",
		 p->task_regs ? "from bpf_task_pt_regs"
			      : "unavailable (no bpf_task_pt_regs: kernel before 5.15)");
	return 0;
}

/* Frames an unwound user stack keeps: WANT up to AM_PROFILER_MAX_STACK_UNWIND and
 * kernel.perf_event_max_stack (the user-space unwinder has no buffer of 127). */
static uint32_t user_max_stack(const struct am_profiler_opts *o)
{
	uint32_t n = o->max_stack ? o->max_stack : AM_PROFILER_MAX_STACK;
	unsigned long long k = 0;
	char line[64];

	if (o->call_graph == AM_CALL_GRAPH_FP)
		return effective_max_stack(o->max_stack);
	if (n > AM_PROFILER_MAX_STACK_UNWIND)
		n = AM_PROFILER_MAX_STACK_UNWIND;
	if (!am_file_first_line("/proc/sys/kernel/perf_event_max_stack", line, sizeof(line)) &&
	    sscanf(line, "%llu", &k) == 1 && k && k < n)
		n = (uint32_t)k;
	return n;
}

static int load(struct am_profiler *p)
{
	const struct am_profiler_opts *o = &p->opts;
	struct profiler_bpf *s;
	uint32_t nstacks;
	__u8 one = 1;
	size_t i;
	int err;

	s = p->skel = AM_SKEL_OPEN(profiler_bpf, "profiler", o->btf_path, &p->st);
	if (!s)
		return -errno;
	s->rodata->filter_pids = o->npids > 0;
	s->rodata->filter_cgroups = o->ncgroups > 0;
	s->rodata->use_ancestor_helper = o->ncgroups && ancestor_helper(o);
	s->rodata->kernel_stacks = o->kernel_stacks;
	s->rodata->user_stacks = o->user_stacks;
	s->rodata->include_idle = o->include_idle;
	s->rodata->max_stack = o->max_stack;
	err = configure_copies(p);
	if (err)
		return err;
	nstacks = o->stack_entries ? o->stack_entries : AM_PROFILER_DEFAULT_STACKS;
	bpf_map__set_max_entries(s->maps.stacks, nstacks);
	bpf_map__set_max_entries(s->maps.counts, o->count_entries ? o->count_entries : 4 * nstacks);
	err = profiler_bpf__load(s);
	if (err) {
		am_bpf_report_load_error("the profiler's BPF program", err);
		return err;
	}
	for (i = 0; i < o->npids; i++) {
		err = bpf_map__update_elem(s->maps.pids, &o->pids[i], sizeof(o->pids[i]), &one,
					   sizeof(one), BPF_ANY);
		if (err) {
			am_err("cannot add pid %u to the profiler's filter: %s", o->pids[i],
			       strerror(-err));
			return err;
		}
	}
	for (i = 0; i < o->ncgroups; i++) {
		err = bpf_map__update_elem(s->maps.cgroups, &o->cgroup_ids[i],
					   sizeof(o->cgroup_ids[i]), &one, sizeof(one), BPF_ANY);
		if (err) {
			am_err("cannot add cgroup %llu to the profiler's filter: %s",
			       (unsigned long long)o->cgroup_ids[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Open the mmap side band unless turned off; without it (old kernel, no permission) the
 * profile goes on with /proc alone, as before. */
static void open_sideband(struct am_profiler *p)
{
	struct am_sideband_opts so = {.pids = p->opts.pids, .npids = p->opts.npids};
	const char *env = getenv("ANTIMETAL_PROFILER_NO_SIDEBAND");
	static bool told; /* once per process: the daemon opens a profiler every window */
	struct am_sideband_stats st;
	int err;

	if (!p->opts.user_stacks)
		return; /* no user frames to symbolize */
	if (p->opts.no_sideband || (env && *env && strcmp(env, "0"))) {
		p->sb_disabled = true;
		am_debug("profiler: mmap side band turned off%s: mappings are read from /proc only",
			 p->opts.no_sideband ? "" : " (ANTIMETAL_PROFILER_NO_SIDEBAND)");
		return;
	}
	err = am_sideband_open(&so, &p->sb);
	if (err) {
		p->sb_error = err;
		am_log(told ? AM_LOG_DEBUG : AM_LOG_INFO,
		       "profiler: no mmap side band (dummy perf event: %s); processes that exit "
		       "before /proc/PID/maps is read keep [unknown] frames",
		       strerror(-err));
		told = true;
		return;
	}
	am_sideband_stats(p->sb, &st);
	am_debug("profiler: mmap side band on %d CPUs, %u pages each, build-ids %s", st.ncpus,
		 st.pages, st.build_ids ? "asked for" : "not available (kernel < 5.12)");
}

/* The resolver of the samples' cgroup ids to paths; without a cgroup2 mount (cgroup v1 only)
 * the samples carry no cgroup labels, which is no error. */
static void open_cgroup_paths(struct am_profiler *p)
{
	char mnt[256];

	if (am_cgroup2_mount(NULL, mnt, sizeof(mnt))) {
		am_debug("profiler: no cgroup2 mount: samples carry no cgroup labels");
		return;
	}
	if (am_cgroup_paths_open(NULL, &p->cgroups))
		p->cgroups = NULL; /* logged: labels are left out */
}

/* One fd for callers' event loops: the perf buffer's epoll fd and the side band's. */
static int notify_epoll(struct am_profiler *p)
{
	struct epoll_event ev = {.events = EPOLLIN};

	p->ep = epoll_create1(EPOLL_CLOEXEC);
	if (p->ep < 0 || epoll_ctl(p->ep, EPOLL_CTL_ADD, perf_buffer__epoll_fd(p->pb), &ev) < 0 ||
	    (p->sb && epoll_ctl(p->ep, EPOLL_CTL_ADD, am_sideband_fd(p->sb), &ev) < 0) ||
	    (p->rb && epoll_ctl(p->ep, EPOLL_CTL_ADD, ring_buffer__epoll_fd(p->rb), &ev) < 0) ||
	    (p->spb && epoll_ctl(p->ep, EPOLL_CTL_ADD, perf_buffer__epoll_fd(p->spb), &ev) < 0)) {
		int err = -errno;

		am_err("profiler: epoll: %s", strerror(-err));
		return err;
	}
	return 0;
}

int am_profiler_open(const struct am_profiler_opts *opts, struct am_profiler **out)
{
	const struct am_perf_event_desc *ev, *clock = am_perf_event_find("cpu-clock");
	struct am_profiler *p;
	size_t i;
	int err;

	*out = NULL;
	ev = am_perf_event_find(opts->event ? opts->event : "cpu-clock");
	if (!ev) {
		am_err("unknown event '%s' (known: %s)", opts->event, am_perf_event_names());
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ep = -1;
	p->opts = *opts;
	p->opts.max_stack = effective_max_stack(opts->max_stack);
	p->user_max = user_max_stack(opts);
	if (!p->opts.copy_size)
		p->opts.copy_size = AM_PROFILER_COPY_DEFAULT;
	if (p->opts.copy_size > AM_PROFILER_COPY_MAX || p->opts.copy_size % 8) {
		am_err("profiler: a stack copy of %u bytes: it must be a multiple of 8 up to %u",
		       p->opts.copy_size, AM_PROFILER_COPY_MAX);
		free(p);
		return -EINVAL;
	}
	if (opts->ncgroups) {
		p->cgroup_ids = calloc(opts->ncgroups, sizeof(*p->cgroup_ids));
		if (!p->cgroup_ids) {
			free(p);
			return -ENOMEM;
		}
		memcpy(p->cgroup_ids, opts->cgroup_ids, opts->ncgroups * sizeof(*p->cgroup_ids));
		p->opts.cgroup_ids = p->cgroup_ids;
	}
	if (opts->npids) {
		p->pids = calloc(opts->npids, sizeof(*p->pids));
		if (!p->pids) {
			free(p->cgroup_ids);
			free(p);
			return -ENOMEM;
		}
		memcpy(p->pids, opts->pids, opts->npids * sizeof(*p->pids));
		p->opts.pids = p->pids;
	}
	p->usym = opts->usym ? opts->usym : am_usym_new(NULL, NULL);
	if (!p->usym) {
		err = -ENOMEM;
		goto fail;
	}
	err = load(p);
	if (err)
		goto fail;
	open_cgroup_paths(p);
	err = am_attach_mode_resolve(opts->attach, bpf_program__fd(p->skel->progs.profile_sample),
				     &p->attach);
	if (err)
		goto fail;
	p->pb = newpid_buffer(p);
	if (!p->pb) {
		err = -errno;
		am_err("cannot create the profiler's perf buffer: %s", strerror(-err));
		goto fail;
	}
	/* Before the sampling starts, so every exec sampled has its records. */
	open_sideband(p);
	err = open_copies(p);
	if (err)
		goto fail;
	err = notify_epoll(p);
	if (err)
		goto fail;
	/* Processes named with -p are alive now: capture them before they can exit (afresh: a
	 * reused symbolizer may hold an older process with the same pid). */
	for (i = 0; i < opts->npids; i++) {
		am_usym_forget(p->usym, opts->pids[i]);
		am_usym_snapshot(p->usym, opts->pids[i], 0);
	}

	snprintf(p->meta.requested_event, sizeof(p->meta.requested_event), "%s", ev->name);
	err = open_events(p, ev);
	if ((err == -ENOENT || err == -EOPNOTSUPP) && am_perf_event_is_hw(ev)) {
		if (opts->no_fallback) {
			am_err("event '%s' is not available on this machine (no hardware PMU: %s) "
			       "and falling back to cpu-clock was not allowed",
			       ev->name, strerror(-err));
			err = -EOPNOTSUPP;
			goto fail;
		}
		am_warn("event '%s' is not available on this machine (no hardware PMU: %s); "
			"falling back to the software event cpu-clock",
			ev->name, strerror(-err));
		p->meta.fell_back = true;
		ev = clock;
		err = open_events(p, ev);
	}
	if (err)
		goto fail;
	snprintf(p->meta.event, sizeof(p->meta.event), "%s", ev->name);
	p->meta.freq = opts->freq;
	p->meta.period = opts->freq ? 0 : opts->period;
	snprintf(p->meta.attach, sizeof(p->meta.attach), "%s", am_attach_mode_name(p->attach));
	p->meta.ncpus = p->natt;
	p->meta.start_ns = am_clock_ns(CLOCK_REALTIME);
	p->start_mono_ns = am_clock_ns(CLOCK_MONOTONIC);
	*out = p;
	return 0;
fail:
	am_profiler_close(p);
	return err;
}

uint64_t am_profiler_samples(struct am_profiler *p)
{
	uint64_t sum[PROFILER_STAT_MAX];

	am_percpu_sums(bpf_map__fd(p->skel->maps.stats), 0, PROFILER_STAT_MAX, sum);
	return sum[PROFILER_STAT_COUNTED] + sum[PROFILER_STAT_SENT];
}

int am_profiler_notify_fd(const struct am_profiler *p)
{
	return p->ep;
}

int am_profiler_handle_notices(struct am_profiler *p)
{
	int n = perf_buffer__consume(p->pb), m = 0;

	am_sideband_read(p->sb);
	/* After the notices and the side band: the copies' processes are captured by then. */
	if (p->rb)
		m = ring_buffer__consume(p->rb);
	else if (p->spb)
		m = perf_buffer__consume(p->spb);
	return n < 0 ? n : m < 0 ? m : 0;
}

static void detach(struct am_profiler *p)
{
	if (p->detached)
		return;
	while (p->natt > 0)
		am_perf_detach(&p->att[--p->natt]);
	p->detached = true;
}

/* The side band's counters into OUT; losses are warnings, the rest shown with -v. */
static void sideband_report(struct am_profiler *p, struct am_profile *out)
{
	struct am_profile_sideband *s = &out->sideband;
	struct am_sideband_stats st = {0};

	s->active = p->sb != NULL;
	s->disabled = p->sb_disabled;
	s->error = p->sb_error;
	if (!s->active) {
		am_debug("mmap side band: %s%s",
			 s->disabled ? "turned off"
			 : s->error  ? "not available: "
				     : "not used (no user stacks)",
			 s->error ? strerror(-s->error) : "");
		return;
	}
	am_sideband_stats(p->sb, &st);
	s->ncpus = st.ncpus;
	s->pages = st.pages;
	s->build_ids = st.build_ids;
	s->records = st.records;
	s->mmaps = st.mmaps;
	s->execs = st.execs;
	s->forks = st.forks;
	s->exits = st.exits;
	s->captures = p->sb_captures;
	s->files.files = p->sb_files.files;
	s->files.missing = p->sb_files.missing;
	s->files.mismatched = p->sb_files.mismatched;
	out->lost[AM_PROFILE_LOST_SIDEBAND_DROPPED] = st.lost;
	out->lost[AM_PROFILE_LOST_SIDEBAND_MALFORMED] = st.malformed;
	out->lost[AM_PROFILE_LOST_SIDEBAND_BOUND] = st.dropped;
	am_debug("mmap side band: %llu records on %d CPUs: %llu executable mappings, %llu execs, "
		 "%llu forks, %llu exits; %u generations captured from them (files: %u found, %u "
		 "missing, %u replaced)",
		 (unsigned long long)st.records, st.ncpus, (unsigned long long)st.mmaps,
		 (unsigned long long)st.execs, (unsigned long long)st.forks,
		 (unsigned long long)st.exits, s->captures, s->files.files, s->files.missing,
		 s->files.mismatched);
	if (st.lost || st.malformed || st.dropped)
		am_warn("mmap side band: %llu records lost (buffer full), %llu malformed, %llu "
			"dropped (memory bound): processes they describe may show [unknown] frames",
			(unsigned long long)st.lost, (unsigned long long)st.malformed,
			(unsigned long long)st.dropped);
}

/* The kernel side's counters, summed over CPUs, into the record's samples and lost parts. */
static void read_stats(struct am_profiler *p, struct am_profile *out)
{
	static const enum profiler_stat lost[AM_PROFILE_LOST_MAX] = {
	    [AM_PROFILE_LOST_COUNTS_FULL] = PROFILER_STAT_COUNTS_FULL,
	    [AM_PROFILE_LOST_KSTACK_FULL] = PROFILER_STAT_KSTACK_FULL,
	    [AM_PROFILE_LOST_KSTACK_OTHER] = PROFILER_STAT_KSTACK_OTHER,
	    [AM_PROFILE_LOST_USTACK_EFAULT] = PROFILER_STAT_USTACK_EFAULT,
	    [AM_PROFILE_LOST_USTACK_FULL] = PROFILER_STAT_USTACK_FULL,
	    [AM_PROFILE_LOST_USTACK_OTHER] = PROFILER_STAT_USTACK_OTHER,
	    [AM_PROFILE_LOST_NOTICE_UNSENT] = PROFILER_STAT_NEWPID_LOST,
	    [AM_PROFILE_LOST_ANNOUNCED_FULL] = PROFILER_STAT_SEEN_FULL,
	    [AM_PROFILE_LOST_COPY_UNSENT] = PROFILER_STAT_SEND_FAILED,
	};
	struct am_profile_samples *s = &out->samples;
	uint64_t st[PROFILER_STAT_MAX];
	int i;

	am_percpu_sums(bpf_map__fd(p->skel->maps.stats), 0, PROFILER_STAT_MAX, st);
	s->seen = st[PROFILER_STAT_SEEN];
	s->idle = st[PROFILER_STAT_IDLE];
	s->filtered = st[PROFILER_STAT_FILTERED];
	s->counted = st[PROFILER_STAT_COUNTED];
	s->kstack_empty = st[PROFILER_STAT_KSTACK_EMPTY];
	s->ustack_kthread = st[PROFILER_STAT_USTACK_KTHREAD];
	out->max_stack = p->opts.max_stack;
	for (i = 0; i < AM_PROFILE_LOST_MAX; i++)
		if (lost[i]) /* 0 (SEEN) marks the parts not counted on the kernel side */
			out->lost[i] = st[lost[i]];
	out->lost[AM_PROFILE_LOST_NOTICE_DROPPED] = p->newpid_lost;
	out->call_graph.sent = st[PROFILER_STAT_SENT];
	out->call_graph.copied_bytes = st[PROFILER_STAT_COPY_BYTES];
}

/* The unwound samples into OUT: counted ones, losses, the unwinder's results with -v. */
static void unwind_report(struct am_profiler *p, struct am_profile *out)
{
	const struct am_punw_stats *u;
	int i;

	snprintf(out->call_graph.mode, sizeof(out->call_graph.mode), "%s",
		 am_call_graph_name(p->copies ? p->opts.call_graph : AM_CALL_GRAPH_FP));
	out->call_graph.copy_size = p->copies ? p->opts.copy_size : 0;
	out->call_graph.user_max_stack = p->user_max;
	if (!p->unw)
		return;
	u = am_punw_stats(p->unw);
	out->samples.counted += u->counted;
	out->call_graph.unwound = u->dwarf;
	out->call_graph.fp_fallback = u->fp;
	out->call_graph.reached_entry = u->stop[AM_UNWIND_END];
	out->call_graph.unwind_ns = u->ns;
	for (i = 0; i < AM_PROFILE_LOST_MAX; i++)
		out->lost[i] += u->lost[i];
	am_debug(
	    "call graph %s: %llu records (%llu stack bytes, %.1f us each to unwind and count), "
	    "%llu deferred for their mappings; user stacks: %llu unwound (%llu reached the "
	    "entry, %llu cut at the copy's end, %llu at an address without CFI, %llu stopped "
	    "early, %llu at --max-stack), %llu from the frame-pointer walk",
	    am_call_graph_name(p->opts.call_graph), (unsigned long long)u->records,
	    (unsigned long long)u->bytes, u->records ? (double)u->ns / 1e3 / (double)u->records : 0,
	    (unsigned long long)u->deferred, (unsigned long long)u->dwarf,
	    (unsigned long long)u->stop[AM_UNWIND_END],
	    (unsigned long long)u->stop[AM_UNWIND_TRUNCATED],
	    (unsigned long long)u->stop[AM_UNWIND_NO_CFI],
	    (unsigned long long)u->stop[AM_UNWIND_FAILED],
	    (unsigned long long)u->stop[AM_UNWIND_MAX], (unsigned long long)u->fp);
}

int am_profiler_collect(struct am_profiler *p, struct am_profile *out)
{
	struct am_profile_build_src src = {
	    .counts_fd = bpf_map__fd(p->skel->maps.counts),
	    .stacks_fd = bpf_map__fd(p->skel->maps.stacks),
	    .kernel_stacks = p->opts.kernel_stacks,
	    .user_stacks = p->opts.user_stacks,
	    .demangle = !p->opts.no_demangle,
	    .lines = !p->opts.no_lines,
	    .max_stack = p->opts.max_stack,
	    .usym = p->usym,
	    .cgroups = p->cgroups,
	    .sb = p->sb,
	    .sb_captures = &p->sb_captures,
	    .sb_files = &p->sb_files,
	    .unwound = p->unw,
	};
	int err;

	detach(p);
	memcpy(out, &p->meta, sizeof(*out));
	out->duration_ns = am_clock_ns(CLOCK_MONOTONIC) - p->start_mono_ns;
	am_profiler_handle_notices(p);
	if (p->unw)
		am_punw_finish(p->unw);
	read_stats(p, out);
	unwind_report(p, out);
	err = am_profile_build(&src, out);
	sideband_report(p, out);
	if (err)
		am_profile_free(out);
	return err;
}

void am_profiler_close(struct am_profiler *p)
{
	if (!p)
		return;
	detach(p);
	perf_buffer__free(p->pb);
	ring_buffer__free(p->rb);
	perf_buffer__free(p->spb);
	am_punw_free(p->unw);
	am_sideband_close(p->sb);
	if (p->ep >= 0)
		close(p->ep);
	if (p->skel)
		profiler_bpf__destroy(p->skel);
	am_bpf_open_state_release(&p->st);
	if (p->usym != p->opts.usym)
		am_usym_free(p->usym);
	free(p->att);
	am_cgroup_paths_free(p->cgroups);
	free(p->pids);
	free(p->cgroup_ids);
	free(p);
}
