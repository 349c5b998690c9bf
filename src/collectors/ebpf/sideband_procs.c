/* The side band's process table: each process's history (execs, forks, executable mappings)
 * by pid, the interned paths, the pid filter and the memory bound. */
#include "collectors/ebpf/sideband_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Records kept at most (88 bytes each, 23 MiB): a bound on a long window of a busy host (a
 * build at 500 execs/s keeps about 200000 a minute). When it is reached, processes that exited
 * unannounced are dropped first. */
#define MAX_ITEMS (1u << 18)

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

struct proc *am_sb_find(const struct am_sideband *t, uint32_t pid)
{
	size_t h;

	if (!t->indexcap)
		return NULL;
	for (h = hash32(pid) & (t->indexcap - 1); t->index[h]; h = (h + 1) & (t->indexcap - 1))
		if (t->procs[t->index[h] - 1].pid == pid)
			return &t->procs[t->index[h] - 1];
	return NULL;
}

struct proc *am_sb_find_or_add(struct am_sideband *t, uint32_t pid)
{
	struct proc *p = am_sb_find(t, pid);

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

void am_sb_proc_free(struct proc *p)
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
			am_sb_proc_free(p);
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

const char *am_sb_intern(struct am_sideband *t, const char *s)
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

bool am_sb_wanted(const struct am_sideband *t, uint32_t pid)
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

int am_sb_add_item(struct am_sideband *t, uint32_t pid, struct item *it)
{
	struct proc *p;

	/* At the bound, look for exited processes again every so many drops, not per record. */
	if (t->nitems >= MAX_ITEMS && t->st.dropped % 4096 == 0)
		evict_exited(t);
	p = t->nitems < MAX_ITEMS ? am_sb_find_or_add(t, pid) : NULL;
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
