/* Folded stacks ("comm;root;...;leaf count", optionally after the container), the input of
 * flamegraph.pl, speedscope and inferno. */
#ifndef ANTIMETAL_EXPORT_FOLDED_H
#define ANTIMETAL_EXPORT_FOLDED_H

#include <stddef.h>
#include <stdint.h>

#include "records/profile.h"
#include "util/strbuf.h"

/* One merged line: distinct stacks that render identically are summed. */
struct am_folded_line {
	char *stack; /* "comm;main;hot_a" */
	uint64_t count;
};

/* What comes before the task name on each line. */
enum am_folded_prefix {
	AM_FOLDED_PREFIX_NONE,
	/* "<container id>;comm;...": the 64-hex-digit id, or the cgroup path for samples outside
	 * containers, or "[cgroup ID]" where the path is unknown, "[unknown cgroup]" where the
	 * id is too (no cgroup2 mount) */
	AM_FOLDED_PREFIX_CONTAINER,
};

/* The profile's lines, sorted by stack text and merged. Returns 0 or -ENOMEM; free the result
 * with am_folded_lines_free. */
int am_folded_lines(const struct am_profile *prof, struct am_folded_line **out, size_t *n);
/* Release lines from am_folded_lines. */
void am_folded_lines_free(struct am_folded_line *lines, size_t n);
/* Likewise, each line starting with PREFIX. */
int am_folded_lines_prefixed(const struct am_profile *prof, enum am_folded_prefix prefix,
			     struct am_folded_line **out, size_t *n);
/* Append the folded rendering of PROF to OUT. Returns 0 or -ENOMEM. */
int am_folded_render(const struct am_profile *prof, struct am_strbuf *out);
/* Likewise, each line starting with PREFIX. */
int am_folded_render_prefixed(const struct am_profile *prof, enum am_folded_prefix prefix,
			      struct am_strbuf *out);

#endif
