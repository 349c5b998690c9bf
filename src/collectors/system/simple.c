#include "collectors/system/simple.h"

#include <errno.h>
#include <stdlib.h>

int am_simple_init(void **state, const struct am_collect_roots *roots)
{
	struct am_simple_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	*state = st;
	return 0;
}

void am_simple_destroy(void *state)
{
	struct am_simple_state *st = state;

	if (!st)
		return;
	am_kept_paths_close(&st->kept);
	am_strbuf_free(&st->buf);
	free(st);
}
