#include "symbolize/kallsyms.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file.h"
#include "util/log.h"

static int cmp_sym(const void *a, const void *b)
{
	const struct am_ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
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
		char *end, *type, *name, *mod = NULL;
		unsigned long long addr;

		next = strchr(line, '\n');
		next = next ? (*next = '\0', next + 1) : line + strlen(line);
		/* "ffffffff81000000 T _stext" or "... t name\t[module]" */
		addr = strtoull(line, &end, 16);
		if (end == line || *end != ' ')
			continue;
		type = end + 1;
		if (!is_text(*type) || type[1] != ' ')
			continue;
		name = type + 2;
		end = strchr(name, '\t');
		if (end) {
			*end = '\0';
			mod = strchr(end + 1, '[');
			if (mod) {
				mod++;
				mod[strcspn(mod, "]")] = '\0';
			}
		}
		if (k->n == cap) {
			struct am_ksym *ns = realloc(k->syms, cap * 2 * sizeof(*ns));

			if (!ns) {
				am_kallsyms_free(k);
				return -ENOMEM;
			}
			k->syms = ns;
			cap *= 2;
		}
		k->syms[k->n].addr = addr;
		k->syms[k->n].name = name;
		k->syms[k->n].module = mod ? mod : "";
		k->n++;
		nonzero += addr != 0;
	}
	if (k->n && !nonzero) {
		am_err("%s shows no addresses: kernel.kptr_restrict hides them (run as root, or "
		       "set kernel.kptr_restrict=0)",
		       path);
		am_kallsyms_free(k);
		return -EPERM;
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
