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

/* Names for a known set of addresses, found in one streamed pass over kallsyms: memory in
 * the number of addresses, not in the table's (whole, /proc/kallsyms is ~10 MiB of text). */
struct am_kallsyms_set {
	uint64_t *addrs;      /* sorted, distinct */
	struct am_ksym *syms; /* per address: its symbol; name NULL when below every symbol */
	char **texts;	      /* per address: the name and module kept there, owned */
	size_t n;
	uint64_t first; /* the lowest text symbol's address, 0 when none */
};

/* Resolve the N addresses ADDRS (any order, repeats allowed) against PATH (NULL:
 * /proc/kallsyms) exactly as am_kallsyms_lookup would. Returns 0, or -errno logged (-EPERM
 * as am_kallsyms_load). */
int am_kallsyms_resolve(const char *path, const uint64_t *addrs, size_t n,
			struct am_kallsyms_set *s);
/* ADDR's symbol (ADDR must have been among those resolved), or NULL; *OFF is ADDR - sym. */
const struct am_ksym *am_kallsyms_set_lookup(const struct am_kallsyms_set *s, uint64_t addr,
					     uint64_t *off);
/* Release the set. */
void am_kallsyms_set_free(struct am_kallsyms_set *s);

#endif
