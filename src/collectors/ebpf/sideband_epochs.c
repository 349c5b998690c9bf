/* The side band's epochs: which exec (or fork) a (pid, mm) generation the profiler announced
 * belongs to, and the executable mappings it had (bind_epoch, am_sideband_maps). */
#include "collectors/ebpf/sideband_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INHERIT 32	  /* fork generations followed back to the first known ancestor */
#define MAX_LIST    65536 /* mappings of one generation */
/* From exec's switch to the new mm to its COMM|EXEC record: tens of microseconds (the
 * sample's own BPF program runs in there when it interrupts it), more if preempted. */
#define EXEC_GAP_NS 500000

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
	parent = am_sb_find(t, b->ppid);
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

	if (b && b->kind == IT_FORK && depth < MAX_INHERIT && (parent = am_sb_find(t, b->ppid))) {
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
	struct proc *p = am_sb_find(t, pid);
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
	struct proc *p = add ? am_sb_find_or_add(t, pid) : am_sb_find(t, pid);
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

	if (!t || !am_sb_wanted(t, pid) || !(a = find_ann(t, pid, mm, true)))
		return;
	/* The BPF side announces an mm again only after another one: the first time counts. */
	if (a->time == TIME_UNKNOWN || time_ns < a->time)
		a->time = time_ns;
}

void am_sideband_note_comm(struct am_sideband *t, uint32_t pid, uint64_t mm, const char *comm)
{
	struct ann *a;

	/* Only processes the side band knows: the rest have nothing to bind. */
	if (!t || !am_sb_find(t, pid) || !(a = find_ann(t, pid, mm, true)) ||
	    ann_has_comm(a, comm) || a->ncomms == MAX_COMMS)
		return;
	snprintf(a->comms[a->ncomms++], sizeof(a->comms[0]), "%s", comm);
}
