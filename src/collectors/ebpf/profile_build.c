#include "collectors/ebpf/profile_build.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parsers.h"
#include "profiler_types.h"
#include "symbolize/demangle.h"
#include "symbolize/kallsyms.h"
#include "util/log.h"

_Static_assert(AM_PROFILE_COMM_LEN == AM_TASK_COMM_LEN, "a record's comm holds the kernel's");
_Static_assert(sizeof(((struct am_profile_stack *)0)->container_id) ==
		   sizeof(((struct am_cgroup_class *)0)->container_id),
	       "a record's container id holds the classifier's");
_Static_assert(sizeof(((struct am_profile_stack *)0)->pod_uid) ==
		   sizeof(((struct am_cgroup_class *)0)->pod_uid),
	       "a record's pod UID holds the classifier's");

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

/* A user frame whose lines are read after every stack is built, file by file. */
struct line_job {
	const void *file; /* the result's src_file */
	uint64_t file_addr;
	uint32_t pid;
	uint64_t mm, addr;
	bool leaf;
	struct am_profile_frame *frame;
};

struct builder {
	const struct am_profile_build_src *src;
	struct am_profile *prof;
	struct am_kallsyms_set ksyms;
	bool ksyms_loaded;
	int kernel_mapping;
	struct maptab tab;
	size_t mapcap;
	struct line_job *jobs;
	size_t njobs, capjobs;
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

/* The address a kernel frame is named by: a return address's call is the byte before it. */
static uint64_t ksym_addr(uint64_t addr, bool leaf)
{
	return leaf ? addr : addr - 1;
}

static int kernel_frame(struct builder *b, struct am_profile_frame *f, uint64_t addr, bool leaf)
{
	const struct am_ksym *sym = NULL;
	char module[80] = "[kernel.kallsyms]";

	if (b->ksyms_loaded)
		sym = am_kallsyms_set_lookup(&b->ksyms, ksym_addr(addr, leaf), NULL);
	if (sym && *sym->module)
		snprintf(module, sizeof(module), "[%s]", sym->module);
	if (b->kernel_mapping < 0)
		b->kernel_mapping = add_mapping(b, b->ksyms_loaded ? b->ksyms.first : 0, UINT64_MAX,
						0, "[kernel.kallsyms]", "");
	return set_frame(f, addr, sym ? sym->name : "[unknown]", module, b->kernel_mapping, true);
}

/* Inlined functions deeper than this at one address are left out (the outermost stays). */
#define MAX_LINES 16

/* FUNC demangled when asked and mangled: *NAME the one to show, *SYSTEM the mangled one or
 * NULL. */
static int names(const struct builder *b, const char *func, char **name, char **system)
{
	char *d = b->src->demangle ? am_demangle(func) : NULL;

	*system = d ? strdup(func) : NULL;
	*name = d ? d : strdup(func);
	return *name && (!d || *system) ? 0 : -ENOMEM;
}

/* The frame's source lines and inlined functions (pprof's Line entries). */
static int frame_lines(const struct builder *b, struct am_profile_frame *f,
		       const struct am_usym_result *r)
{
	struct am_usym_line ul[MAX_LINES];
	size_t n = am_usym_lines(r, ul, MAX_LINES), i;
	int err = 0;

	if (!n)
		return 0;
	f->lines = calloc(n, sizeof(*f->lines));
	if (!f->lines)
		return -ENOMEM;
	f->nlines = n;
	for (i = 0; i < n && !err; i++) {
		f->lines[i].line = ul[i].line;
		if (ul[i].file && !(f->lines[i].file = strdup(ul[i].file)))
			err = -ENOMEM;
		if (!err && ul[i].func)
			err = names(b, ul[i].func, &f->lines[i].func, &f->lines[i].system_name);
	}
	return err;
}

static int add_line_job(struct builder *b, const struct profiler_key *key,
			struct am_profile_frame *f, uint64_t addr, bool leaf,
			const struct am_usym_result *r)
{
	struct line_job *j;

	if (b->njobs == b->capjobs) {
		size_t cap = b->capjobs ? b->capjobs * 2 : 256;

		j = realloc(b->jobs, cap * sizeof(*j));
		if (!j)
			return -ENOMEM;
		b->jobs = j;
		b->capjobs = cap;
	}
	j = &b->jobs[b->njobs++];
	j->file = r->src_file;
	j->file_addr = r->src_addr;
	j->pid = key->pid;
	j->mm = key->mm;
	j->addr = addr;
	j->leaf = leaf;
	j->frame = f;
	return 0;
}

static int cmp_job(const void *a, const void *b)
{
	const struct line_job *x = a, *y = b;

	if (x->file != y->file)
		return (uintptr_t)x->file < (uintptr_t)y->file ? -1 : 1;
	return x->file_addr < y->file_addr ? -1 : x->file_addr > y->file_addr;
}

/* The frames' source lines, file by file: each file's DWARF is read once, and released after
 * its frames when the symbolizer's budget is spent (am_usym_lines_done), so at most one file's
 * DWARF is held past the budget at any moment, not every file's until the window's end. */
static int all_lines(struct builder *b)
{
	struct am_usym_result r;
	size_t i;
	int err = 0;

	if (!b->njobs)
		return 0; /* qsort's array may not be NULL, even empty */
	qsort(b->jobs, b->njobs, sizeof(*b->jobs), cmp_job);
	for (i = 0; i < b->njobs && !err; i++) {
		const struct line_job *j = &b->jobs[i];

		/* Resolved again: the file may have been released and reopened since. */
		am_usym_resolve(b->src->usym, j->pid, j->mm, j->addr, !j->leaf, &r);
		if (r.func)
			err = frame_lines(b, j->frame, &r);
		if (i + 1 == b->njobs || b->jobs[i + 1].file != j->file)
			am_usym_lines_done(b->src->usym, j->file);
	}
	return err;
}

static int user_frame(struct builder *b, const struct profiler_key *key, struct am_profile_frame *f,
		      uint64_t addr, bool leaf)
{
	struct am_usym_result r;
	char *demangled = NULL;
	int mapping = -1, err;

	am_usym_resolve(b->src->usym, key->pid, key->mm, addr, !leaf, &r);
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
	if (!err && r.func && b->src->demangle)
		demangled = am_demangle(r.func);
	if (demangled) {
		f->system_name = f->func;
		f->func = demangled;
	}
	if (!err && r.func && b->src->lines && r.src_file)
		err = add_line_job(b, key, f, addr, leaf, &r);
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

/* Who a stack's samples belong to: the pid in its own namespace, the cgroup's path and what
 * the path names (the cgroup collector's classification: container id, pod UID). */
static int stack_owner(const struct builder *b, const struct profiler_key *key,
		       struct am_profile_stack *st)
{
	struct am_cgroup_class cls;
	const char *path;

	st->ns_pid = key->ns_pid > 0 ? (uint32_t)key->ns_pid : 0;
	if (!b->src->cgroups)
		return 0; /* no cgroup2 mount: every task is in its root, the id tells nothing */
	st->cgroup_id = key->cgroup_id;
	path = am_cgroup_paths_lookup(b->src->cgroups, key->cgroup_id);
	if (!path)
		return 0;
	st->cgroup = strdup(path);
	if (!st->cgroup)
		return -ENOMEM;
	am_cgroup_classify(path, &cls);
	if (cls.kind == AM_CGROUP_CONTAINER)
		memcpy(st->container_id, cls.container_id, sizeof(st->container_id));
	memcpy(st->pod_uid, cls.pod_uid, sizeof(st->pod_uid));
	return 0;
}

/* One entry of the counts map, or of the table of unwound stacks (E set). */
struct counted {
	struct profiler_key key;
	uint64_t count;
	const struct am_punw_entry *e;
};

static int build_stack(struct builder *b, const struct counted *c, struct am_profile_stack *st)
{
	__u64 kips[PROFILER_MAX_STACK_DEPTH], fpips[PROFILER_MAX_STACK_DEPTH];
	const struct profiler_key *key = &c->key;
	int sfd = b->src->stacks_fd, nk, nu, i, err = 0;
	uint64_t count = c->count;
	const uint64_t *uips = (const uint64_t *)fpips;
	size_t n = 0;

	memset(st, 0, sizeof(*st));
	st->pid = key->pid;
	memcpy(st->comm, key->comm, sizeof(st->comm));
	st->comm[sizeof(st->comm) - 1] = '\0';
	st->count = count;
	/* -1 is "not collected"; -EFAULT on the kernel side is a sample taken in user mode. */
	st->kstack_lost = b->src->kernel_stacks && key->kernel_err && key->kernel_err != -1 &&
			  key->kernel_err != -EFAULT;
	st->ustack_lost = b->src->user_stacks && key->user_err && key->user_err != -1;
	nk = read_stack(sfd, key->kernel_err, key->kernel_stack, kips);
	if (c->e) { /* unwound in user space: its own depth and cut */
		uips = c->e->pcs;
		nu = key->user_err ? 0 : (int)c->e->npcs;
	} else {
		nu = read_stack(sfd, key->user_err, key->user_stack, fpips);
	}
	/* A stack as deep as the program keeps was most likely cut (one exactly that deep
	 * cannot be told apart): its outermost callers are missing. */
	st->ktruncated = nk && (unsigned)nk >= b->src->max_stack;
	st->utruncated = c->e ? c->e->utruncated : nu && (unsigned)nu >= b->src->max_stack;
	st->frames = calloc((size_t)(nk + nu + 4), sizeof(*st->frames));
	if (!st->frames || stack_owner(b, key, st))
		return -ENOMEM;
	if (st->kstack_lost)
		err = set_frame(&st->frames[n++], 0, "[missing kernel stack]", "", -1, true);
	for (i = 0; i < nk && !err; i++)
		err = kernel_frame(b, &st->frames[n++], kips[i], i == 0);
	if (st->ktruncated && !err)
		err = set_frame(&st->frames[n++], 0, "[truncated]", "", -1, true);
	for (i = 0; i < nu && !err; i++)
		err = user_frame(b, key, &st->frames[n++], uips[i], i == 0);
	if (st->utruncated && !err)
		err = set_frame(&st->frames[n++], 0, "[truncated]", "", -1, false);
	if (st->ustack_lost && !err)
		err = set_frame(&st->frames[n++], 0, "[missing user stack]", "", -1, false);
	st->nframes = n;
	return err;
}

/* The counts map's entries, then the unwound ones. */
static int read_counts(int cfd, const struct am_punw *unwound, struct counted **out, size_t *n)
{
	const struct am_punw_entry *e = NULL;
	struct profiler_key key, next, *prev = NULL;
	struct counted *v = NULL, *nv;
	size_t cap = 0, ne = 0, i;
	__u64 count;

	*n = 0;
	if (unwound)
		e = am_punw_entries(unwound, &ne);
	cap = ne + 256;
	v = malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < ne; i++) {
		v[i].key = e[i].key;
		v[i].count = e[i].count;
		v[i].e = &e[i];
	}
	*n = ne;
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
		v[*n].e = NULL;
		v[(*n)++].count = count;
	}
	*out = v;
	return 0;
}

/* Names for the kernel frames of the counted stacks, read in one pass over /proc/kallsyms
 * that keeps only what those frames need (the whole table is ~10 MiB of text, read again at
 * every daemon window). A failure leaves the frames "[unknown]". */
static int kernel_names(struct builder *b, const struct counted *c, size_t n)
{
	__u64 kips[PROFILER_MAX_STACK_DEPTH];
	uint64_t *addrs = NULL, *na;
	size_t cap = 0, len = 0, k;
	int i, nk;

	for (k = 0; k < n; k++) {
		nk =
		    read_stack(b->src->stacks_fd, c[k].key.kernel_err, c[k].key.kernel_stack, kips);
		if (len + (size_t)nk > cap) {
			cap = (len + (size_t)nk) * 2;
			na = realloc(addrs, cap * sizeof(*addrs));
			if (!na) {
				free(addrs);
				return -ENOMEM;
			}
			addrs = na;
		}
		for (i = 0; i < nk; i++)
			addrs[len++] = ksym_addr(kips[i], i == 0);
	}
	if (len)
		b->ksyms_loaded = am_kallsyms_resolve(NULL, addrs, len, &b->ksyms) == 0;
	free(addrs);
	return 0;
}

/* Capture (or complete) generation MM of PID from the side band's records. */
static void sideband_capture(const struct am_profile_build_src *src, uint32_t pid, uint64_t mm)
{
	struct am_usym_rec_map *maps;
	size_t n;
	int added;

	if (am_sideband_maps(src->sb, pid, mm, &maps, &n) || !n)
		return;
	added = am_usym_capture_maps(src->usym, pid, mm, maps, n, src->sb_files);
	if (added > 0)
		(*src->sb_captures)++;
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
static struct genref *generations(struct am_sideband *sb, const struct counted *c, size_t n,
				  size_t *ngen)
{
	struct genref *g = calloc(n ? n : 1, sizeof(*g));
	char comm[AM_PROFILE_COMM_LEN + 1];
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
		am_sideband_note_comm(sb, c[i].key.pid, c[i].key.mm, comm);
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
static int final_captures(const struct am_profile_build_src *src, const struct counted *c, size_t n)
{
	struct genref *g;
	size_t i, ng;
	bool gone = false;

	g = generations(src->sb, c, n, &ng);
	if (!g)
		return -ENOMEM;
	for (i = 0; i < ng; i++) {
		if (!i || g[i].pid != g[i - 1].pid)
			gone = am_usym_snapshot(src->usym, g[i].pid, AM_USYM_GEN_FINAL) != 0;
		if (src->sb && (gone || !am_usym_has_gen(src->usym, g[i].pid, g[i].mm)))
			sideband_capture(src, g[i].pid, g[i].mm);
	}
	free(g);
	return 0;
}

int am_profile_build(const struct am_profile_build_src *src, struct am_profile *out)
{
	struct builder b = {.src = src, .prof = out, .kernel_mapping = -1};
	struct counted *c = NULL;
	size_t n = 0, k;
	int err;

	/* End-of-profile captures of an earlier profile (a shared symbolizer) are stale now. */
	am_usym_forget_gen(src->usym, AM_USYM_GEN_FINAL);
	b.tab.cap = 1 << 12;
	b.tab.keys = calloc(b.tab.cap, sizeof(*b.tab.keys));
	b.tab.vals = calloc(b.tab.cap, sizeof(*b.tab.vals));
	err =
	    b.tab.keys && b.tab.vals ? read_counts(src->counts_fd, src->unwound, &c, &n) : -ENOMEM;
	if (!err)
		err = final_captures(src, c, n);
	if (!err)
		err = kernel_names(&b, c, n);
	if (!err && n) {
		out->stacks = calloc(n, sizeof(*out->stacks));
		err = out->stacks ? 0 : -ENOMEM;
	}
	for (k = 0; k < n && !err; k++) {
		err = build_stack(&b, &c[k], &out->stacks[out->nstacks]);
		if (out->stacks[out->nstacks].ktruncated || out->stacks[out->nstacks].utruncated)
			out->samples.truncated += c[k].count;
		out->nstacks++;
		out->total += c[k].count;
	}
	if (!err)
		err = all_lines(&b);
	if (err)
		am_err("reading the profile failed: %s", strerror(-err));
	free(c);
	free(b.tab.keys);
	free(b.tab.vals);
	free(b.jobs);
	if (b.ksyms_loaded)
		am_kallsyms_set_free(&b.ksyms);
	return err;
}
