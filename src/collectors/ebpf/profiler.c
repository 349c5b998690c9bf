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

#include "collectors/ebpf/sideband.h"
#include "core/bpf_load.h"
#include "core/memlock.h"
#include "core/perf_ring.h"
#include "profiler.skel.h"
#include "symbolize/demangle.h"
#include "symbolize/kallsyms.h"
#include "symbolize/usym.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"

#define DEFAULT_ENTRIES 16384

struct am_profiler {
	struct am_profiler_opts opts;
	uint32_t *pids;
	struct profiler_bpf *skel;
	struct am_bpf_open_state st;
	struct am_perf_attachment *att;
	int natt;
	struct perf_buffer *pb;
	struct am_sideband *sb; /* NULL: mappings from /proc only */
	struct am_profile_sideband sbinfo;
	int ep; /* the notification fd: the perf buffer's and the side band's */
	struct am_usym *usym;
	struct am_profile meta; /* event, attach mode...: copied into the collected profile */
	uint64_t start_mono_ns;
	uint64_t newpid_lost;
	bool detached;
};

const char *am_profiler_stat_name(enum profiler_stat s)
{
	static const char *const names[PROFILER_STAT_MAX] = {
	    [PROFILER_STAT_SEEN] = "samples seen",
	    [PROFILER_STAT_IDLE] = "idle samples skipped",
	    [PROFILER_STAT_FILTERED] = "samples filtered out (pid/cgroup)",
	    [PROFILER_STAT_COUNTED] = "samples counted",
	    [PROFILER_STAT_COUNTS_FULL] = "samples lost: counts map full",
	    [PROFILER_STAT_KSTACK_EMPTY] = "no kernel stack (sample in user mode)",
	    [PROFILER_STAT_KSTACK_FULL] = "kernel stack lost: stacks map full",
	    [PROFILER_STAT_KSTACK_OTHER] = "kernel stack lost: other error",
	    [PROFILER_STAT_USTACK_KTHREAD] = "no user stack (kernel thread)",
	    [PROFILER_STAT_USTACK_EFAULT] = "user stack lost: walk failed",
	    [PROFILER_STAT_USTACK_FULL] = "user stack lost: stacks map full",
	    [PROFILER_STAT_USTACK_OTHER] = "user stack lost: other error",
	    [PROFILER_STAT_NEWPID_LOST] = "new-process notifications not sent",
	    [PROFILER_STAT_SEEN_FULL] = "new processes not announced: announced-process map full",
	};

	return s < PROFILER_STAT_MAX && names[s] ? names[s] : "?";
}

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
		err = am_perf_attach(p->skel->progs.profile_sample, fd, p->meta.attach,
				     &p->att[p->natt]);
		if (err) {
			am_err("attaching the profiler to %s on CPU %d (%s) failed: %s", ev->name,
			       cpu, am_attach_mode_name(p->meta.attach), strerror(-err));
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
		return -EINVAL;
	s->rodata->filter_pids = o->npids > 0;
	s->rodata->filter_cgroup = o->filter_cgroup;
	s->rodata->cgroup_id = o->cgroup_id;
	s->rodata->kernel_stacks = o->kernel_stacks;
	s->rodata->user_stacks = o->user_stacks;
	s->rodata->include_idle = o->include_idle;
	nstacks = o->stack_entries ? o->stack_entries : DEFAULT_ENTRIES;
	bpf_map__set_max_entries(s->maps.stacks, nstacks);
	bpf_map__set_max_entries(s->maps.counts, o->count_entries ? o->count_entries : 4 * nstacks);
	err = profiler_bpf__load(s);
	if (err) {
		if (am_memlock_explain("the profiler's BPF program", err))
			return err;
		if (err == -EPERM || err == -EACCES)
			am_err(
			    "loading the profiler's BPF program was not permitted: needs CAP_BPF "
			    "and CAP_PERFMON (or CAP_SYS_ADMIN)");
		else
			am_err("loading the profiler's BPF program failed: %s (run with -v for the "
			       "verifier log)",
			       strerror(-err));
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
	return 0;
}

/* Open the mmap side band unless turned off; without it (old kernel, no permission) the
 * profile goes on with /proc alone, as before. */
static void open_sideband(struct am_profiler *p)
{
	struct am_sideband_opts so = {.pids = p->opts.pids, .npids = p->opts.npids};
	const char *env = getenv("ANTIMETAL_PROFILER_NO_SIDEBAND");
	static bool told; /* once per process: the daemon opens a profiler every window */
	int err;

	if (!p->opts.user_stacks)
		return; /* no user frames to symbolize */
	if (p->opts.no_sideband || (env && *env && strcmp(env, "0"))) {
		p->sbinfo.disabled = true;
		am_debug("profiler: mmap side band turned off%s: mappings are read from /proc only",
			 p->opts.no_sideband ? "" : " (ANTIMETAL_PROFILER_NO_SIDEBAND)");
		return;
	}
	err = am_sideband_open(&so, &p->sb);
	if (err) {
		p->sbinfo.error = err;
		am_log(told ? AM_LOG_DEBUG : AM_LOG_INFO,
		       "profiler: no mmap side band (dummy perf event: %s); processes that exit "
		       "before /proc/PID/maps is read keep [unknown] frames",
		       strerror(-err));
		told = true;
		return;
	}
	p->sbinfo.active = true;
	am_sideband_stats(p->sb, &p->sbinfo.stats);
	am_debug("profiler: mmap side band on %d CPUs, %u pages each, build-ids %s",
		 p->sbinfo.stats.ncpus, p->sbinfo.stats.pages,
		 p->sbinfo.stats.build_ids ? "asked for" : "not available (kernel < 5.12)");
}

/* One fd for callers' event loops: the perf buffer's epoll fd and the side band's. */
static int notify_epoll(struct am_profiler *p)
{
	struct epoll_event ev = {.events = EPOLLIN};

	p->ep = epoll_create1(EPOLL_CLOEXEC);
	if (p->ep < 0 || epoll_ctl(p->ep, EPOLL_CTL_ADD, perf_buffer__epoll_fd(p->pb), &ev) < 0 ||
	    (p->sb && epoll_ctl(p->ep, EPOLL_CTL_ADD, am_sideband_fd(p->sb), &ev) < 0)) {
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
	if (opts->npids) {
		p->pids = calloc(opts->npids, sizeof(*p->pids));
		if (!p->pids) {
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
	err = am_attach_mode_resolve(opts->attach, bpf_program__fd(p->skel->progs.profile_sample),
				     &p->meta.attach);
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
			       "and --no-fallback was given",
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
	p->meta.ncpus = p->natt;
	p->meta.start_ns = am_clock_ns(CLOCK_REALTIME);
	p->start_mono_ns = am_clock_ns(CLOCK_MONOTONIC);
	*out = p;
	return 0;
fail:
	am_profiler_close(p);
	return err;
}

static uint64_t stat_sum(struct am_profiler *p, enum profiler_stat idx)
{
	int n = libbpf_num_possible_cpus(), i;
	__u32 key = idx;
	uint64_t sum = 0;
	__u64 *vals;

	if (n <= 0)
		return 0;
	vals = calloc((size_t)n, sizeof(*vals));
	if (vals && !bpf_map__lookup_elem(p->skel->maps.stats, &key, sizeof(key), vals,
					  (size_t)n * sizeof(*vals), 0))
		for (i = 0; i < n; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

int am_profiler_run(struct am_profiler *p, uint64_t duration_ms, int stop_fd,
		    am_profiler_progress_fn progress, void *ctx)
{
	struct epoll_event ev = {.events = EPOLLIN}, evs[4];
	uint64_t start = am_clock_ns(CLOCK_MONOTONIC) / 1000000, next_progress = start + 1000;
	int ep, err = 0, n, i;
	bool stop = false;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.data.fd = p->ep;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0 ||
	    (stop_fd >= 0 &&
	     (ev.data.fd = stop_fd, epoll_ctl(ep, EPOLL_CTL_ADD, stop_fd, &ev) < 0))) {
		err = -errno;
		am_err("epoll: %s", strerror(-err));
		close(ep);
		return err;
	}
	while (!stop) {
		uint64_t now = am_clock_ns(CLOCK_MONOTONIC) / 1000000, wake = next_progress;

		if (duration_ms && now >= start + duration_ms)
			break;
		if (duration_ms && start + duration_ms < wake)
			wake = start + duration_ms;
		n = epoll_wait(ep, evs, 4, wake > now ? (int)(wake - now) : 0);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			am_err("epoll_wait: %s", strerror(-err));
			break;
		}
		for (i = 0; i < n; i++)
			if (evs[i].data.fd == stop_fd)
				stop = true;
		/* Every wake-up, not only the notified ones: side-band buffers are read at a
		 * quarter full, and this keeps them emptier still. */
		am_profiler_handle_notices(p);
		now = am_clock_ns(CLOCK_MONOTONIC) / 1000000;
		if (now >= next_progress) {
			if (progress)
				progress(ctx, now - start, stat_sum(p, PROFILER_STAT_COUNTED));
			next_progress += 1000;
		}
	}
	close(ep);
	return err;
}

int am_profiler_notify_fd(const struct am_profiler *p)
{
	return p->ep;
}

int am_profiler_handle_notices(struct am_profiler *p)
{
	int n = perf_buffer__consume(p->pb);

	am_sideband_read(p->sb);
	return n < 0 ? n : 0;
}

static void detach(struct am_profiler *p)
{
	if (p->detached)
		return;
	while (p->natt > 0)
		am_perf_detach(&p->att[--p->natt]);
	p->detached = true;
}

/* Pointer-keyed open-addressing table: usym mapping -> index in the profile's mappings. */
struct maptab {
	const void **keys;
	int *vals;
	size_t cap;
};

static int maptab_get(struct maptab *t, const void *key, int *val_slot_out)
{
	size_t h = ((uintptr_t)key >> 4) * 0x9E3779B97F4A7C15ull, i;

	for (i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (t->keys[i] == key)
			return t->vals[i];
		if (!t->keys[i]) {
			*val_slot_out = (int)i;
			return -1;
		}
	}
}

struct builder {
	struct am_profiler *p;
	struct am_profile *prof;
	struct am_kallsyms ksyms;
	bool ksyms_loaded, ksyms_failed;
	int kernel_mapping;
	struct maptab tab;
	size_t mapcap;
};

static int add_mapping(struct builder *b, uint64_t start, uint64_t limit, uint64_t off,
		       const char *file, const char *build_id)
{
	struct am_profile *prof = b->prof;
	struct am_profile_mapping *m;

	if (prof->nmappings == b->mapcap) {
		size_t cap = b->mapcap ? b->mapcap * 2 : 64;

		m = realloc(prof->mappings, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		prof->mappings = m;
		b->mapcap = cap;
	}
	m = &prof->mappings[prof->nmappings];
	memset(m, 0, sizeof(*m));
	m->start = start;
	m->limit = limit;
	m->offset = off;
	m->file = strdup(file);
	m->build_id = strdup(build_id);
	if (!m->file || !m->build_id) {
		free(m->file);
		free(m->build_id);
		return -ENOMEM;
	}
	return (int)prof->nmappings++;
}

static int user_mapping(struct builder *b, const struct am_usym_map *m)
{
	int slot = 0, idx = maptab_get(&b->tab, m, &slot);

	if (idx >= 0)
		return idx;
	if (b->prof->nmappings * 2 >= b->tab.cap)
		return -1; /* table full: frames keep their names, only the mapping is missing */
	idx = add_mapping(b, m->start, m->end, m->pgoff, m->path, m->build_id);
	if (idx < 0)
		return -1;
	b->tab.keys[slot] = m;
	b->tab.vals[slot] = idx;
	return idx;
}

static int set_frame(struct am_profile_frame *f, uint64_t addr, const char *func,
		     const char *module, int mapping, bool kernel)
{
	f->addr = addr;
	f->func = strdup(func);
	f->module = strdup(module);
	f->mapping = mapping;
	f->kernel = kernel;
	return f->func && f->module ? 0 : -ENOMEM;
}

static int kernel_frame(struct builder *b, struct am_profile_frame *f, uint64_t addr, bool leaf)
{
	const struct am_ksym *sym = NULL;
	char module[80] = "[kernel.kallsyms]";

	if (!b->ksyms_loaded && !b->ksyms_failed) {
		b->ksyms_failed = am_kallsyms_load(NULL, &b->ksyms) != 0;
		b->ksyms_loaded = !b->ksyms_failed;
	}
	if (b->ksyms_loaded)
		sym = am_kallsyms_lookup(&b->ksyms, leaf ? addr : addr - 1, NULL);
	if (sym && *sym->module)
		snprintf(module, sizeof(module), "[%s]", sym->module);
	if (b->kernel_mapping < 0)
		b->kernel_mapping =
		    add_mapping(b, b->ksyms_loaded && b->ksyms.n ? b->ksyms.syms[0].addr : 0,
				UINT64_MAX, 0, "[kernel.kallsyms]", "");
	return set_frame(f, addr, sym ? sym->name : "[unknown]", module, b->kernel_mapping, true);
}

static int user_frame(struct builder *b, const struct profiler_key *key, struct am_profile_frame *f,
		      uint64_t addr, bool leaf)
{
	struct am_usym_result r;
	char *demangled = NULL;
	int mapping = -1, err;

	am_usym_resolve(b->p->usym, key->pid, key->mm, addr, !leaf, &r);
	if (r.map) {
		mapping = user_mapping(b, r.map);
		if (mapping >= 0 && r.func)
			b->prof->mappings[mapping].has_functions = true;
	}
	err = set_frame(f, addr, r.func ? r.func : "[unknown]", r.map ? r.map->path : "", mapping,
			false);
	/* Demangled here, once per frame of a distinct stack, so every exporter shows the same
	 * name; the mangled one stays for pprof's system_name. Kernel frames are C (perf does not
	 * demangle them by default either). */
	if (!err && r.func && !b->p->opts.no_demangle)
		demangled = am_demangle(r.func);
	if (demangled) {
		f->system_name = f->func;
		f->func = demangled;
	}
	return err;
}

static int read_stack(int fd, int err, __u64 id, __u64 *ips)
{
	int n;

	if (err || bpf_map_lookup_elem(fd, &id, ips))
		return 0;
	for (n = 0; n < PROFILER_MAX_STACK_DEPTH && ips[n]; n++)
		;
	return n;
}

static int build_stack(struct builder *b, const struct profiler_key *key, uint64_t count,
		       struct am_profile_stack *st)
{
	__u64 kips[PROFILER_MAX_STACK_DEPTH], uips[PROFILER_MAX_STACK_DEPTH];
	int sfd = bpf_map__fd(b->p->skel->maps.stacks), nk, nu, i, err = 0;
	const struct am_profiler_opts *o = &b->p->opts;
	size_t n = 0;

	memset(st, 0, sizeof(*st));
	st->pid = key->pid;
	memcpy(st->comm, key->comm, sizeof(st->comm));
	st->comm[sizeof(st->comm) - 1] = '\0';
	st->count = count;
	/* -1 is "not collected"; -EFAULT on the kernel side is a sample taken in user mode. */
	st->kstack_lost = o->kernel_stacks && key->kernel_err && key->kernel_err != -1 &&
			  key->kernel_err != -EFAULT;
	st->ustack_lost = o->user_stacks && key->user_err && key->user_err != -1;
	nk = read_stack(sfd, key->kernel_err, key->kernel_stack, kips);
	nu = read_stack(sfd, key->user_err, key->user_stack, uips);
	st->frames = calloc((size_t)(nk + nu + 2), sizeof(*st->frames));
	if (!st->frames)
		return -ENOMEM;
	if (st->kstack_lost)
		err = set_frame(&st->frames[n++], 0, "[missing kernel stack]", "", -1, true);
	for (i = 0; i < nk && !err; i++)
		err = kernel_frame(b, &st->frames[n++], kips[i], i == 0);
	for (i = 0; i < nu && !err; i++)
		err = user_frame(b, key, &st->frames[n++], uips[i], i == 0);
	if (st->ustack_lost && !err)
		err = set_frame(&st->frames[n++], 0, "[missing user stack]", "", -1, false);
	st->nframes = n;
	return err;
}

/* One entry of the counts map. */
struct counted {
	struct profiler_key key;
	uint64_t count;
};

static int read_counts(struct am_profiler *p, struct counted **out, size_t *n)
{
	int cfd = bpf_map__fd(p->skel->maps.counts);
	struct profiler_key key, next, *prev = NULL;
	struct counted *v = NULL, *nv;
	size_t cap = 0;
	__u64 count;

	*n = 0;
	while (!bpf_map_get_next_key(cfd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(cfd, &key, &count))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[*n].key = key;
		v[(*n)++].count = count;
	}
	*out = v;
	return 0;
}

/* Capture (or complete) generation MM of PID from the side band's records. */
static void sideband_capture(struct am_profiler *p, uint32_t pid, uint64_t mm)
{
	struct am_usym_rec_map *maps;
	size_t n;
	int added;

	if (am_sideband_maps(p->sb, pid, mm, &maps, &n) || !n)
		return;
	added = am_usym_capture_maps(p->usym, pid, mm, maps, n, &p->sbinfo.files);
	if (added > 0)
		p->sbinfo.captures++;
	am_sideband_maps_free(maps, n);
}

struct genref {
	uint32_t pid;
	uint64_t mm;
};

static int cmp_genref(const void *a, const void *b)
{
	const struct genref *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->mm < y->mm ? -1 : x->mm > y->mm;
}

/* The counted (pid, mm) generations, once each; the task names go to the side band. */
static struct genref *generations(struct am_profiler *p, const struct counted *c, size_t n,
				  size_t *ngen)
{
	struct genref *g = calloc(n ? n : 1, sizeof(*g));
	char comm[AM_TASK_COMM_LEN + 1];
	size_t i, k = 0;

	*ngen = 0;
	if (!g)
		return NULL;
	for (i = 0; i < n; i++) {
		if (!c[i].key.mm) /* kernel threads have no mappings */
			continue;
		g[k].pid = c[i].key.pid;
		g[k++].mm = c[i].key.mm;
		memcpy(comm, c[i].key.comm, AM_TASK_COMM_LEN);
		comm[AM_TASK_COMM_LEN] = '\0';
		am_sideband_note_comm(p->sb, c[i].key.pid, c[i].key.mm, comm);
	}
	qsort(g, k, sizeof(*g), cmp_genref);
	for (i = 0, *ngen = 0; i < k; i++)
		if (!*ngen || cmp_genref(&g[*ngen - 1], &g[i]))
			g[(*ngen)++] = g[i];
	return g;
}

/* Captures taken before anything is symbolized. Live processes once more from /proc: this
 * capture has what was mapped after an early one (libraries the loader mapped after exec)
 * and covers lost notices. From the side band: generations of processes that are gone (a
 * capture their notice could not take, or one taken too early to hold everything), and
 * generations never captured (a notice lost, or a pid reused since). */
static int final_captures(struct am_profiler *p, const struct counted *c, size_t n)
{
	struct genref *g;
	size_t i, ng;
	bool gone = false;

	g = generations(p, c, n, &ng);
	if (!g)
		return -ENOMEM;
	for (i = 0; i < ng; i++) {
		if (!i || g[i].pid != g[i - 1].pid)
			gone = am_usym_snapshot(p->usym, g[i].pid, AM_USYM_GEN_FINAL) != 0;
		if (p->sb && (gone || !am_usym_has_gen(p->usym, g[i].pid, g[i].mm)))
			sideband_capture(p, g[i].pid, g[i].mm);
	}
	free(g);
	return 0;
}

/* The side band's counters into OUT; losses are warnings, the rest shown with -v. */
static void sideband_report(struct am_profiler *p, struct am_profile *out)
{
	const struct am_profile_sideband *s = &out->sideband;
	const struct am_sideband_stats *st = &s->stats;

	am_sideband_stats(p->sb, &p->sbinfo.stats);
	out->sideband = p->sbinfo;
	if (!s->active) {
		am_debug("mmap side band: %s%s",
			 s->disabled ? "turned off"
			 : s->error  ? "not available: "
				     : "not used (no user stacks)",
			 s->error ? strerror(-s->error) : "");
		return;
	}
	am_debug("mmap side band: %llu records on %d CPUs: %llu executable mappings, %llu execs, "
		 "%llu forks, %llu exits; %u generations captured from them (files: %u found, %u "
		 "missing, %u replaced)",
		 (unsigned long long)st->records, st->ncpus, (unsigned long long)st->mmaps,
		 (unsigned long long)st->execs, (unsigned long long)st->forks,
		 (unsigned long long)st->exits, s->captures, s->files.files, s->files.missing,
		 s->files.mismatched);
	if (st->lost || st->malformed || st->dropped)
		am_warn("mmap side band: %llu records lost (buffer full), %llu malformed, %llu "
			"dropped (memory bound): processes they describe may show [unknown] frames",
			(unsigned long long)st->lost, (unsigned long long)st->malformed,
			(unsigned long long)st->dropped);
}

int am_profiler_collect(struct am_profiler *p, struct am_profile *out)
{
	struct builder b = {.p = p, .prof = out, .kernel_mapping = -1};
	struct counted *c = NULL;
	size_t n = 0, k;
	int err = 0, i;

	memset(out, 0, sizeof(*out));
	detach(p);
	memcpy(out, &p->meta, sizeof(*out));
	out->duration_ns = am_clock_ns(CLOCK_MONOTONIC) - p->start_mono_ns;
	am_profiler_handle_notices(p);
	for (i = 0; i < PROFILER_STAT_MAX; i++)
		out->stats[i] = stat_sum(p, (enum profiler_stat)i);
	out->newpid_lost = p->newpid_lost;

	/* End-of-profile captures of an earlier profile (a shared symbolizer) are stale now. */
	am_usym_forget_gen(p->usym, AM_USYM_GEN_FINAL);
	b.tab.cap = 1 << 12;
	b.tab.keys = calloc(b.tab.cap, sizeof(*b.tab.keys));
	b.tab.vals = calloc(b.tab.cap, sizeof(*b.tab.vals));
	err = b.tab.keys && b.tab.vals ? read_counts(p, &c, &n) : -ENOMEM;
	if (!err)
		err = final_captures(p, c, n);
	if (!err && n) {
		out->stacks = calloc(n, sizeof(*out->stacks));
		err = out->stacks ? 0 : -ENOMEM;
	}
	for (k = 0; k < n && !err; k++) {
		err = build_stack(&b, &c[k].key, c[k].count, &out->stacks[out->nstacks]);
		out->nstacks++;
		out->total += c[k].count;
	}
	sideband_report(p, out);
	if (err)
		am_err("reading the profile failed: %s", strerror(-err));
	free(c);
	free(b.tab.keys);
	free(b.tab.vals);
	if (b.ksyms_loaded)
		am_kallsyms_free(&b.ksyms);
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
	am_sideband_close(p->sb);
	if (p->ep >= 0)
		close(p->ep);
	if (p->skel)
		profiler_bpf__destroy(p->skel);
	am_bpf_open_state_release(&p->st);
	if (p->usym != p->opts.usym)
		am_usym_free(p->usym);
	free(p->att);
	free(p->pids);
	free(p);
}

const char *am_profile_frame_label(const struct am_profile_frame *f, char *buf, size_t len)
{
	const char *base;

	if (strcmp(f->func, "[unknown]") || !f->module || !*f->module) {
		snprintf(buf, len, "%s", f->func);
		return buf;
	}
	base = strrchr(f->module, '/');
	snprintf(buf, len, "[unknown] (%s)", base ? base + 1 : f->module);
	return buf;
}

void am_profile_free(struct am_profile *prof)
{
	size_t i, j;

	for (i = 0; i < prof->nstacks; i++) {
		for (j = 0; j < prof->stacks[i].nframes; j++) {
			free(prof->stacks[i].frames[j].func);
			free(prof->stacks[i].frames[j].system_name);
			free(prof->stacks[i].frames[j].module);
		}
		free(prof->stacks[i].frames);
	}
	for (i = 0; i < prof->nmappings; i++) {
		free(prof->mappings[i].file);
		free(prof->mappings[i].build_id);
	}
	free(prof->stacks);
	free(prof->mappings);
	memset(prof, 0, sizeof(*prof));
}
