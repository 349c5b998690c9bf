#include "collectors/ebpf/execsnoop.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bpf_load.h"
#include "core/cgroup_path.h"
#include "core/percpu.h"
#include "core/probes.h"
#include "core/tracefs.h"
#include "execsnoop.skel.h"
#include "execsnoop_types.h"
#include "util/container_id.h"
#include "util/clock.h"
#include "util/log.h"

_Static_assert(AM_EXECSNOOP_MAX_ARGS == EXECSNOOP_MAX_ARGS, "header and program disagree");
_Static_assert(AM_EXECSNOOP_MAX_ARGS_SIZE == EXECSNOOP_ARGS_SIZE_MAX,
	       "header and program disagree");
_Static_assert(AM_EXECSNOOP_DEFAULT_MAX_ARGS == EXECSNOOP_DEFAULT_MAX_ARGS,
	       "header and program disagree");
_Static_assert(AM_EXECSNOOP_DEFAULT_ARGS_SIZE == EXECSNOOP_DEFAULT_ARGS_SIZE,
	       "header and program disagree");

#define DEFAULT_RINGBUF_BYTES (4u << 20)
#define DEFAULT_PERFBUF_PAGES 128u

struct am_execsnoop {
	struct execsnoop_bpf *skel;
	struct am_bpf_open_state open_state;
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	bool ringbuf;
	am_exec_cb cb;
	void *ctx;
	int64_t real_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct am_cgroup_paths *cgroups;
	struct am_exec_arg argv[EXECSNOOP_MAX_ARGS];
	uint32_t max_args;
	uint64_t execs, exits, lost, malformed;
};

static void fill_cgroup(struct am_execsnoop *s, struct am_exec_record *r,
			struct am_container_ref *ref)
{
	r->cgroup_path = NULL;
	r->container_id = NULL;
	r->container_runtime = NULL;
	if (!s->cgroups)
		return;
	r->cgroup_path = am_cgroup_paths_lookup(s->cgroups, r->cgroup_id);
	if (r->cgroup_path && am_container_id_from_cgroup(r->cgroup_path, ref)) {
		r->container_id = ref->id;
		r->container_runtime = ref->runtime;
	}
}

static void copy_comm(char dst[17], const char *src)
{
	memcpy(dst, src, AM_TASK_COMM_LEN);
	dst[AM_TASK_COMM_LEN] = '\0';
}

/* The task fields both kernel record layouts carry under the same names (the layouts differ
 * and are pinned by the layout checks, so they share no header struct). */
#define COPY_TASK(r, e)                                                                            \
	do {                                                                                       \
		(r)->pid = (e)->pid;                                                               \
		(r)->tid = (e)->tid;                                                               \
		(r)->ppid = (e)->ppid;                                                             \
		(r)->ns_pid = (e)->ns_pid;                                                         \
		(r)->ns_ppid = (e)->ns_ppid;                                                       \
		(r)->uid = (e)->uid;                                                               \
		(r)->gid = (e)->gid;                                                               \
		(r)->cgroup_id = (e)->cgroup_id;                                                   \
		copy_comm((r)->comm, (e)->comm);                                                   \
	} while (0)

static int parse_exec(struct am_execsnoop *s, const void *data, size_t size,
		      struct am_exec_record *r)
{
	const struct execsnoop_exec *e = data;
	size_t hdr = offsetof(struct execsnoop_exec, data), off, end;

	if (size < hdr || e->filename_size > EXECSNOOP_FILENAME_MAX ||
	    (size_t)e->filename_size + e->args_size > size - hdr)
		return -EINVAL;
	r->kind = AM_EXEC_EVENT;
	r->ts_mono_ns = e->ts_ns;
	r->ret_mono_ns = e->ret_ts_ns;
	COPY_TASK(r, e);
	r->ret = e->ret;
	r->execveat = e->flags & EXECSNOOP_F_EXECVEAT;
	r->dirfd = e->dirfd;
	r->at_flags = e->at_flags;
	r->args_truncated = e->flags & EXECSNOOP_F_ARGS_TRUNCATED;
	r->filename_truncated = e->flags & EXECSNOOP_F_FILENAME_TRUNCATED;
	r->read_failed =
	    e->flags & (EXECSNOOP_F_ARGS_READ_FAILED | EXECSNOOP_F_FILENAME_READ_FAILED);
	r->filename.data = e->data;
	r->filename.len = e->filename_size ? strnlen(e->data, e->filename_size) : 0;
	/* Arguments are NUL-terminated strings packed behind the filename. */
	r->argc = 0;
	off = e->filename_size;
	end = (size_t)e->filename_size + e->args_size;
	r->args_from_image = e->flags & EXECSNOOP_F_ARGS_FROM_IMAGE;
	r->filename_from_image = e->flags & EXECSNOOP_F_FILENAME_FROM_IMAGE;
	while (off < end && r->argc < EXECSNOOP_MAX_ARGS) {
		size_t len = strnlen(e->data + off, end - off);

		if (r->args_from_image && r->argc == s->max_args) {
			/* read as one block in the kernel: the count limit applies here */
			r->args_truncated = true;
			break;
		}
		s->argv[r->argc].data = e->data + off;
		s->argv[r->argc].len = len;
		r->argc++;
		off += len + 1;
	}
	r->argv = s->argv;
	return 0;
}

static int parse_exit(const void *data, size_t size, struct am_exec_record *r)
{
	const struct execsnoop_exit *e = data;

	if (size < sizeof(*e))
		return -EINVAL;
	r->kind = AM_EXIT_EVENT;
	r->ts_mono_ns = e->ts_ns;
	r->ret_mono_ns = e->ts_ns;
	COPY_TASK(r, e);
	r->lifetime_ns = e->lifetime_ns;
	r->exit_signal = e->exit_code & 0x7f;
	r->core_dumped = e->exit_code & 0x80;
	r->exit_code = (e->exit_code >> 8) & 0xff;
	return 0;
}

static int handle_record(struct am_execsnoop *s, const void *data, size_t size)
{
	struct am_exec_record r;
	struct am_container_ref ref;
	int err = -EINVAL;

	memset(&r, 0, sizeof(r));
	if (size >= sizeof(__u32)) {
		__u32 type;

		memcpy(&type, data, sizeof(type));
		if (type == EXECSNOOP_RECORD_EXEC)
			err = parse_exec(s, data, size, &r);
		else if (type == EXECSNOOP_RECORD_EXIT)
			err = parse_exit(data, size, &r);
	}
	if (err) {
		if (!s->malformed++)
			am_warn("execsnoop: malformed record of %zu bytes ignored", size);
		return 0;
	}
	r.ts_real_ns = (uint64_t)((int64_t)r.ts_mono_ns + s->real_offset_ns);
	fill_cgroup(s, &r, &ref);
	if (r.kind == AM_EXEC_EVENT)
		s->execs++;
	else
		s->exits++;
	s->cb(&r, s->ctx);
	return 0;
}

static int on_ringbuf(void *ctx, void *data, size_t size)
{
	return handle_record(ctx, data, size);
}

static void on_perfbuf(void *ctx, int cpu, void *data, __u32 size)
{
	(void)cpu;
	handle_record(ctx, data, size);
}

static void on_perfbuf_lost(void *ctx, int cpu, __u64 count)
{
	struct am_execsnoop *s = ctx;

	(void)cpu;
	s->lost += count;
}

static int validate(const struct am_execsnoop_opts *o)
{
	if (!o->cb) {
		am_err("execsnoop: no record callback");
		return -EINVAL;
	}
	if (o->max_args > EXECSNOOP_MAX_ARGS) {
		am_err("execsnoop: at most %d arguments can be kept, not %u", EXECSNOOP_MAX_ARGS,
		       o->max_args);
		return -EINVAL;
	}
	if (o->max_args_size > EXECSNOOP_ARGS_SIZE_MAX) {
		am_err("execsnoop: at most %d bytes of arguments can be kept, not %u",
		       EXECSNOOP_ARGS_SIZE_MAX, o->max_args_size);
		return -EINVAL;
	}
	if (o->comm && (!*o->comm || strlen(o->comm) >= AM_TASK_COMM_LEN)) {
		am_err("execsnoop: comm filter '%s' must be 1 to %d bytes", o->comm,
		       AM_TASK_COMM_LEN - 1);
		return -EINVAL;
	}
	if (o->ringbuf_bytes &&
	    (o->ringbuf_bytes < 4096 || (o->ringbuf_bytes & (o->ringbuf_bytes - 1)))) {
		am_err("execsnoop: ring buffer size %u is not a power of two of at least 4096",
		       o->ringbuf_bytes);
		return -EINVAL;
	}
	return 0;
}

/* 1: ring buffer, 0: perf buffer, or -errno (logged) when the probe was refused: the load
 * would be refused the same way, and "no ring buffer" would not be the reason. */
static int want_ringbuf(enum am_execsnoop_buffer b)
{
	char why[160];
	int ret;

	if (b == AM_EXECSNOOP_BUF_RINGBUF)
		return 1;
	if (b == AM_EXECSNOOP_BUF_PERFBUF)
		return 0;
	ret = am_probe_ringbuf();
	if (ret >= 0)
		return ret;
	if (am_probe_refusal(ret, why, sizeof(why))) {
		am_err("execsnoop: creating a BPF ring buffer was %s", why);
		return ret; /* the load would be refused too */
	}
	am_warn("execsnoop: creating a BPF ring buffer failed (%s); using the perf buffer",
		strerror(-ret));
	return 0;
}

/* Turn the unused output map into the cheapest valid map of a type this kernel has. */
static int configure_output(struct am_execsnoop *s, const struct am_execsnoop_opts *o)
{
	struct execsnoop_bpf *k = s->skel;
	int err;

	if (s->ringbuf) {
		err = bpf_map__set_max_entries(
		    k->maps.events_rb, o->ringbuf_bytes ? o->ringbuf_bytes : DEFAULT_RINGBUF_BYTES);
		return err ? err : bpf_map__set_max_entries(k->maps.events_pb, 1);
	}
	/* As libbpf-tools' compat layer does: a kernel without ring buffers cannot create one,
	 * so it becomes a one-slot perf array the verifier never sees used. */
	err = bpf_map__set_type(k->maps.events_rb, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	err = err ? err : bpf_map__set_key_size(k->maps.events_rb, sizeof(__u32));
	err = err ? err : bpf_map__set_value_size(k->maps.events_rb, sizeof(__u32));
	return err ? err : bpf_map__set_max_entries(k->maps.events_rb, 1);
}

static void set_rodata(struct execsnoop_bpf *k, const struct am_execsnoop_opts *o, bool ringbuf,
		       uint64_t cgroup_id)
{
	k->rodata->use_ringbuf = ringbuf;
	/* Only a kernel that says no (before 5.5) gets the generic helpers: where the probe
	 * itself fails, the load would fail the same way and report why. */
	k->rodata->use_probe_read_user =
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_probe_read_user, NULL) != 0;
	k->rodata->failed_only = o->failed_only;
	k->rodata->filter_uid = o->filter_uid;
	k->rodata->target_uid = o->uid;
	if (o->comm) {
		k->rodata->filter_comm = true;
		memcpy((char *)k->rodata->target_comm, o->comm, strlen(o->comm));
	}
	k->rodata->filter_cgroup = o->cgroup != NULL;
	k->rodata->target_cgroup = cgroup_id;
	k->rodata->max_args = o->max_args ? o->max_args : EXECSNOOP_DEFAULT_MAX_ARGS;
	k->rodata->max_args_size =
	    o->max_args_size ? o->max_args_size : EXECSNOOP_DEFAULT_ARGS_SIZE;
	k->rodata->stash_value_size = offsetof(struct execsnoop_exec, data) +
				      EXECSNOOP_FILENAME_MAX + k->rodata->max_args_size;
}

/* A refusal names the missing capability; other failures are in libbpf's and the verifier's
 * messages, logged at debug level. */
int am_execsnoop_open(const struct am_execsnoop_opts *o, struct am_execsnoop **out)
{
	struct am_execsnoop *s;
	uint64_t cgroup_id = 0;
	int err;

	err = validate(o);
	if (err)
		return err;
	if (o->cgroup) {
		err = am_cgroup_id_of(o->cgroup, &cgroup_id);
		if (err) {
			am_err("execsnoop: cgroup %s: %s", o->cgroup,
			       err == -EINVAL ? "not a cgroup v2 directory" : strerror(-err));
			return err;
		}
	}
	err = am_tracefs_ensure(NULL);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cb = o->cb;
	s->ctx = o->ctx;
	err = want_ringbuf(o->buffer);
	if (err < 0)
		goto fail;
	s->ringbuf = err;
	s->skel = AM_SKEL_OPEN(execsnoop_bpf, "execsnoop", o->btf_path, &s->open_state);
	if (!s->skel) {
		err = -errno;
		goto fail;
	}
	set_rodata(s->skel, o, s->ringbuf, cgroup_id);
	s->max_args = s->skel->rodata->max_args;
	err = bpf_map__set_value_size(s->skel->maps.stash, s->skel->rodata->stash_value_size);
	err = err ? err : configure_output(s, o);
	if (err) {
		am_err("execsnoop: cannot configure the output map: %s", strerror(-err));
		goto fail;
	}
	bpf_program__set_autoload(s->skel->progs.execsnoop_process_exit, o->exits);
	err = execsnoop_bpf__load(s->skel);
	if (err) {
		am_bpf_report_load_error("execsnoop's BPF program", err);
		goto fail;
	}
	err = execsnoop_bpf__attach(s->skel);
	if (err) {
		am_err("execsnoop: attaching to the exec tracepoints failed: %s", strerror(-err));
		goto fail;
	}
	if (s->ringbuf) {
		s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events_rb), on_ringbuf, s, NULL);
		err = s->rb ? 0 : -errno;
	} else {
		s->pb =
		    perf_buffer__new(bpf_map__fd(s->skel->maps.events_pb),
				     o->perfbuf_pages ? o->perfbuf_pages : DEFAULT_PERFBUF_PAGES,
				     on_perfbuf, on_perfbuf_lost, s, NULL);
		err = s->pb ? 0 : -errno;
	}
	if (err) {
		am_err("execsnoop: cannot open the %s: %s",
		       s->ringbuf ? "ring buffer" : "perf buffer", strerror(-err));
		goto fail;
	}
	if (o->resolve_cgroups && am_cgroup_paths_open(NULL, &s->cgroups))
		s->cgroups = NULL; /* logged; records then carry ids only */
	s->real_offset_ns = am_clock_realtime_offset_ns();
	am_debug("execsnoop: attached, %s, max %u args / %u bytes",
		 s->ringbuf ? "ring buffer" : "perf buffer", s->skel->rodata->max_args,
		 s->skel->rodata->max_args_size);
	*out = s;
	return 0;
fail:
	am_execsnoop_close(s);
	return err;
}

int am_execsnoop_fd(const struct am_execsnoop *s)
{
	return s->ringbuf ? ring_buffer__epoll_fd(s->rb) : perf_buffer__epoll_fd(s->pb);
}

static int delivered_since(const struct am_execsnoop *s, uint64_t before, int err)
{
	if (err < 0 && err != -EINTR)
		return err;
	return (int)(s->execs + s->exits - before);
}

int am_execsnoop_consume(struct am_execsnoop *s)
{
	uint64_t before = s->execs + s->exits;
	int err = s->ringbuf ? ring_buffer__consume(s->rb) : perf_buffer__consume(s->pb);

	return delivered_since(s, before, err);
}

int am_execsnoop_poll(struct am_execsnoop *s, int timeout_ms)
{
	uint64_t before = s->execs + s->exits;
	int err;

	/* Records written while the caller was batching woke nobody, and epoll only rechecks a
	 * buffer it was told about: read what is there first, and again after a timeout. */
	err = am_execsnoop_consume(s);
	if (err != 0)
		return err;
	err = s->ringbuf ? ring_buffer__poll(s->rb, timeout_ms)
			 : perf_buffer__poll(s->pb, timeout_ms);
	if (err >= 0 && s->execs + s->exits == before)
		err = s->ringbuf ? ring_buffer__consume(s->rb) : perf_buffer__consume(s->pb);
	return delivered_since(s, before, err);
}

void am_execsnoop_stats(struct am_execsnoop *s, struct am_execsnoop_stats *out)
{
	uint64_t sums[EXECSNOOP_STAT_NR];

	am_percpu_sums(bpf_map__fd(s->skel->maps.stats), 0, EXECSNOOP_STAT_NR, sums);
	memset(out, 0, sizeof(*out));
	out->execs = s->execs;
	out->exits = s->exits;
	out->output_failures = sums[EXECSNOOP_STAT_OUTPUT_FAILED];
	out->stash_failures = sums[EXECSNOOP_STAT_STASH_FAILED];
	out->read_failures = sums[EXECSNOOP_STAT_READ_FAILED];
	out->unmatched = sums[EXECSNOOP_STAT_UNMATCHED];
	out->lost_samples = s->lost;
	out->malformed = s->malformed;
	/* A perf buffer overrun is seen twice: the program's output call fails, and the kernel
	 * later reports the same samples as lost. */
	out->drops =
	    out->stash_failures + s->malformed +
	    (out->lost_samples > out->output_failures ? out->lost_samples : out->output_failures);
}

void am_execsnoop_set_batching(struct am_execsnoop *s, bool batching)
{
	/* The skeleton's .bss is memory-mapped from the kernel's map (5.5+): a plain store is
	 * seen by the program. The ordering against the ring buffer's own positions is what
	 * makes this safe: a record written while the flag was set is seen by the next poll. */
	__atomic_store_n(&s->skel->bss->consumer_batching, batching ? 1u : 0u, __ATOMIC_SEQ_CST);
}

bool am_execsnoop_uses_ringbuf(const struct am_execsnoop *s)
{
	return s->ringbuf;
}

void am_execsnoop_close(struct am_execsnoop *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	perf_buffer__free(s->pb);
	if (s->skel)
		execsnoop_bpf__destroy(s->skel);
	am_bpf_open_state_release(&s->open_state);
	am_cgroup_paths_free(s->cgroups);
	free(s);
}
