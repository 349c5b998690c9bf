#include "export/pprof.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.pb-c.h"
#include "util/gzip.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

/* String -> dense index, open addressing; KEYS own their strings. */
struct strmap {
	char **keys;
	int64_t *vals;
	size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int strmap_grow(struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i, j;
	char **keys = calloc(cap, sizeof(*keys));
	int64_t *vals = calloc(cap, sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		for (j = hash_str(m->keys[i]) & (cap - 1); keys[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

/* The index of S, adding it with value NEXT when new (*ADDED set). Returns -1 on ENOMEM. */
static int64_t strmap_get(struct strmap *m, const char *s, int64_t next, bool *added)
{
	size_t i;

	*added = false;
	if ((m->n + 1) * 2 > m->cap && strmap_grow(m))
		return -1;
	for (i = hash_str(s) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->keys[i], s))
			return m->vals[i];
	m->keys[i] = strdup(s);
	if (!m->keys[i])
		return -1;
	m->vals[i] = next;
	m->n++;
	*added = true;
	return next;
}

static void strmap_free(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
}

/* Growable array of pointers to messages, freed with the builder. */
struct vec {
	void **items;
	size_t n, cap;
};

static int vec_push(struct vec *v, void *item)
{
	if (!item)
		return -ENOMEM;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void **ni = realloc(v->items, cap * sizeof(*ni));

		if (!ni) {
			free(item);
			return -ENOMEM;
		}
		v->items = ni;
		v->cap = cap;
	}
	v->items[v->n++] = item;
	return 0;
}

struct builder {
	uint64_t *mapping_ids; /* profile mapping index -> pprof mapping id */
	struct strmap strings, funcs, locs;
	struct vec string_table; /* char * borrowed from STRINGS keys */
	struct vec functions, locations, mappings, samples;
	int err;
};

static int64_t str_index(struct builder *b, const char *s)
{
	bool added;
	int64_t idx = strmap_get(&b->strings, s, (int64_t)b->string_table.n, &added);

	if (idx < 0) {
		b->err = -ENOMEM;
		return 0;
	}
	if (added) {
		size_t i;

		/* Find the stored copy so the table borrows it. */
		for (i = hash_str(s) & (b->strings.cap - 1); strcmp(b->strings.keys[i], s);
		     i = (i + 1) & (b->strings.cap - 1))
			;
		if (b->string_table.n == b->string_table.cap) {
			size_t cap = b->string_table.cap ? b->string_table.cap * 2 : 1024;
			void **ni = realloc(b->string_table.items, cap * sizeof(*ni));

			if (!ni) {
				b->err = -ENOMEM;
				return 0;
			}
			b->string_table.items = ni;
			b->string_table.cap = cap;
		}
		b->string_table.items[b->string_table.n++] = b->strings.keys[i];
	}
	return idx;
}

/* NAME as displayed; SYSTEM_NAME the mangled symbol it came from (NULL: the same), which tells
 * apart overloads that demangle to one name, as pprof's Function.system_name is meant to. */
static uint64_t function_id(struct builder *b, const char *name, const char *system_name,
			    const char *file)
{
	const char *base = system_name ? system_name : name;
	size_t len = strlen(base) + 2;
	char small[512], *key = len <= sizeof(small) ? small : malloc(len);
	bool added;
	int64_t id;
	Function *f;

	if (!key) {
		b->err = -ENOMEM;
		return 0;
	}
	/* The mangled name determines the demangled one; the prefix keeps a plain name apart. */
	snprintf(key, len, "%c%s", system_name ? 'm' : 'n', base);
	id = strmap_get(&b->funcs, key, (int64_t)b->functions.n + 1, &added);
	if (key != small)
		free(key);
	if (id < 0) {
		b->err = -ENOMEM;
		return 0;
	}
	if (!added)
		return (uint64_t)id;
	f = malloc(sizeof(*f));
	if (f) {
		perftools__profiles__function__init(f);
		f->id = (uint64_t)id;
		f->name = str_index(b, name);
		f->system_name = system_name ? str_index(b, system_name) : f->name;
		f->filename = file ? str_index(b, file) : 0;
	}
	if (vec_push(&b->functions, f))
		b->err = -ENOMEM;
	return (uint64_t)id;
}

static uint64_t location_id(struct builder *b, const struct am_profile_frame *fr, const char *label)
{
	char key[640];
	bool added;
	int64_t id;
	Location *loc;
	Line *line;
	size_t nl, i;

	snprintf(key, sizeof(key), "%d:%" PRIx64 ":%s", fr->mapping, fr->addr, label);
	id = strmap_get(&b->locs, key, (int64_t)b->locations.n + 1, &added);
	if (id < 0) {
		b->err = -ENOMEM;
		return 0;
	}
	if (!added)
		return (uint64_t)id;
	nl = fr->nlines ? fr->nlines : 1;
	loc = malloc(sizeof(*loc) + nl * (sizeof(Line *) + sizeof(Line)));
	if (!loc) {
		b->err = -ENOMEM;
		return 0;
	}
	/* One allocation: the Location, its line array and the Lines (pprof's order: inlined
	 * functions innermost first, the frame's own function last). */
	perftools__profiles__location__init(loc);
	loc->line = (Line **)((char *)loc + sizeof(*loc));
	line = (Line *)((char *)loc->line + nl * sizeof(Line *));
	for (i = 0; i < nl; i++) {
		const struct am_profile_line *l = fr->nlines ? &fr->lines[i] : NULL;

		perftools__profiles__line__init(&line[i]);
		if (l && l->func)
			line[i].function_id = function_id(b, l->func, l->system_name, l->file);
		else
			line[i].function_id =
			    function_id(b, label, fr->system_name, l ? l->file : NULL);
		line[i].line = l ? l->line : 0;
		loc->line[i] = &line[i];
	}
	loc->n_line = nl;
	loc->id = (uint64_t)id;
	loc->mapping_id = fr->mapping >= 0 ? b->mapping_ids[fr->mapping] : 0;
	loc->address = fr->addr;
	if (vec_push(&b->locations, loc))
		b->err = -ENOMEM;
	return (uint64_t)id;
}

/* go tool pprof takes the first mapping for the main binary: user files first, the kernel
 * after them. IDS receives each profile mapping's pprof id. */
static void add_mappings(struct builder *b, const struct am_profile *prof, uint64_t *ids)
{
	size_t i, pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < prof->nmappings && !b->err; i++) {
			const struct am_profile_mapping *pm = &prof->mappings[i];
			bool kernel = pm->file[0] == '[' && strstr(pm->file, "kernel");
			Mapping *m;

			if (kernel != (pass == 1))
				continue;
			m = malloc(sizeof(*m));
			if (m) {
				perftools__profiles__mapping__init(m);
				m->id = ids[i] = b->mappings.n + 1;
				m->memory_start = pm->start;
				m->memory_limit = pm->limit;
				m->file_offset = pm->offset;
				m->filename = str_index(b, pm->file);
				m->build_id = str_index(b, pm->build_id);
				m->has_functions = pm->has_functions;
			}
			if (vec_push(&b->mappings, m))
				b->err = -ENOMEM;
		}
	}
}

/* Most labels a sample carries: pid, comm, ns_pid, cgroup (or cgroup_id), container_id,
 * pod_uid. */
#define MAX_LABELS 6

static void num_label(struct builder *b, Label *l, const char *key, int64_t v)
{
	perftools__profiles__label__init(l);
	l->key = str_index(b, key);
	l->num = v;
}

static void str_label(struct builder *b, Label *l, const char *key, const char *v)
{
	perftools__profiles__label__init(l);
	l->key = str_index(b, key);
	l->str = str_index(b, v);
}

/* Who the samples of ST belong to, into LB (room for MAX_LABELS). Returns how many. ns_pid
 * only where it differs (the process is in another PID namespace); the cgroup's id where its
 * path could not be found, so a cgroup gone before the profile was read stays told apart. */
static size_t stack_labels(struct builder *b, const struct am_profile_stack *st, Label *lb)
{
	size_t n = 0;

	num_label(b, &lb[n++], "pid", st->pid);
	str_label(b, &lb[n++], "comm", st->comm);
	if (st->ns_pid && st->ns_pid != st->pid)
		num_label(b, &lb[n++], "ns_pid", st->ns_pid);
	if (st->cgroup)
		str_label(b, &lb[n++], "cgroup", st->cgroup);
	else if (st->cgroup_id)
		num_label(b, &lb[n++], "cgroup_id", (int64_t)st->cgroup_id);
	if (st->container_id[0])
		str_label(b, &lb[n++], "container_id", st->container_id);
	if (st->pod_uid[0])
		str_label(b, &lb[n++], "pod_uid", st->pod_uid);
	return n;
}

/* Sample plus its arrays in one allocation: locations, 2 values, the labels (when LABELS). */
static void add_sample(struct builder *b, const struct am_profile_stack *st, int nvalues,
		       int64_t period, bool labels)
{
	size_t sz = sizeof(Sample) + st->nframes * sizeof(uint64_t) + 2 * sizeof(int64_t) +
		    MAX_LABELS * sizeof(Label *) + MAX_LABELS * sizeof(Label);
	char label[512], *p;
	Sample *s = malloc(sz);
	Label *lb;
	size_t i;

	if (!s) {
		b->err = -ENOMEM;
		return;
	}
	perftools__profiles__sample__init(s);
	p = (char *)(s + 1);
	s->location_id = (uint64_t *)p;
	p += st->nframes * sizeof(uint64_t);
	s->value = (int64_t *)p;
	p += 2 * sizeof(int64_t);
	s->label = (Label **)p;
	p += MAX_LABELS * sizeof(Label *);
	lb = (Label *)p;
	for (i = 0; i < st->nframes; i++)
		s->location_id[i] =
		    location_id(b, &st->frames[i],
				am_profile_frame_label(&st->frames[i], label, sizeof(label)));
	s->n_location_id = st->nframes;
	s->value[0] = (int64_t)st->count;
	s->value[1] = (int64_t)st->count * period;
	s->n_value = (size_t)nvalues;
	s->n_label = labels ? stack_labels(b, st, lb) : 0;
	for (i = 0; i < s->n_label; i++)
		s->label[i] = &lb[i];
	if (vec_push(&b->samples, s))
		b->err = -ENOMEM;
}

static void vec_free(struct vec *v, bool items)
{
	size_t i;

	for (i = 0; items && i < v->n; i++)
		free(v->items[i]);
	free(v->items);
}

/* Samples that never reached the profile, one sample per lost part, its single frame named for
 * the reason, so `go tool pprof -top` shows them beside the functions. */
static void add_lost_samples(struct builder *b, const struct am_profile *prof, int nvalues,
			     int64_t period)
{
	struct am_profile_frame frame = {.mapping = -1};
	struct am_profile_stack st = {.nframes = 1, .frames = &frame};
	char name[80], none[1] = "";
	int i;

	frame.func = name;
	frame.module = none;
	for (i = 0; i < AM_PROFILE_LOST_MAX && !b->err; i++) {
		if (!prof->lost[i] ||
		    am_profile_lost_kind((enum am_profile_lost_part)i) != AM_PROFILE_LOST_SAMPLES)
			continue;
		snprintf(name, sizeof(name), "[lost: %s]",
			 am_profile_lost_reason((enum am_profile_lost_part)i));
		st.count = prof->lost[i];
		add_sample(b, &st, nvalues, period, false);
	}
}

/* How the profile was taken and what it lost, for `go tool pprof -comments`: the event and
 * rate, the CPUs, the attach mode and the lost total, then one comment per nonzero lost part.
 * Returns the number of comments in IDS (room for 2 + AM_PROFILE_LOST_MAX). */
static size_t add_comments(struct builder *b, const struct am_profile *prof, int64_t *ids)
{
	char text[160];
	size_t n = 0;
	int i;

	snprintf(text, sizeof(text), "antimetal-agent profile: event %s%s%s%s, %s %llu",
		 prof->event, prof->fell_back ? " (fallback from " : "",
		 prof->fell_back ? prof->requested_event : "", prof->fell_back ? ")" : "",
		 prof->freq ? "frequency" : "period",
		 (unsigned long long)(prof->freq ? prof->freq : prof->period));
	ids[n++] = str_index(b, text);
	snprintf(text, sizeof(text), "cpus %d, attach %s, lost %llu", prof->ncpus,
		 prof->attach[0] ? prof->attach : "?",
		 (unsigned long long)am_profile_lost_total(prof));
	ids[n++] = str_index(b, text);
	for (i = 0; i < AM_PROFILE_LOST_MAX; i++) {
		if (!prof->lost[i])
			continue;
		snprintf(text, sizeof(text), "%s: %llu",
			 am_profile_lost_name((enum am_profile_lost_part)i),
			 (unsigned long long)prof->lost[i]);
		ids[n++] = str_index(b, text);
	}
	return n;
}

int am_pprof_render(const struct am_profile *prof, struct am_strbuf *out)
{
	Profile pb = PERFTOOLS__PROFILES__PROFILE__INIT;
	ValueType types[2] = {PERFTOOLS__PROFILES__VALUE_TYPE__INIT,
			      PERFTOOLS__PROFILES__VALUE_TYPE__INIT};
	ValueType period_type = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	ValueType *type_ptrs[2] = {&types[0], &types[1]};
	bool clock = !strcmp(prof->event, "cpu-clock");
	int64_t comments[2 + AM_PROFILE_LOST_MAX];
	int64_t period = 0;
	struct builder b;
	uint8_t *buf = NULL;
	size_t i, len;
	int nvalues, err;

	memset(&b, 0, sizeof(b));
	str_index(&b, ""); /* string_table[0] must be empty */
	/* The second value is the event total when the period is known: cpu-clock in
	 * nanoseconds (1e9/HZ per sample at -F HZ), or -c N events per sample. */
	if (prof->period)
		period = (int64_t)prof->period;
	else if (clock && prof->freq)
		period = (int64_t)(1000000000ull / prof->freq);
	nvalues = period ? 2 : 1;
	types[0].type = str_index(&b, "samples");
	types[0].unit = str_index(&b, "count");
	types[1].type = str_index(&b, clock ? "cpu" : prof->event);
	types[1].unit = str_index(&b, clock ? "nanoseconds" : "count");
	period_type = types[1];
	b.mapping_ids = calloc(prof->nmappings ? prof->nmappings : 1, sizeof(*b.mapping_ids));
	if (!b.mapping_ids)
		b.err = -ENOMEM;
	else
		add_mappings(&b, prof, b.mapping_ids);
	for (i = 0; i < prof->nstacks && !b.err; i++)
		add_sample(&b, &prof->stacks[i], nvalues, period, true);
	add_lost_samples(&b, prof, nvalues, period);

	pb.n_sample_type = (size_t)nvalues;
	pb.sample_type = type_ptrs;
	pb.n_sample = b.samples.n;
	pb.sample = (Sample **)b.samples.items;
	pb.n_mapping = b.mappings.n;
	pb.mapping = (Mapping **)b.mappings.items;
	pb.n_location = b.locations.n;
	pb.location = (Location **)b.locations.items;
	pb.n_function = b.functions.n;
	pb.function = (Function **)b.functions.items;
	pb.time_nanos = (int64_t)prof->start_ns;
	pb.duration_nanos = (int64_t)prof->duration_ns;
	pb.period_type = &period_type;
	pb.period = period;
	pb.n_comment = add_comments(&b, prof, comments);
	pb.comment = comments;
	/* Sample counts by default: what the folded output shows. */
	pb.default_sample_type = types[0].type;
	pb.n_string_table = b.string_table.n;
	pb.string_table = (char **)b.string_table.items;
	err = b.err;
	if (!err) {
		len = perftools__profiles__profile__get_packed_size(&pb);
		buf = malloc(len ? len : 1);
		if (!buf)
			err = -ENOMEM;
		else if (perftools__profiles__profile__pack(&pb, buf) != len)
			err = -EIO;
		else
			err = am_gzip(buf, len, out);
	}
	free(buf);
	free(b.mapping_ids);
	vec_free(&b.samples, true);
	vec_free(&b.locations, true);
	vec_free(&b.functions, true);
	vec_free(&b.mappings, true);
	vec_free(&b.string_table, false);
	strmap_free(&b.strings);
	strmap_free(&b.funcs);
	strmap_free(&b.locs);
	return err;
}
