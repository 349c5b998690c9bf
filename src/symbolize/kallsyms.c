#include "symbolize/kallsyms.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file.h"
#include "util/log.h"
#include "util/sorted.h"

static int cmp_sym(const void *a, const void *b)
{
	const struct am_ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

/* One line of kallsyms, "ffffffff81000000 T _stext" or "... t name\t[module]", split in
 * place (LINE without its newline). Returns false for lines that are not text symbols. */
static bool parse_line(char *line, uint64_t *addr, const char **name, const char **module)
{
	char *end, *type, *mod = NULL;

	*addr = strtoull(line, &end, 16);
	if (end == line || *end != ' ')
		return false;
	type = end + 1;
	if (!is_text(*type) || type[1] != ' ')
		return false;
	*name = type + 2;
	end = strchr(*name, '\t');
	if (end) {
		*end = '\0';
		mod = strchr(end + 1, '[');
		if (mod) {
			mod++;
			mod[strcspn(mod, "]")] = '\0';
		}
	}
	*module = mod ? mod : "";
	return true;
}

static int hidden(const char *path)
{
	am_err("%s shows no addresses: kernel.kptr_restrict hides them (run as root, or "
	       "set kernel.kptr_restrict=0)",
	       path);
	return -EPERM;
}

int am_kallsyms_load(const char *path, struct am_kallsyms *k)
{
	struct am_strbuf text = {0};
	size_t cap = 65536, nonzero = 0;
	char *line, *next;
	int err;

	memset(k, 0, sizeof(*k));
	path = path ? path : "/proc/kallsyms";
	err = am_file_read(path, SIZE_MAX, &text);
	if (err) {
		am_strbuf_free(&text);
		am_err("cannot read %s: %s", path, am_file_strerror(-err));
		return err;
	}
	k->text = text.data;
	k->syms = malloc(cap * sizeof(*k->syms));
	if (!k->syms) {
		am_kallsyms_free(k);
		return -ENOMEM;
	}
	for (line = k->text; *line; line = next) {
		struct am_ksym sym;

		next = strchr(line, '\n');
		next = next ? (*next = '\0', next + 1) : line + strlen(line);
		if (!parse_line(line, &sym.addr, &sym.name, &sym.module))
			continue;
		if (k->n == cap) {
			struct am_ksym *ns = realloc(k->syms, cap * 2 * sizeof(*ns));

			if (!ns) {
				am_kallsyms_free(k);
				return -ENOMEM;
			}
			k->syms = ns;
			cap *= 2;
		}
		k->syms[k->n++] = sym;
		nonzero += sym.addr != 0;
	}
	if (k->n && !nonzero) {
		am_kallsyms_free(k);
		return hidden(path);
	}
	qsort(k->syms, k->n, sizeof(*k->syms), cmp_sym);
	return 0;
}

const struct am_ksym *am_kallsyms_lookup(const struct am_kallsyms *k, uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi = k->n;

	if (!k->n || addr < k->syms[0].addr)
		return NULL;
	/* Invariant: syms[lo].addr <= addr; find the last such entry. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (off)
		*off = addr - k->syms[lo].addr;
	return &k->syms[lo];
}

void am_kallsyms_free(struct am_kallsyms *k)
{
	free(k->syms);
	free(k->text);
	memset(k, 0, sizeof(*k));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Keep at I the symbol that starts at START if it starts after the one kept there (on a tie
 * the later line wins, as the stable sort and the last-at-or-below search of the table do). */
static int keep(struct am_kallsyms_set *s, size_t *caps, size_t i, uint64_t start, const char *name,
		const char *module)
{
	size_t ln = strlen(name), lm = strlen(module);
	char *t = s->texts[i];

	if (t && start < s->syms[i].addr)
		return 0;
	if (!t || caps[i] < ln + lm + 2) {
		t = realloc(t, ln + lm + 2);
		if (!t)
			return -ENOMEM;
		s->texts[i] = t;
		caps[i] = ln + lm + 2;
	}
	memcpy(t, name, ln + 1);
	memcpy(t + ln + 1, module, lm + 1);
	s->syms[i].addr = start;
	return 0;
}

/* Every text line of F goes to the first address at or above its start; returns the count
 * of text lines with a nonzero address in *NONZERO and of all of them in *NTEXT. */
static int stream(FILE *f, struct am_kallsyms_set *s, size_t *caps, size_t *ntext, size_t *nonzero)
{
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	int err = 0;

	while (!err && (len = getline(&line, &lcap, f)) > 0) {
		const char *name, *module;
		uint64_t start;
		size_t i;

		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!parse_line(line, &start, &name, &module))
			continue;
		if (!*ntext || start < s->first)
			s->first = start;
		(*ntext)++;
		*nonzero += start != 0;
		i = am_lower_bound_u64(s->addrs, s->n, start);
		if (i < s->n)
			err = keep(s, caps, i, start, name, module);
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	return err;
}

/* Each address takes the symbol kept at it or, when none, at the closest address below. */
static void spread(struct am_kallsyms_set *s)
{
	const char *text = NULL;
	uint64_t start = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->texts[i]) {
			text = s->texts[i];
			start = s->syms[i].addr;
		}
		s->syms[i].addr = start;
		s->syms[i].name = text;
		s->syms[i].module = text ? text + strlen(text) + 1 : NULL;
	}
}

static int set_alloc(struct am_kallsyms_set *s, const uint64_t *addrs, size_t n)
{
	size_t i, k = 0;

	s->addrs = malloc((n ? n : 1) * sizeof(*s->addrs));
	s->syms = calloc(n ? n : 1, sizeof(*s->syms));
	s->texts = calloc(n ? n : 1, sizeof(*s->texts));
	if (!s->addrs || !s->syms || !s->texts)
		return -ENOMEM;
	memcpy(s->addrs, addrs, n * sizeof(*addrs));
	qsort(s->addrs, n, sizeof(*s->addrs), cmp_u64);
	for (i = 0; i < n; i++)
		if (!k || s->addrs[k - 1] != s->addrs[i])
			s->addrs[k++] = s->addrs[i];
	s->n = k;
	return 0;
}

int am_kallsyms_resolve(const char *path, const uint64_t *addrs, size_t n,
			struct am_kallsyms_set *s)
{
	size_t ntext = 0, nonzero = 0, *caps = NULL;
	FILE *f;
	int err;

	memset(s, 0, sizeof(*s));
	path = path ? path : "/proc/kallsyms";
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		am_err("cannot read %s: %s", path, strerror(-err));
		return err;
	}
	err = set_alloc(s, addrs, n);
	if (!err) {
		caps = calloc(s->n ? s->n : 1, sizeof(*caps));
		err = caps ? stream(f, s, caps, &ntext, &nonzero) : -ENOMEM;
	}
	fclose(f);
	free(caps);
	if (!err && ntext && !nonzero)
		err = hidden(path);
	else if (err)
		am_err("reading %s failed: %s", path, strerror(-err));
	if (err) {
		am_kallsyms_set_free(s);
		return err;
	}
	spread(s);
	return 0;
}

const struct am_ksym *am_kallsyms_set_lookup(const struct am_kallsyms_set *s, uint64_t addr,
					     uint64_t *off)
{
	size_t i = am_lower_bound_u64(s->addrs, s->n, addr);

	if (i == s->n || s->addrs[i] != addr || !s->syms[i].name)
		return NULL;
	if (off)
		*off = addr - s->syms[i].addr;
	return &s->syms[i];
}

void am_kallsyms_set_free(struct am_kallsyms_set *s)
{
	size_t i;

	for (i = 0; s->texts && i < s->n; i++)
		free(s->texts[i]);
	free(s->texts);
	free(s->syms);
	free(s->addrs);
	memset(s, 0, sizeof(*s));
}
