#include "collectors/ebpf/oom.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/ebpf/oom_cgroup.h"
#include "collectors/parse/parsers.h"
#include "core/bpf_load.h"
#include "core/capabilities.h"
#include "core/probes.h"
#include "core/tracefs.h"
#include "oom.skel.h"
#include "oom_types.h"
#include "util/clock.h"
#include "util/container_id.h"
#include "util/file.h"
#include "util/log.h"

#define KMSG_RECORD_BUF 8192

struct am_oom {
	enum am_oom_origin origin;
	am_oom_cb cb;
	void *ctx;
	/* BPF */
	struct oom_bpf *skel;
	struct am_bpf_open_state open_state;
	struct ring_buffer *rb;
	/* kmsg */
	int kmsg_fd;
	char *kmsg_buf;
	struct am_oom_kmsg_pairer pairer;
	uint64_t kmsg_overwritten, kmsg_malformed;

	struct am_oom_cgroups cgroups;
	bool have_cgroups;
	int64_t real_offset_ns;
	long page_size;
	uint64_t events, malformed;
};

/* Scratch of one event: the strings the record points to. */
struct event_buf {
	struct am_oom_event ev;
	char cgroup[1024];
	struct am_container_ref ref;
};

static void fill_container(struct event_buf *b)
{
	b->ev.cgroup = b->cgroup;
	if (am_container_id_from_cgroup(b->cgroup, &b->ref)) {
		b->ev.container_id = b->ref.id;
		b->ev.container_runtime = b->ref.runtime;
	}
}

/* The victim's comm from /proc when the kernel did not give it (it may be gone already). */
static void comm_from_proc(struct am_oom *o, struct event_buf *b)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%d/comm", o->cgroups.procfs, b->ev.pid);
	if (am_file_first_line(path, b->ev.comm, sizeof(b->ev.comm)))
		b->ev.comm[0] = '\0';
}

static void limit_from_files(struct am_oom *o, struct event_buf *b)
{
	bool unlimited;
	uint64_t bytes;

	if (!b->ev.cgroup || am_oom_cgroups_limit(&o->cgroups, b->cgroup, &bytes, &unlimited))
		return;
	b->ev.have_limit = true;
	b->ev.limit_unlimited = unlimited;
	b->ev.limit_bytes = bytes;
}

static void deliver(struct am_oom *o, struct event_buf *b)
{
	b->ev.ts_real_ns = (uint64_t)((int64_t)b->ev.ts_mono_ns + o->real_offset_ns);
	o->events++;
	o->cb(&b->ev, o->ctx);
}

/* ---- BPF ---- */

static void bpf_cgroup(struct am_oom *o, const struct oom_victim *v, struct event_buf *b)
{
	/* The memcg read in the kernel is the victim's only when the victim ran the killer. */
	if ((v->flags & OOM_F_CURRENT_IS_VICTIM) && (v->flags & OOM_F_MEMCG)) {
		if (o->have_cgroups &&
		    !am_oom_cgroups_by_id(&o->cgroups, v->memcg_id, b->cgroup, sizeof(b->cgroup)))
			fill_container(b);
		b->ev.have_limit = true;
		/* PAGE_COUNTER_MAX (LONG_MAX / PAGE_SIZE) is "no limit". */
		b->ev.limit_unlimited =
		    v->memcg_limit_pages >= (uint64_t)LONG_MAX / (uint64_t)o->page_size;
		b->ev.limit_bytes =
		    b->ev.limit_unlimited ? 0 : v->memcg_limit_pages * (uint64_t)o->page_size;
		return;
	}
	if (o->have_cgroups &&
	    !am_oom_cgroups_of_pid(&o->cgroups, v->pid, b->cgroup, sizeof(b->cgroup))) {
		fill_container(b);
		limit_from_files(o, b);
	}
}

/* The memory figures the tracepoint record and the kernel log's line both carry, under the
 * same names (two layouts: the BPF one is pinned by the layout checks). */
#define COPY_FIGURES(ev, src)                                                                      \
	do {                                                                                       \
		(ev)->total_vm_kb = (src)->total_vm_kb;                                            \
		(ev)->anon_rss_kb = (src)->anon_rss_kb;                                            \
		(ev)->file_rss_kb = (src)->file_rss_kb;                                            \
		(ev)->shmem_rss_kb = (src)->shmem_rss_kb;                                          \
		(ev)->pgtables_kb = (src)->pgtables_kb;                                            \
		(ev)->oom_score_adj = (src)->oom_score_adj;                                        \
	} while (0)

static int on_bpf_record(void *ctx, void *data, size_t size)
{
	struct am_oom *o = ctx;
	const struct oom_victim *v = data;
	struct event_buf b;

	if (size < sizeof(*v)) {
		if (!o->malformed++)
			am_warn("oom: malformed record of %zu bytes ignored", size);
		return 0;
	}
	memset(&b, 0, sizeof(b));
	b.ev.origin = AM_OOM_FROM_BPF;
	b.ev.ts_mono_ns = v->ts_ns;
	b.ev.pid = v->pid;
	memcpy(b.ev.comm, v->comm, AM_TASK_COMM_LEN);
	b.ev.comm[AM_TASK_COMM_LEN] = '\0';
	if (!(v->flags & (OOM_F_COMM_FROM_TP | OOM_F_CURRENT_IS_VICTIM)))
		comm_from_proc(o, &b);
	b.ev.have_figures = v->flags & OOM_F_MEMORY_FIGURES;
	b.ev.have_uid = b.ev.have_figures;
	b.ev.uid = v->uid;
	COPY_FIGURES(&b.ev, v);
	bpf_cgroup(o, v, &b);
	deliver(o, &b);
	return 0;
}

static int open_bpf(struct am_oom *o, const struct am_oom_opts *opts)
{
	int err = am_probe_ringbuf();
	char why[160];

	if (err == 0) {
		am_info("oom: no BPF ring buffer on this kernel (before 5.8)");
		return -EOPNOTSUPP;
	}
	if (err < 0) {
		if (am_probe_refusal(err, why, sizeof(why)))
			am_warn("oom: creating a BPF ring buffer was %s", why);
		else
			am_warn("oom: creating a BPF ring buffer failed: %s", strerror(-err));
		return err;
	}
	err = am_tracefs_ensure(NULL);
	if (err)
		return err;
	o->skel = AM_SKEL_OPEN(oom_bpf, "oom", opts->btf_path, &o->open_state);
	if (!o->skel)
		return -errno;
	err = oom_bpf__load(o->skel);
	if (err) {
		am_warn("oom: loading the BPF program failed: %s", strerror(-err));
		return err;
	}
	err = oom_bpf__attach(o->skel);
	if (err) {
		am_warn("oom: attaching to oom:mark_victim failed: %s", strerror(-err));
		return err;
	}
	o->rb = ring_buffer__new(bpf_map__fd(o->skel->maps.events), on_bpf_record, o, NULL);
	if (!o->rb) {
		err = -errno;
		am_warn("oom: cannot open the ring buffer: %s", strerror(-err));
		return err;
	}
	o->origin = AM_OOM_FROM_BPF;
	return 0;
}

static void close_bpf(struct am_oom *o)
{
	ring_buffer__free(o->rb);
	o->rb = NULL;
	if (o->skel)
		oom_bpf__destroy(o->skel);
	o->skel = NULL;
	am_bpf_open_state_release(&o->open_state);
}

/* ---- kernel log ---- */

static void on_kmsg_kill(struct am_oom *o, const struct am_oom_kmsg *k, uint64_t ts_usec)
{
	struct event_buf b;

	memset(&b, 0, sizeof(b));
	b.ev.origin = AM_OOM_FROM_KMSG;
	b.ev.ts_mono_ns = ts_usec * 1000;
	b.ev.pid = k->pid;
	snprintf(b.ev.comm, sizeof(b.ev.comm), "%s", k->comm);
	b.ev.have_uid = k->have_uid;
	b.ev.uid = k->uid;
	b.ev.have_figures = k->have_figures;
	COPY_FIGURES(&b.ev, k);
	b.ev.constraint = k->constraint[0] ? k->constraint : NULL;
	if (k->task_memcg[0]) {
		snprintf(b.cgroup, sizeof(b.cgroup), "%s", k->task_memcg);
		fill_container(&b);
	} else if (o->have_cgroups &&
		   !am_oom_cgroups_of_pid(&o->cgroups, k->pid, b.cgroup, sizeof(b.cgroup))) {
		fill_container(&b);
	}
	if (k->have_limit) {
		b.ev.have_limit = true;
		b.ev.limit_bytes = k->limit_kb * 1024;
	} else if (o->have_cgroups) {
		limit_from_files(o, &b);
	}
	deliver(o, &b);
}

static int consume_kmsg(struct am_oom *o)
{
	struct am_kmsg_record r;
	struct am_oom_kmsg k;
	int n = 0;

	for (;;) {
		ssize_t len = read(o->kmsg_fd, o->kmsg_buf, KMSG_RECORD_BUF);

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EPIPE) {
			o->kmsg_overwritten++;
			continue;
		}
		if (len < 0 && errno == EAGAIN)
			return n;
		if (len <= 0)
			return len < 0 ? -errno : n;
		if (am_parse_kmsg_record(o->kmsg_buf, (size_t)len, &r, NULL)) {
			o->kmsg_malformed++;
			continue;
		}
		if (am_oom_kmsg_feed(&o->pairer, r.msg, &k)) {
			on_kmsg_kill(o, &k, r.ts_usec);
			n++;
		}
	}
}

static int open_kmsg(struct am_oom *o, const struct am_oom_opts *opts)
{
	char path[600];
	int err;

	snprintf(path, sizeof(path), "%s/kmsg", opts->devfs ? opts->devfs : "/dev");
	o->kmsg_buf = malloc(KMSG_RECORD_BUF);
	if (!o->kmsg_buf)
		return -ENOMEM;
	o->kmsg_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (o->kmsg_fd < 0) {
		err = -errno;
		am_err("oom: cannot open %s: %s%s", path, strerror(-err),
		       am_kmsg_refusal_hint_self(err));
		return err;
	}
	/* Kills from before the agent started are history, not events. */
	if (lseek(o->kmsg_fd, 0, SEEK_END) < 0) {
		err = -errno;
		am_err("oom: cannot seek to the end of %s: %s", path, strerror(-err));
		return err;
	}
	o->origin = AM_OOM_FROM_KMSG;
	return 0;
}

/* ---- life cycle ---- */

int am_oom_open(const struct am_oom_opts *opts, struct am_oom **out)
{
	struct am_oom *o;
	int err = -EINVAL;

	if (!opts->cb) {
		am_err("oom: no event callback");
		return -EINVAL;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->kmsg_fd = -1;
	o->cb = opts->cb;
	o->ctx = opts->ctx;
	o->page_size = sysconf(_SC_PAGESIZE);
	o->have_cgroups = !am_oom_cgroups_init(&o->cgroups, opts->procfs, opts->rootfs);
	if (!o->have_cgroups)
		am_warn("oom: no memory cgroup hierarchy found: kills carry no cgroup");
	if (opts->mode != AM_OOM_KMSG) {
		err = open_bpf(o, opts);
		if (err)
			close_bpf(o);
		if (err && opts->mode == AM_OOM_AUTO)
			am_info("oom: BPF unavailable (%s); reading OOM kills from the kernel log",
				strerror(-err));
	}
	if (err && opts->mode != AM_OOM_BPF)
		err = open_kmsg(o, opts);
	if (err) {
		am_oom_close(o);
		return err;
	}
	o->real_offset_ns = am_clock_realtime_offset_ns();
	*out = o;
	return 0;
}

int am_oom_fd(const struct am_oom *o)
{
	return o->origin == AM_OOM_FROM_BPF ? ring_buffer__epoll_fd(o->rb) : o->kmsg_fd;
}

int am_oom_consume(struct am_oom *o)
{
	uint64_t before = o->events;
	int err;

	if (o->origin == AM_OOM_FROM_KMSG)
		return consume_kmsg(o);
	err = ring_buffer__consume(o->rb);
	if (err < 0 && err != -EINTR)
		return err;
	return (int)(o->events - before);
}

const char *am_oom_origin_name(const struct am_oom *o)
{
	return o->origin == AM_OOM_FROM_BPF ? "bpf" : "kmsg";
}

void am_oom_stats(struct am_oom *o, struct am_oom_stats *out)
{
	__u32 k = OOM_STAT_OUTPUT_FAILED;
	__u64 *vals;
	int cpu, ncpus;

	memset(out, 0, sizeof(*out));
	out->events = o->events;
	out->malformed = o->malformed + o->kmsg_malformed + o->pairer.garbled;
	out->kmsg_overwritten = o->kmsg_overwritten;
	if (!o->skel)
		return;
	ncpus = libbpf_num_possible_cpus();
	vals = ncpus > 0 ? calloc((size_t)ncpus, sizeof(*vals)) : NULL;
	if (vals && !bpf_map__lookup_elem(o->skel->maps.stats, &k, sizeof(k), vals,
					  sizeof(*vals) * (size_t)ncpus, 0))
		for (cpu = 0; cpu < ncpus; cpu++)
			out->output_failures += vals[cpu];
	free(vals);
}

void am_oom_close(struct am_oom *o)
{
	if (!o)
		return;
	close_bpf(o);
	if (o->kmsg_fd >= 0)
		close(o->kmsg_fd);
	free(o->kmsg_buf);
	free(o);
}
