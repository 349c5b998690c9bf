#include "export/folded.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ';' separates frames and the last space separates the count: keep names from breaking the
 * format a consumer parses. */
static void put_name(struct am_strbuf *b, const char *s)
{
	for (; *s; s++)
		am_strbuf_putc(b, *s == ';' ? ':' : (*s == '\n' || *s == '\r') ? ' ' : *s);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct am_folded_line *)a)->stack,
		      ((const struct am_folded_line *)b)->stack);
}

/* The first frame of a line with the container prefix: the container id, or else the cgroup
 * path, or else the cgroup's id (a cgroup gone before the profile was read), or else (no
 * cgroup2 mount) "[unknown cgroup]". */
static void put_container(struct am_strbuf *b, const struct am_profile_stack *st)
{
	if (st->container_id[0])
		put_name(b, st->container_id);
	else if (st->cgroup)
		put_name(b, st->cgroup);
	else if (st->cgroup_id)
		am_strbuf_printf(b, "[cgroup %llu]", (unsigned long long)st->cgroup_id);
	else
		am_strbuf_puts(b, "[unknown cgroup]");
	am_strbuf_putc(b, ';');
}

int am_folded_lines(const struct am_profile *prof, struct am_folded_line **out, size_t *n)
{
	return am_folded_lines_prefixed(prof, AM_FOLDED_PREFIX_NONE, out, n);
}

int am_folded_lines_prefixed(const struct am_profile *prof, enum am_folded_prefix prefix,
			     struct am_folded_line **out, size_t *n)
{
	struct am_folded_line *lines;
	struct am_strbuf b = {0};
	char label[512];
	size_t i, j, k;

	*out = NULL;
	*n = 0;
	lines = calloc(prof->nstacks ? prof->nstacks : 1, sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	for (i = 0; i < prof->nstacks; i++) {
		const struct am_profile_stack *st = &prof->stacks[i];

		am_strbuf_reset(&b);
		if (prefix == AM_FOLDED_PREFIX_CONTAINER)
			put_container(&b, st);
		put_name(&b, st->comm[0] ? st->comm : "[unknown]");
		for (j = st->nframes; j > 0; j--) {
			am_strbuf_putc(&b, ';');
			put_name(&b,
				 am_profile_frame_label(&st->frames[j - 1], label, sizeof(label)));
		}
		lines[i].stack = strdup(b.data ? b.data : "");
		lines[i].count = st->count;
		if (!lines[i].stack || b.oom) {
			am_strbuf_free(&b);
			am_folded_lines_free(lines, i + 1);
			return -ENOMEM;
		}
	}
	am_strbuf_free(&b);
	qsort(lines, prof->nstacks, sizeof(*lines), cmp_line);
	for (i = 0, k = 0; i < prof->nstacks; i++) {
		if (k && !strcmp(lines[k - 1].stack, lines[i].stack)) {
			lines[k - 1].count += lines[i].count;
			free(lines[i].stack);
			continue;
		}
		lines[k++] = lines[i];
	}
	*out = lines;
	*n = k;
	return 0;
}

void am_folded_lines_free(struct am_folded_line *lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(lines[i].stack);
	free(lines);
}

int am_folded_render(const struct am_profile *prof, struct am_strbuf *out)
{
	return am_folded_render_prefixed(prof, AM_FOLDED_PREFIX_NONE, out);
}

int am_folded_render_prefixed(const struct am_profile *prof, enum am_folded_prefix prefix,
			      struct am_strbuf *out)
{
	struct am_folded_line *lines;
	size_t n, i;
	int err = am_folded_lines_prefixed(prof, prefix, &lines, &n);

	if (err)
		return err;
	for (i = 0; i < n; i++)
		am_strbuf_printf(out, "%s %llu\n", lines[i].stack,
				 (unsigned long long)lines[i].count);
	am_folded_lines_free(lines, n);
	return out->oom ? -ENOMEM : 0;
}
