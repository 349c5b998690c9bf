#include "collectors/profiler_mmap.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/perf_attach.h"
#include "util/file.h"

#define DEFAULT_PAGES 64
#define MIN_PAGES     8
/* Records kept at most (88 bytes each, 23 MiB): a bound on a long window of a busy host (a
 * build at 500 execs/s keeps about 200000 a minute). When it is reached, processes that exited
 * unannounced are dropped first. */
#define MAX_ITEMS   (1u << 18)
#define MAX_INHERIT 32	  /* fork generations followed back to the first known ancestor */
#define MAX_LIST    65536 /* mappings of one generation */
#define MAX_COMMS   4	  /* task names remembered per (pid, mm) */
#define SCRATCH_LEN 65536 /* a record's size is a u16 */
/* From exec's switch to the new mm to its COMM|EXEC record: tens of microseconds (the
 * sample's own BPF program runs in there when it interrupts it), more if preempted. */
#define EXEC_GAP_NS  500000
#define TIME_UNKNOWN UINT64_MAX

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

enum item_kind { IT_EXEC, IT_FORK, IT_MAP }; /* boundaries sort before mappings at one time */

/* One event in a process's history. */
struct item {
	uint64_t time;
	uint32_t seq; /* arrival order: ties keep it */
	uint8_t kind; /* enum item_kind */
	uint8_t bid_len;
	uint32_t ppid;			 /* FORK: the parent */
	uint64_t start, end, pgoff, ino; /* MAP */
	const char *path;		 /* MAP: interned */
	union {
		uint8_t bid[20]; /* MAP: build-id when BID_LEN */
		char comm[16];	 /* EXEC: the new program's name */
	};
};

/* One (pid, mm) the profiler announced, with the task names its samples had. */
struct ann {
	uint64_t mm, time; /* TIME_UNKNOWN: only seen in the counts (notification lost) */
	char comms[MAX_COMMS][16];
	unsigned ncomms;
};

struct proc {
	uint32_t pid;
	bool sorted, exited;
	struct item *items;
	size_t n, cap;
	struct ann *anns;
	size_t nanns, anncap;
};

struct ring {
	int fd;
	void *base;
	size_t len; /* mapped bytes: one metadata page and the data pages */
	uint64_t data_size;
};

struct am_sideband {
	uint32_t *pids; /* sorted */
	size_t npids;
	struct ring *rings;
	int nrings;
	int ep;
	uint8_t *scratch;
	struct proc *procs;
	size_t nprocs, proccap;
	uint32_t *index; /* open addressing: pid -> 1 + position in procs; 0 empty */
	size_t indexcap;
	char **strs; /* interned paths, open addressing */
	size_t nstrs, strcap;
	size_t nitems;
	uint32_t seq;
	struct am_sideband_stats st;
};

int am_online_cpus(bool *online, int max)
{
	char buf[1024], *p, *end;
	int n = 0, err = am_file_first_line("/sys/devices/system/cpu/online", buf, sizeof(buf));

	if (err)
		return err;
	for (p = buf; *p && *p != '\n';) {
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			return -EINVAL;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (; a <= b && a < max; a++, n++)
			online[a] = true;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* ---- process table ---- */

static size_t hash32(uint32_t v)
{
	return (size_t)(v * 2654435761u);
}

static void index_put(uint32_t *idx, size_t cap, uint32_t pid, size_t pos)
{
	size_t h;

	for (h = hash32(pid) & (cap - 1); idx[h]; h = (h + 1) & (cap - 1))
		;
	idx[h] = (uint32_t)(pos + 1);
}

static int reindex(struct am_sideband *t, size_t cap)
{
	uint32_t *idx = calloc(cap, sizeof(*idx));
	size_t i;

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < t->nprocs; i++)
		index_put(idx, cap, t->procs[i].pid, i);
	free(t->index);
	t->index = idx;
	t->indexcap = cap;
	return 0;
}

static struct proc *find(const struct am_sideband *t, uint32_t pid)
{
	size_t h;

	if (!t->indexcap)
		return NULL;
	for (h = hash32(pid) & (t->indexcap - 1); t->index[h]; h = (h + 1) & (t->indexcap - 1))
		if (t->procs[t->index[h] - 1].pid == pid)
			return &t->procs[t->index[h] - 1];
	return NULL;
}

static struct proc *find_or_add(struct am_sideband *t, uint32_t pid)
{
	struct proc *p = find(t, pid);

	if (p)
		return p;
	if (t->nprocs == t->proccap) {
		size_t cap = t->proccap ? t->proccap * 2 : 256;

		p = realloc(t->procs, cap * sizeof(*p));
		if (!p)
			return NULL;
		t->procs = p;
		t->proccap = cap;
	}
	if ((t->nprocs + 1) * 2 > t->indexcap && reindex(t, t->indexcap ? t->indexcap * 2 : 512))
		return NULL;
	p = &t->procs[t->nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->sorted = true;
	index_put(t->index, t->indexcap, pid, t->nprocs++);
	return p;
}

static void proc_free(struct proc *p)
{
	free(p->items);
	free(p->anns);
}

/* At the memory bound: drop processes that exited and were never announced (no sample of
 * theirs needs them, unless a notification was lost). */
static void evict_exited(struct am_sideband *t)
{
	size_t i, k = 0;

	for (i = 0; i < t->nprocs; i++) {
		struct proc *p = &t->procs[i];

		if (p->exited && !p->nanns) {
			t->nitems -= p->n;
			proc_free(p);
		} else {
			t->procs[k++] = *p;
		}
	}
	t->nprocs = k;
	/* Rebuilt in place: nothing to allocate when memory may be what ran out. */
	if (t->index)
		memset(t->index, 0, t->indexcap * sizeof(*t->index));
	for (i = 0; t->index && i < t->nprocs; i++)
		index_put(t->index, t->indexcap, t->procs[i].pid, i);
}

static const char *intern(struct am_sideband *t, const char *s)
{
	size_t h = 1469598103934665603ull, i;
	const unsigned char *c;

	for (c = (const unsigned char *)s; *c; c++)
		h = (h ^ *c) * 1099511628211ull;
	if ((t->nstrs + 1) * 2 > t->strcap) {
		size_t cap = t->strcap ? t->strcap * 2 : 256, j;
		char **ns = calloc(cap, sizeof(*ns));

		if (!ns)
			return NULL;
		for (i = 0; i < t->strcap; i++) {
			size_t g = 1469598103934665603ull;

			if (!t->strs[i])
				continue;
			for (c = (const unsigned char *)t->strs[i]; *c; c++)
				g = (g ^ *c) * 1099511628211ull;
			for (j = g & (cap - 1); ns[j]; j = (j + 1) & (cap - 1))
				;
			ns[j] = t->strs[i];
		}
		free(t->strs);
		t->strs = ns;
		t->strcap = cap;
	}
	for (i = h & (t->strcap - 1); t->strs[i]; i = (i + 1) & (t->strcap - 1))
		if (!strcmp(t->strs[i], s))
			return t->strs[i];
	t->strs[i] = strdup(s);
	if (t->strs[i])
		t->nstrs++;
	return t->strs[i];
}

static bool wanted(const struct am_sideband *t, uint32_t pid)
{
	size_t lo = 0, hi = t->npids;

	if (!t->npids)
		return true;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->pids[mid] == pid)
			return true;
		if (t->pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Keep IT for PID. Returns 0, or -ENOSPC/-ENOMEM (counted as dropped). */
static int add_item(struct am_sideband *t, uint32_t pid, struct item *it)
{
	struct proc *p;

	/* At the bound, look for exited processes again every so many drops, not per record. */
	if (t->nitems >= MAX_ITEMS && t->st.dropped % 4096 == 0)
		evict_exited(t);
	p = t->nitems < MAX_ITEMS ? find_or_add(t, pid) : NULL;
	if (p && p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct item *ni = realloc(p->items, cap * sizeof(*ni));

		if (ni) {
			p->items = ni;
			p->cap = cap;
		}
	}
	if (!p || p->n == p->cap) {
		t->st.dropped++;
		return -ENOSPC;
	}
	it->seq = t->seq++;
	if (p->n && it->time < p->items[p->n - 1].time)
		p->sorted = false; /* arrived from another CPU's buffer after later records */
	p->items[p->n++] = *it;
	t->nitems++;
	return 0;
}

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
	if (!wanted(t, pid))
		return 0;
	if (it->end <= it->start)
		return -EINVAL;
	/* perf's name for anonymous memory; /proc shows none. */
	it->path = intern(t, strcmp(name, "//anon") ? name : "");
	if (!it->path) {
		t->st.dropped++;
		return -ENOMEM;
	}
	it->kind = IT_MAP;
	if (add_item(t, pid, it) == 0)
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
	if (!(r.h.misc & PERF_RECORD_MISC_COMM_EXEC) || !wanted(t, r.pid))
		return 0;
	it.time = rec_time(rec, len);
	it.kind = IT_EXEC;
	snprintf(it.comm, sizeof(it.comm), "%s", comm);
	if (add_item(t, r.pid, &it) == 0)
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
	if (r.pid != r.tid || !wanted(t, r.pid))
		return 0;
	if (!is_fork) {
		t->st.exits++;
		p = find(t, r.pid);
		if (p)
			p->exited = true;
		return 0;
	}
	if (r.pid == r.ppid)
		return 0;
	it.time = r.time;
	it.kind = IT_FORK;
	it.ppid = r.ppid;
	if (add_item(t, r.pid, &it) == 0)
		t->st.forks++;
	/* A pid reused by a new process is no longer the one that exited. */
	p = find(t, r.pid);
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

/* ---- epochs: which mappings a (pid, mm) generation had ---- */

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_ann(const void *a, const void *b)
{
	const struct ann *x = a, *y = b;

	return x->time < y->time ? -1 : x->time > y->time;
}

static void sort_proc(struct proc *p)
{
	if (!p->sorted) {
		qsort(p->items, p->n, sizeof(*p->items), cmp_item);
		p->sorted = true;
	}
	if (p->nanns > 1)
		qsort(p->anns, p->nanns, sizeof(*p->anns), cmp_ann);
}

/* Epoch K of a process runs from its K-th boundary (exec or fork; epoch 0: from before the
 * tracker started) to the next. Returns the epoch in force at TIME. */
static size_t epoch_at(const struct proc *p, uint64_t time)
{
	size_t i, e = 0;

	for (i = 0; i < p->n && p->items[i].time <= time; i++)
		if (p->items[i].kind != IT_MAP)
			e++;
	return e;
}

/* The boundary that starts epoch E (E >= 1). */
static const struct item *boundary(const struct proc *p, size_t e)
{
	size_t i, k = 0;

	for (i = 0; i < p->n; i++)
		if (p->items[i].kind != IT_MAP && ++k == e)
			return &p->items[i];
	return NULL;
}

static size_t nboundaries(const struct proc *p)
{
	size_t i, k = 0;

	for (i = 0; i < p->n; i++)
		k += p->items[i].kind != IT_MAP;
	return k;
}

static bool ann_has_comm(const struct ann *a, const char *comm)
{
	unsigned i;

	for (i = 0; i < a->ncomms; i++)
		if (!strncmp(a->comms[i], comm, sizeof(a->comms[i])))
			return true;
	return false;
}

/* The latest exec epoch, not TAKEN by an announced mm, that gave one of the names A's samples
 * had; 0 when none. */
static size_t named_epoch(const struct proc *p, size_t nb, const struct ann *a, const bool *taken)
{
	const struct item *b;
	size_t e;

	for (e = nb; e > 0; e--)
		if ((!taken || !taken[e]) && (b = boundary(p, e)) && b->kind == IT_EXEC &&
		    ann_has_comm(a, b->comm))
			return e;
	return 0;
}

/* The latest epoch not TAKEN, else the latest. */
static size_t free_epoch(size_t nb, const bool *taken)
{
	size_t e;

	for (e = nb + 1; e > 0; e--)
		if (!taken || !taken[e - 1])
			return e - 1;
	return nb;
}

/* The task name epoch E of P began with: its exec's, or a fork's parent's then. NULL when
 * unknown (before the side band started). Renames (prctl) are not followed. */
static const char *epoch_name(struct am_sideband *t, struct proc *p, size_t e, int depth)
{
	const struct item *b = e ? boundary(p, e) : NULL;
	struct proc *parent;

	if (!b)
		return NULL;
	if (b->kind == IT_EXEC)
		return b->comm;
	parent = find(t, b->ppid);
	if (!parent || depth >= MAX_INHERIT)
		return NULL;
	sort_proc(parent);
	return epoch_name(t, parent, epoch_at(parent, b->time), depth + 1);
}

/* Whether A, stamped in epoch E just before the exec NEXT, is in fact NEXT's mm. exec switches
 * mm, then renames the task, then writes COMM|EXEC; a first sample in between is stamped
 * before the record. Its samples' names tell: NEXT's name, which E did not have, or two
 * names (the mm lived across the rename, which E's mm does not: it is gone before). When the
 * names cannot tell (E's unknown or the same), the time does: a first sample so close to the
 * exec is more likely the new program's than a forked copy's that ran that briefly. */
static bool in_exec_gap(struct am_sideband *t, struct proc *p, size_t e, const struct ann *a,
			const struct item *next)
{
	const char *before;

	if (next->kind != IT_EXEC || !ann_has_comm(a, next->comm))
		return false;
	before = epoch_name(t, p, e, 0);
	if (before && strncmp(before, next->comm, sizeof(next->comm)))
		return true;
	if (!before && a->ncomms > 1)
		return true;
	return next->time - a->time < EXEC_GAP_NS;
}

/* The epoch generation MM of P belongs to. The rule, and why:
 *  - The kernel announces (pid, mm) from the first sample with that mm and the notification is
 *    stamped with the sample's time; the side band stamps each exec (COMM|EXEC) and fork with
 *    the same clock. So the epoch in force at the announcement's time is the mm's: an mm is
 *    made by exactly one exec or fork and lives until the next.
 *  - Except in one gap: exec switches to the new mm before the COMM|EXEC record is written
 *    (in_exec_gap), so a first sample there stamps the new mm with a time of the old epoch.
 *  - Distinct mms of one pid announced one after the other belong to distinct, later epochs:
 *    when the times say otherwise (the gap above, undetected), the later mm takes the epoch
 *    after the earlier one's.
 *  - An mm never announced (its notification lost; the counts still have it) takes the
 *    latest exec epoch whose name its samples had, else the latest epoch no announced mm
 *    holds: the one in force when the pid exec'd only once, or its last program. */
static size_t bind_epoch(struct am_sideband *t, struct proc *p, uint64_t mm)
{
	size_t nb = nboundaries(p), i, e, prev_e = 0;
	const struct ann *unannounced = NULL;
	uint64_t prev_mm = 0;
	bool *taken = calloc(nb + 1, sizeof(*taken));

	for (i = 0; i < p->nanns; i++) {
		const struct ann *a = &p->anns[i];
		const struct item *next;

		if (a->time == TIME_UNKNOWN) {
			if (a->mm == mm)
				unannounced = a;
			continue;
		}
		e = epoch_at(p, a->time);
		next = e < nb ? boundary(p, e + 1) : NULL;
		if (next && in_exec_gap(t, p, e, a, next))
			e++;
		if (prev_mm && a->mm != prev_mm && e <= prev_e && prev_e < nb)
			e = prev_e + 1;
		if (a->mm == mm) {
			free(taken);
			return e;
		}
		if (taken)
			taken[e] = true;
		prev_e = e;
		prev_mm = a->mm;
	}
	e = unannounced ? named_epoch(p, nb, unannounced, taken) : 0;
	if (!e)
		e = free_epoch(nb, taken);
	free(taken);
	return e;
}

/* A mapping being placed into a generation's list. */
struct wmap {
	uint64_t start, end, pgoff, ino;
	const char *path;
	uint8_t bid_len, bid[20];
};

struct wlist {
	struct wmap *v;
	size_t n, cap;
};

/* Add M, which was mapped after everything in L: it replaces what it overlaps (the kernel
 * unmapped that part), splitting a mapping it lands in the middle of. */
static int place(struct wlist *l, const struct wmap *m)
{
	size_t i;

	if (l->n + 2 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct wmap *nv;

		if (cap > MAX_LIST)
			return -E2BIG;
		nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	for (i = 0; i < l->n; i++) {
		struct wmap *o = &l->v[i];

		if (o->end <= m->start || o->start >= m->end)
			continue;
		if (o->start < m->start && o->end > m->end) {
			struct wmap right = *o;

			right.pgoff += m->end - o->start;
			right.start = m->end;
			o->end = m->start;
			l->v[l->n++] = right;
		} else if (o->start < m->start) {
			o->end = m->start;
		} else if (o->end > m->end) {
			o->pgoff += m->end - o->start;
			o->start = m->end;
		} else {
			l->v[i--] = l->v[--l->n];
		}
	}
	l->v[l->n++] = *m;
	return 0;
}

/* Place the mappings of epoch E of P made before LIMIT, a forked epoch's inheritance first. */
static int gather(struct am_sideband *t, struct proc *p, size_t e, uint64_t limit, struct wlist *l,
		  int depth)
{
	const struct item *b = e ? boundary(p, e) : NULL, *next = boundary(p, e + 1);
	uint64_t from = b ? b->time : 0, to = next && next->time < limit ? next->time : limit;
	struct proc *parent;
	size_t i;
	int err = 0;

	if (b && b->kind == IT_FORK && depth < MAX_INHERIT && (parent = find(t, b->ppid))) {
		sort_proc(parent);
		err = gather(t, parent, epoch_at(parent, b->time), b->time, l, depth + 1);
	}
	for (i = 0; i < p->n && !err; i++) {
		const struct item *it = &p->items[i];
		struct wmap m;

		if (it->kind != IT_MAP || it->time < from || it->time >= to)
			continue;
		m.start = it->start;
		m.end = it->end;
		m.pgoff = it->pgoff;
		m.ino = it->ino;
		m.path = it->path;
		m.bid_len = it->bid_len;
		memcpy(m.bid, it->bid, sizeof(m.bid));
		err = place(l, &m);
	}
	return err;
}

static int cmp_wmap(const void *a, const void *b)
{
	const struct wmap *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int am_sideband_maps(struct am_sideband *t, uint32_t pid, uint64_t mm,
		     struct am_usym_rec_map **maps, size_t *n)
{
	struct proc *p = find(t, pid);
	struct wlist l = {0};
	struct am_usym_rec_map *out;
	char(*hex)[41];
	size_t i, j;
	int err;

	*maps = NULL;
	*n = 0;
	if (!p)
		return 0;
	sort_proc(p);
	err = gather(t, p, bind_epoch(t, p, mm), UINT64_MAX, &l, 0);
	if (err == -ENOMEM || !l.n) {
		free(l.v);
		return err == -ENOMEM ? err : 0;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_wmap);
	/* One block: the array, then each mapping's build-id in hex. */
	out = malloc(l.n * (sizeof(*out) + sizeof(*hex)));
	if (!out) {
		free(l.v);
		return -ENOMEM;
	}
	hex = (void *)(out + l.n);
	for (i = 0; i < l.n; i++) {
		for (j = 0; j < l.v[i].bid_len; j++)
			snprintf(hex[i] + 2 * j, 3, "%02x", l.v[i].bid[j]);
		hex[i][2 * j] = '\0';
		out[i] = (struct am_usym_rec_map){.start = l.v[i].start,
						  .end = l.v[i].end,
						  .pgoff = l.v[i].pgoff,
						  .path = l.v[i].path,
						  .build_id = hex[i],
						  .ino = l.v[i].ino};
	}
	*maps = out;
	*n = l.n;
	free(l.v);
	return 0;
}

void am_sideband_maps_free(struct am_usym_rec_map *maps, size_t n)
{
	(void)n;
	free(maps);
}

static struct ann *find_ann(struct am_sideband *t, uint32_t pid, uint64_t mm, bool add)
{
	struct proc *p = add ? find_or_add(t, pid) : find(t, pid);
	size_t i;

	if (!p)
		return NULL;
	for (i = 0; i < p->nanns; i++)
		if (p->anns[i].mm == mm)
			return &p->anns[i];
	if (!add)
		return NULL;
	if (p->nanns == p->anncap) {
		size_t cap = p->anncap ? p->anncap * 2 : 2;
		struct ann *na = realloc(p->anns, cap * sizeof(*na));

		if (!na)
			return NULL;
		p->anns = na;
		p->anncap = cap;
	}
	memset(&p->anns[p->nanns], 0, sizeof(p->anns[0]));
	p->anns[p->nanns].mm = mm;
	p->anns[p->nanns].time = TIME_UNKNOWN;
	return &p->anns[p->nanns++];
}

void am_sideband_announce(struct am_sideband *t, uint32_t pid, uint64_t mm, uint64_t time_ns)
{
	struct ann *a;

	if (!t || !wanted(t, pid) || !(a = find_ann(t, pid, mm, true)))
		return;
	/* The BPF side announces an mm again only after another one: the first time counts. */
	if (a->time == TIME_UNKNOWN || time_ns < a->time)
		a->time = time_ns;
}

void am_sideband_note_comm(struct am_sideband *t, uint32_t pid, uint64_t mm, const char *comm)
{
	struct ann *a;

	/* Only processes the side band knows: the rest have nothing to bind. */
	if (!t || !find(t, pid) || !(a = find_ann(t, pid, mm, true)) || ann_has_comm(a, comm) ||
	    a->ncomms == MAX_COMMS)
		return;
	snprintf(a->comms[a->ncomms++], sizeof(a->comms[0]), "%s", comm);
}

/* ---- buffers ---- */

int am_sideband_ring_read(struct perf_event_mmap_page *meta, const uint8_t *data, uint64_t size,
			  uint8_t *scratch, am_sideband_rec_fn fn, void *ctx)
{
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE), tail = meta->data_tail;
	struct perf_event_header h;
	int n = 0, err = 0;

	while (tail < head) {
		uint64_t off = tail & (size - 1), first;
		const uint8_t *rec = data + off;

		/* Records are 8-byte aligned in a power-of-2 ring: a header never wraps. */
		memcpy(&h, rec, sizeof(h));
		if (h.size < sizeof(h) || h.size > head - tail || h.size > size || (off & 7)) {
			tail = head; /* lost our place: what follows cannot be trusted */
			err = -EINVAL;
			break;
		}
		if (off + h.size > size) {
			first = size - off;
			memcpy(scratch, rec, first);
			memcpy(scratch + first, data, h.size - first);
			rec = scratch;
		}
		fn(ctx, rec, h.size);
		tail += h.size;
		n++;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	return err ? err : n;
}

static void on_ring_record(void *ctx, const void *rec, size_t len)
{
	am_sideband_feed(ctx, rec, len);
}

int am_sideband_read(struct am_sideband *t)
{
	long page = sysconf(_SC_PAGESIZE);
	int i, n, total = 0;

	for (i = 0; t && i < t->nrings; i++) {
		struct ring *r = &t->rings[i];

		n = am_sideband_ring_read(r->base, (const uint8_t *)r->base + page, r->data_size,
					  t->scratch, on_ring_record, t);
		if (n < 0)
			t->st.malformed++;
		else
			total += n;
	}
	return total;
}

static void fill_attr(struct perf_event_attr *a, bool build_id, uint64_t data_size)
{
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
	a->build_id = build_id;
	/* The clock bpf_perf_event_output stamps the profiler's notifications with. */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	/* Wake the reader at a quarter full: three quarters left while it gets there. */
	a->watermark = 1;
	a->wakeup_watermark = (uint32_t)(data_size / 4);
}

/* Open the event of CPU and map PAGES data pages. The first CPU settles the build-id question
 * (EINVAL before 5.12) and how much may be mapped (the perf_event_mlock_kb allowance). */
static int open_ring(struct am_sideband *t, int cpu, unsigned *pages, struct ring *r)
{
	long page = sysconf(_SC_PAGESIZE);
	struct perf_event_attr a;
	int fd;

	for (;;) {
		uint64_t data = (uint64_t)*pages * (uint64_t)page;

		fill_attr(&a, t->st.build_ids, data);
		fd = am_perf_event_open(&a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd == -EINVAL && t->st.build_ids && !t->nrings) {
			t->st.build_ids = false;
			continue;
		}
		if (fd < 0)
			return fd;
		r->len = (size_t)(*pages + 1) * (size_t)page;
		r->base = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (r->base != MAP_FAILED) {
			r->fd = fd;
			r->data_size = data;
			return 0;
		}
		int err = -errno;

		close(fd);
		if ((err != -EPERM && err != -ENOMEM) || *pages <= MIN_PAGES)
			return err;
		*pages /= 2;
	}
}

struct am_sideband *am_sideband_new(const struct am_sideband_opts *o)
{
	struct am_sideband *t = calloc(1, sizeof(*t));
	size_t i, j;

	if (!t)
		return NULL;
	t->ep = -1;
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
	int ncpus = libbpf_num_possible_cpus(), cpu, err = 0;
	unsigned pages = o && o->pages ? o->pages : DEFAULT_PAGES;
	struct epoll_event ev = {.events = EPOLLIN};
	bool *online;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	online = calloc((size_t)ncpus, sizeof(*online));
	t->rings = calloc((size_t)ncpus, sizeof(*t->rings));
	t->scratch = malloc(SCRATCH_LEN);
	t->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!online || !t->rings || !t->scratch || t->ep < 0) {
		free(online);
		return t->ep < 0 ? -errno : -ENOMEM;
	}
	err = am_online_cpus(online, ncpus);
	t->st.build_ids = !(o && o->no_build_id);
	for (cpu = 0; err >= 0 && cpu < ncpus; cpu++) {
		if (!online[cpu])
			continue;
		err = open_ring(t, cpu, &pages, &t->rings[t->nrings]);
		if (err == -ENODEV) { /* went offline meanwhile */
			err = 0;
			continue;
		}
		if (err)
			break;
		ev.data.u32 = (uint32_t)t->nrings;
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, t->rings[t->nrings].fd, &ev)) {
			err = -errno;
			munmap(t->rings[t->nrings].base, t->rings[t->nrings].len);
			close(t->rings[t->nrings].fd);
			break;
		}
		t->nrings++;
	}
	free(online);
	t->st.ncpus = t->nrings;
	t->st.pages = pages;
	if (err >= 0 && !t->nrings)
		err = -ENODEV;
	return err < 0 ? err : 0;
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
	int k;

	if (!t)
		return;
	for (k = 0; k < t->nrings; k++) {
		munmap(t->rings[k].base, t->rings[k].len);
		close(t->rings[k].fd);
	}
	if (t->ep >= 0)
		close(t->ep);
	for (i = 0; i < t->nprocs; i++)
		proc_free(&t->procs[i]);
	for (i = 0; i < t->strcap; i++)
		free(t->strs[i]);
	free(t->strs);
	free(t->procs);
	free(t->index);
	free(t->rings);
	free(t->scratch);
	free(t->pids);
	free(t);
}

int am_sideband_fd(const struct am_sideband *t)
{
	return t ? t->ep : -1;
}

void am_sideband_stats(const struct am_sideband *t, struct am_sideband_stats *out)
{
	if (t)
		*out = t->st;
	else
		memset(out, 0, sizeof(*out));
}
