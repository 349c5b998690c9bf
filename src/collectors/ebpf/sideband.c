#include "collectors/ebpf/sideband.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "collectors/ebpf/sideband_internal.h"
#include "core/perf_ring.h"

#define DEFAULT_PAGES 64
#define MIN_PAGES     8

/* The records' layouts, as enum perf_event_type in linux/perf_event.h describes them; each is
 * followed by struct am_sideband_sample_id. */
struct rec_mmap {
	struct perf_event_header h;
	uint32_t pid, tid;
	uint64_t addr, len, pgoff;
	/* char filename[] */
};

struct rec_mmap2 {
	struct perf_event_header h;
	uint32_t pid, tid;
	uint64_t addr, len, pgoff;
	union {
		struct {
			uint32_t maj, min;
			uint64_t ino, ino_generation;
		};
		struct {
			uint8_t build_id_size, reserved_1;
			uint16_t reserved_2;
			uint8_t build_id[20];
		};
	};
	uint32_t prot, flags;
	/* char filename[] */
};

struct rec_comm {
	struct perf_event_header h;
	uint32_t pid, tid;
	/* char comm[] */
};

struct rec_task { /* FORK and EXIT */
	struct perf_event_header h;
	uint32_t pid, ppid, tid, ptid;
	uint64_t time;
};

struct rec_lost {
	struct perf_event_header h;
	uint64_t id, lost;
};

_Static_assert(sizeof(struct rec_mmap2) == 72, "PERF_RECORD_MMAP2 layout");
_Static_assert(sizeof(struct rec_mmap) == 40, "PERF_RECORD_MMAP layout");

/* ---- record parsing ---- */

/* Copy the fixed part of a record (unaligned buffers are fine) after checking LEN holds it,
 * a trailing sample_id and at least MORE bytes between them. */
static bool fixed(void *dst, size_t size, const void *rec, size_t len, size_t more)
{
	if (len < size + more + sizeof(struct am_sideband_sample_id))
		return false;
	memcpy(dst, rec, size);
	return true;
}

static uint64_t rec_time(const void *rec, size_t len)
{
	struct am_sideband_sample_id id;

	memcpy(&id, (const char *)rec + len - sizeof(id), sizeof(id));
	return id.time;
}

/* The NUL-terminated string between OFF and the sample_id, or NULL when it is not. */
static const char *rec_string(const void *rec, size_t len, size_t off)
{
	const char *s = (const char *)rec + off;
	size_t room = len - sizeof(struct am_sideband_sample_id) - off;

	return memchr(s, '\0', room) ? s : NULL;
}

static int keep_map(struct am_sideband *t, uint32_t pid, struct item *it, const char *name)
{
	if (!am_sb_wanted(t, pid))
		return 0;
	if (it->end <= it->start)
		return -EINVAL;
	/* perf's name for anonymous memory; /proc shows none. */
	it->path = am_sb_intern(t, strcmp(name, "//anon") ? name : "");
	if (!it->path) {
		t->st.dropped++;
		return -ENOMEM;
	}
	it->kind = IT_MAP;
	if (am_sb_add_item(t, pid, it) == 0)
		t->st.mmaps++;
	return 0;
}

static int parse_mmap2(struct am_sideband *t, const void *rec, size_t len)
{
	struct rec_mmap2 r;
	struct item it = {0};
	const char *name;

	if (!fixed(&r, sizeof(r), rec, len, 1) || !(name = rec_string(rec, len, sizeof(r))))
		return -EINVAL;
	if (!(r.prot & PROT_EXEC))
		return 0;
	it.time = rec_time(rec, len);
	it.start = r.addr;
	it.end = r.addr + r.len;
	it.pgoff = r.pgoff;
	if (r.h.misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
		it.bid_len = r.build_id_size < 20 ? r.build_id_size : 20;
		memcpy(it.bid, r.build_id, it.bid_len);
	} else {
		it.ino = r.ino;
	}
	return keep_map(t, r.pid, &it, name);
}

static int parse_mmap(struct am_sideband *t, const void *rec, size_t len)
{
	struct rec_mmap r;
	struct item it = {0};
	const char *name;

	if (!fixed(&r, sizeof(r), rec, len, 1) || !(name = rec_string(rec, len, sizeof(r))))
		return -EINVAL;
	if (r.h.misc & PERF_RECORD_MISC_MMAP_DATA)
		return 0;
	it.time = rec_time(rec, len);
	it.start = r.addr;
	it.end = r.addr + r.len;
	it.pgoff = r.pgoff;
	return keep_map(t, r.pid, &it, name);
}

static int parse_comm(struct am_sideband *t, const void *rec, size_t len)
{
	struct rec_comm r;
	struct item it = {0};
	const char *comm;

	if (!fixed(&r, sizeof(r), rec, len, 1) || !(comm = rec_string(rec, len, sizeof(r))))
		return -EINVAL;
	/* A rename (prctl PR_SET_NAME) changes no mapping. */
	if (!(r.h.misc & PERF_RECORD_MISC_COMM_EXEC) || !am_sb_wanted(t, r.pid))
		return 0;
	it.time = rec_time(rec, len);
	it.kind = IT_EXEC;
	snprintf(it.comm, sizeof(it.comm), "%s", comm);
	if (am_sb_add_item(t, r.pid, &it) == 0)
		t->st.execs++;
	return 0;
}

static int parse_task(struct am_sideband *t, const void *rec, size_t len, bool is_fork)
{
	struct rec_task r;
	struct item it = {0};
	struct proc *p;

	if (!fixed(&r, sizeof(r), rec, len, 0))
		return -EINVAL;
	/* Threads come and go under their process's pid: only a new group leader is a process. */
	if (r.pid != r.tid || !am_sb_wanted(t, r.pid))
		return 0;
	if (!is_fork) {
		t->st.exits++;
		p = am_sb_find(t, r.pid);
		if (p)
			p->exited = true;
		return 0;
	}
	if (r.pid == r.ppid)
		return 0;
	it.time = r.time;
	it.kind = IT_FORK;
	it.ppid = r.ppid;
	if (am_sb_add_item(t, r.pid, &it) == 0)
		t->st.forks++;
	/* A pid reused by a new process is no longer the one that exited. */
	p = am_sb_find(t, r.pid);
	if (p)
		p->exited = false;
	return 0;
}

int am_sideband_feed(struct am_sideband *t, const void *rec, size_t len)
{
	struct perf_event_header h;
	struct rec_lost lost;
	int err = 0;

	if (len < sizeof(h)) {
		t->st.malformed++;
		return -EINVAL;
	}
	memcpy(&h, rec, sizeof(h));
	if (h.size != len || h.size < sizeof(h)) {
		t->st.malformed++;
		return -EINVAL;
	}
	t->st.records++;
	switch (h.type) {
	case PERF_RECORD_MMAP2:
		err = parse_mmap2(t, rec, len);
		break;
	case PERF_RECORD_MMAP:
		err = parse_mmap(t, rec, len);
		break;
	case PERF_RECORD_COMM:
		err = parse_comm(t, rec, len);
		break;
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT:
		err = parse_task(t, rec, len, h.type == PERF_RECORD_FORK);
		break;
	case PERF_RECORD_LOST:
		if (fixed(&lost, sizeof(lost), rec, len, 0))
			t->st.lost += lost.lost;
		else
			err = -EINVAL;
		break;
	default: /* nothing else was asked for */
		break;
	}
	if (err == -EINVAL)
		t->st.malformed++;
	return err == -EINVAL ? err : 0;
}

static void on_ring_record(void *ctx, const void *rec, size_t len)
{
	am_sideband_feed(ctx, rec, len);
}

int am_sideband_read(struct am_sideband *t)
{
	unsigned bad = 0;
	int total;

	if (!t)
		return 0;
	total = am_perf_rings_read(t->rings, on_ring_record, t, &bad);
	t->st.malformed += bad;
	return total;
}

static void fill_attr(void *ctx, struct perf_event_attr *a, uint64_t data_size)
{
	const struct am_sideband *t = ctx;

	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_DUMMY; /* counts nothing: only its side-band records matter */
	a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
	a->sample_id_all = 1;
	a->mmap = 1;
	a->mmap2 = 1;
	a->comm = 1;
	a->comm_exec = 1;
	a->task = 1;
	a->build_id = t->st.build_ids;
	/* The clock bpf_perf_event_output stamps the profiler's notifications with. */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	/* Wake the reader at a quarter full: three quarters left while it gets there. */
	a->watermark = 1;
	a->wakeup_watermark = (uint32_t)(data_size / 4);
}

/* The first CPU's event refused with EINVAL: the kernel (before 5.12) has no build-ids in
 * MMAP2; go on without. */
static bool drop_build_id(void *ctx)
{
	struct am_sideband *t = ctx;

	if (!t->st.build_ids)
		return false;
	t->st.build_ids = false;
	return true;
}

struct am_sideband *am_sideband_new(const struct am_sideband_opts *o)
{
	struct am_sideband *t = calloc(1, sizeof(*t));
	size_t i, j;

	if (!t)
		return NULL;
	if (o && o->npids) {
		t->pids = calloc(o->npids, sizeof(*t->pids));
		if (!t->pids) {
			free(t);
			return NULL;
		}
		/* Sorted for the lookup per record (insertion: at most a thousand). */
		for (i = 0; i < o->npids; i++) {
			for (j = i; j > 0 && t->pids[j - 1] > o->pids[i]; j--)
				t->pids[j] = t->pids[j - 1];
			t->pids[j] = o->pids[i];
		}
		t->npids = o->npids;
	}
	return t;
}

static int open_rings(struct am_sideband *t, const struct am_sideband_opts *o)
{
	struct am_perf_rings_opts ro = {.pages = o && o->pages ? o->pages : DEFAULT_PAGES,
					.min_pages = MIN_PAGES,
					.fill_attr = fill_attr,
					.retry_einval = drop_build_id,
					.ctx = t};
	int err;

	t->st.build_ids = !(o && o->no_build_id);
	err = am_perf_rings_open(&ro, &t->rings);
	if (err)
		return err;
	t->st.ncpus = t->rings->n;
	t->st.pages = t->rings->pages;
	return 0;
}

int am_sideband_open(const struct am_sideband_opts *o, struct am_sideband **out)
{
	struct am_sideband *t = am_sideband_new(o);
	int err;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	/* All CPUs or none: a CPU's missing exec records would merge two programs' mappings. */
	err = open_rings(t, o);
	if (err) {
		am_sideband_close(t);
		return err;
	}
	*out = t;
	return 0;
}

void am_sideband_close(struct am_sideband *t)
{
	size_t i;

	if (!t)
		return;
	am_perf_rings_close(t->rings);
	for (i = 0; i < t->nprocs; i++)
		am_sb_proc_free(&t->procs[i]);
	for (i = 0; i < t->strcap; i++)
		free(t->strs[i]);
	free(t->strs);
	free(t->procs);
	free(t->index);
	free(t->pids);
	free(t);
}

int am_sideband_fd(const struct am_sideband *t)
{
	return t && t->rings ? t->rings->ep : -1;
}

void am_sideband_stats(const struct am_sideband *t, struct am_sideband_stats *out)
{
	if (t)
		*out = t->st;
	else
		memset(out, 0, sizeof(*out));
}
