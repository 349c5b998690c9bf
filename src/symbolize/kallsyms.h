/* Kernel symbols from /proc/kallsyms: a sorted table and a binary search. */
#ifndef ANTIMETAL_SYMBOLIZE_KALLSYMS_H
#define ANTIMETAL_SYMBOLIZE_KALLSYMS_H

#include <stddef.h>
#include <stdint.h>

struct am_ksym {
	uint64_t addr;
	const char *name;   /* points into the table's text */
	const char *module; /* "" for the core kernel, else the module name */
};

struct am_kallsyms {
	struct am_ksym *syms; /* sorted by address */
	size_t n;
	char *text; /* the file's content, names point into it */
};

/* Load the text symbols of PATH (NULL: /proc/kallsyms). Returns 0, or -errno logged; -EPERM
 * when every address reads as zero (kernel.kptr_restrict hides them from this user). */
int am_kallsyms_load(const char *path, struct am_kallsyms *k);
/* The symbol containing ADDR (the closest at or below it), or NULL; *OFF is ADDR - sym. */
const struct am_ksym *am_kallsyms_lookup(const struct am_kallsyms *k, uint64_t addr, uint64_t *off);
/* Release the table. */
void am_kallsyms_free(struct am_kallsyms *k);

#endif
