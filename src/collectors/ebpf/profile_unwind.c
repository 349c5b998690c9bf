#include "collectors/ebpf/profile_unwind.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"

#define MIN_SLOTS 1024

/* A record waiting for the mappings of its process. */
struct deferred {
	struct deferred *next;
	size_t size;
	unsigned char rec[];
};

struct am_punw {
	struct am_punw_opts o;
	struct am_unwinder *w;
	struct am_punw_entry *e; /* the entries, in the order they were first seen */
	size_t n, ecap;
	uint32_t *slots; /* open addressing: entry index + 1, 0 free */
	size_t nslots;
	struct deferred *dhead, **dtail;
	size_t dbytes;
	uint64_t *pcs; /* one unwound stack: max_frames */
	uint64_t fp[PROFILER_MAX_STACK_DEPTH];
	struct am_punw_stats st;
};

int am_punw_new(const struct am_punw_opts *opts, struct am_punw **out)
{
	struct am_punw *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->o = *opts;
	if (!p->o.max_frames)
		p->o.max_frames = PROFILER_MAX_STACK_DEPTH;
	p->dtail = &p->dhead;
	p->w = am_unwinder_new(opts->usym);
	p->pcs = calloc(p->o.max_frames, sizeof(*p->pcs));
	if (!p->w || !p->pcs) {
		am_err("profiler: no memory for the stack unwinder");
		am_punw_free(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

void am_punw_free(struct am_punw *p)
{
	struct deferred *d, *next;
	size_t i;

	if (!p)
		return;
	for (d = p->dhead; d; d = next) {
		next = d->next;
		free(d);
	}
	for (i = 0; i < p->n; i++)
		free(p->e[i].pcs);
	free(p->e);
	free(p->slots);
	free(p->pcs);
	am_unwinder_free(p->w);
	free(p);
}

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *b = data;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

/* The fields a sample is counted by: the kernel's key (without its user stack id), the
 * cgroup, and the user frames. */
static uint64_t entry_hash(const struct am_punw_entry *x)
{
	uint64_t h = 14695981039346656037ull;

	h = fnv(h, &x->key.pid, sizeof(x->key.pid));
	h = fnv(h, x->key.comm, sizeof(x->key.comm));
	h = fnv(h, &x->key.mm, sizeof(x->key.mm));
	h = fnv(h, &x->key.kernel_err, sizeof(x->key.kernel_err));
	h = fnv(h, &x->key.kernel_stack, sizeof(x->key.kernel_stack));
	h = fnv(h, &x->key.user_err, sizeof(x->key.user_err));
	h = fnv(h, &x->cgroup_id, sizeof(x->cgroup_id));
	h = fnv(h, &x->utruncated, sizeof(x->utruncated));
	return fnv(h, x->pcs, x->npcs * sizeof(*x->pcs));
}

static bool entry_eq(const struct am_punw_entry *a, const struct am_punw_entry *b)
{
	return a->hash == b->hash && a->key.pid == b->key.pid && a->key.mm == b->key.mm &&
	       !memcmp(a->key.comm, b->key.comm, sizeof(a->key.comm)) &&
	       a->key.kernel_err == b->key.kernel_err &&
	       a->key.kernel_stack == b->key.kernel_stack && a->key.user_err == b->key.user_err &&
	       a->cgroup_id == b->cgroup_id && a->utruncated == b->utruncated &&
	       a->npcs == b->npcs &&
	       (!a->npcs || !memcmp(a->pcs, b->pcs, a->npcs * sizeof(*a->pcs)));
}

/* X's slot: the one holding its entry, or the free one where it goes. */
static size_t slot_of(const struct am_punw *p, const struct am_punw_entry *x)
{
	size_t i;

	for (i = x->hash & (p->nslots - 1);; i = (i + 1) & (p->nslots - 1))
		if (!p->slots[i] || entry_eq(&p->e[p->slots[i] - 1], x))
			return i;
}

/* Room for one more entry: slots at most half full, and the entries array. */
static int grow(struct am_punw *p)
{
	size_t ns, i;
	uint32_t *slots;

	if (p->n == p->ecap) {
		size_t cap = p->ecap ? p->ecap * 2 : MIN_SLOTS / 2;
		struct am_punw_entry *e = realloc(p->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		p->e = e;
		p->ecap = cap;
	}
	if ((p->n + 1) * 2 <= p->nslots)
		return 0;
	ns = p->nslots ? p->nslots * 2 : MIN_SLOTS;
	slots = calloc(ns, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	free(p->slots);
	p->slots = slots;
	p->nslots = ns;
	for (i = 0; i < p->n; i++)
		p->slots[slot_of(p, &p->e[i])] = (uint32_t)i + 1;
	return 0;
}

/* Count X (its PCS still the caller's). Returns 0, or -ENOSPC when the table is full. */
static int count(struct am_punw *p, struct am_punw_entry *x)
{
	struct am_punw_entry *e;
	size_t s = 0;

	x->hash = entry_hash(x);
	if (p->nslots) {
		s = slot_of(p, x);
		if (p->slots[s]) {
			p->e[p->slots[s] - 1].count++;
			return 0;
		}
	}
	if (p->n >= p->o.max_entries)
		return -ENOSPC;
	if (grow(p))
		return -ENOMEM;
	s = slot_of(p, x);
	e = &p->e[p->n];
	*e = *x;
	e->count = 1;
	e->pcs = NULL;
	if (x->npcs) {
		e->pcs = malloc(x->npcs * sizeof(*e->pcs));
		if (!e->pcs)
			return -ENOMEM;
		memcpy(e->pcs, x->pcs, x->npcs * sizeof(*e->pcs));
	}
	p->slots[s] = (uint32_t)++p->n;
	return 0;
}

/* Generation MM of PID captured, or captured now: from /proc while the process lives, else
 * from the side band's records. */
static bool captured(struct am_punw *p, const struct profiler_sample *h)
{
	struct am_usym_rec_map *maps;
	char comm[AM_TASK_COMM_LEN + 1];
	size_t n;
	int added;

	if (am_usym_has_gen(p->o.usym, h->pid, h->mm) ||
	    !am_usym_snapshot(p->o.usym, h->pid, h->mm))
		return true;
	if (!p->o.sb)
		return false;
	am_sideband_read(p->o.sb);
	memcpy(comm, h->comm, AM_TASK_COMM_LEN);
	comm[AM_TASK_COMM_LEN] = '\0';
	am_sideband_note_comm(p->o.sb, h->pid, h->mm, comm);
	if (am_sideband_maps(p->o.sb, h->pid, h->mm, &maps, &n) || !n)
		return false;
	added = am_usym_capture_maps(p->o.usym, h->pid, h->mm, maps, n, p->o.sb_files);
	am_sideband_maps_free(maps, n);
	if (added > 0 && p->o.sb_captures)
		(*p->o.sb_captures)++;
	return am_usym_has_gen(p->o.usym, h->pid, h->mm);
}

/* The frame-pointer walk the kernel took (auto), into p->fp. Returns its depth. */
static unsigned fp_stack(struct am_punw *p, const struct profiler_sample *h)
{
	unsigned n;

	if (h->user_err || p->o.stacks_fd < 0 ||
	    bpf_map_lookup_elem(p->o.stacks_fd, &h->user_stack, p->fp))
		return 0;
	for (n = 0; n < PROFILER_MAX_STACK_DEPTH && p->fp[n]; n++)
		;
	return n;
}

static enum am_profile_lost_part stop_loss(enum am_unwind_stop stop)
{
	switch (stop) {
	case AM_UNWIND_TRUNCATED:
		return AM_PROFILE_LOST_UNWIND_TRUNCATED;
	case AM_UNWIND_NO_CFI:
		return AM_PROFILE_LOST_UNWIND_NO_CFI;
	case AM_UNWIND_FAILED:
		return AM_PROFILE_LOST_UNWIND_FAILED;
	default:
		return AM_PROFILE_LOST_MAX; /* none */
	}
}

/* Unwind one record and count it. In auto mode the frame-pointer walk is taken instead when
 * the unwinder did not reach the entry and the walk went deeper (code without CFI: JIT,
 * hand-written assembly), or when there was nothing to unwind. */
static void process(struct am_punw *p, const struct profiler_sample *h, const void *stack)
{
	struct am_punw_entry x = {.key = {.pid = h->pid, .mm = h->mm}};
	enum am_profile_lost_part loss = AM_PROFILE_LOST_MAX;
	enum am_unwind_stop stop = AM_UNWIND_FAILED;
	struct am_unwind_regs regs;
	unsigned nd = 0, nf = 0;
	int err;

	memcpy(x.key.comm, h->comm, sizeof(x.key.comm));
	x.key.kernel_err = h->kernel_err;
	x.key.kernel_stack = h->kernel_stack;
	x.cgroup_id = h->cgroup_id;
	x.key.cgroup_id = h->cgroup_id;
	x.key.ns_pid = h->ns_pid;
	if (!(h->flags & PROFILER_SF_NO_REGS)) {
		memcpy(regs.r, h->regs, sizeof(regs.r));
		err = am_unwind(p->w, h->pid, h->mm, &regs, stack, h->stack_len, p->pcs,
				p->o.max_frames, &stop);
		nd = err > 0 ? (unsigned)err : 0;
		if (!nd) { /* the sampled ip alone */
			p->pcs[0] = h->regs[AM_UNWIND_REG_IP];
			nd = 1;
		}
	}
	if (p->o.mode == PROFILER_CG_AUTO &&
	    (!nd || (stop != AM_UNWIND_END && stop != AM_UNWIND_MAX)))
		nf = fp_stack(p, h);
	if (nf > nd) {
		x.pcs = p->fp;
		x.npcs = nf;
		x.utruncated = nf >= PROFILER_MAX_STACK_DEPTH;
		p->st.fp++;
	} else if (nd) {
		x.pcs = p->pcs;
		x.npcs = nd;
		x.utruncated = stop == AM_UNWIND_MAX || stop == AM_UNWIND_TRUNCATED;
		loss = h->flags & PROFILER_SF_COPY_FAIL ? AM_PROFILE_LOST_COPY_FAILED
							: stop_loss(stop);
		p->st.stop[stop]++;
		p->st.dwarf++;
	} else {
		x.key.user_err = -EFAULT; /* a "[missing user stack]" frame */
		loss = AM_PROFILE_LOST_USER_REGS;
	}
	if (count(p, &x)) { /* full, or no memory for one more */
		p->st.lost[AM_PROFILE_LOST_UNWOUND_FULL]++;
		return;
	}
	p->st.counted++;
	if (loss != AM_PROFILE_LOST_MAX)
		p->st.lost[loss]++;
}

static bool parse(struct am_punw *p, const void *rec, size_t size, struct profiler_sample *h)
{
	if (size < sizeof(*h))
		goto bad;
	memcpy(h, rec, sizeof(*h));
	if (h->hdr_size < sizeof(*h) || h->hdr_size > size || h->stack_len > size - h->hdr_size ||
	    h->stack_len > PROFILER_COPY_MAX)
		goto bad;
	return true;
bad:
	p->st.malformed++;
	p->st.lost[AM_PROFILE_LOST_COPY_MALFORMED]++;
	return false;
}

static void defer(struct am_punw *p, const void *rec, size_t size)
{
	struct deferred *d = NULL;

	if (p->dbytes + size <= p->o.defer_bytes)
		d = malloc(sizeof(*d) + size);
	if (!d) {
		p->st.lost[AM_PROFILE_LOST_DEFER_FULL]++;
		return;
	}
	d->next = NULL;
	d->size = size;
	memcpy(d->rec, rec, size);
	*p->dtail = d;
	p->dtail = &d->next;
	p->dbytes += size;
	p->st.deferred++;
}

void am_punw_add(struct am_punw *p, const void *rec, size_t size)
{
	uint64_t t0 = am_clock_ns(CLOCK_MONOTONIC);
	struct profiler_sample h;

	if (!parse(p, rec, size, &h))
		return;
	p->st.records++;
	p->st.bytes += h.stack_len;
	if (captured(p, &h))
		process(p, &h, (const unsigned char *)rec + h.hdr_size);
	else
		defer(p, rec, size);
	p->st.ns += am_clock_ns(CLOCK_MONOTONIC) - t0;
}

void am_punw_dropped(struct am_punw *p, uint64_t n)
{
	p->st.lost[AM_PROFILE_LOST_COPY_DROPPED] += n;
}

void am_punw_finish(struct am_punw *p)
{
	uint64_t t0 = am_clock_ns(CLOCK_MONOTONIC);
	struct profiler_sample h;
	struct deferred *d, *next;

	for (d = p->dhead; d; d = next) {
		next = d->next;
		/* Unwound even when no capture could be had: its frames are then unknown and
		 * counted as such (no CFI) rather than dropped. */
		if (parse(p, d->rec, d->size, &h)) {
			captured(p, &h);
			process(p, &h, d->rec + h.hdr_size);
		}
		free(d);
	}
	p->dhead = NULL;
	p->dtail = &p->dhead;
	p->dbytes = 0;
	p->st.ns += am_clock_ns(CLOCK_MONOTONIC) - t0;
}

const struct am_punw_entry *am_punw_entries(const struct am_punw *p, size_t *n)
{
	*n = p->n;
	return p->e;
}

const struct am_punw_stats *am_punw_stats(const struct am_punw *p)
{
	return &p->st;
}
