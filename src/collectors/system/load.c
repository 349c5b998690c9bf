/* load: /proc/loadavg, as node_exporter's node_load1/5/15. */
#include <errno.h>
#include <stdlib.h>

#include "collectors/parse/kept_file.h"
#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/log.h"

struct load_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_kept_paths kept; /* its /proc files, kept open */
	bool warned;
};

static int load_init(void **state, const struct am_collect_roots *roots)
{
	struct load_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	*state = st;
	return 0;
}

static int load_collect(void *state, struct am_metric_set *out)
{
	struct load_state *st = state;
	const char *why = "";
	int err;

	err = am_kept_paths_read_logged(&st->kept, st->roots.procfs, "loadavg", &st->buf, "load",
					&st->warned);
	if (err)
		return err;
	err = am_parse_loadavg(st->buf.data, out, &why);
	if (err)
		am_warn("load: %s/loadavg: %s", st->roots.procfs, why);
	return err;
}

static void load_destroy(void *state)
{
	struct load_state *st = state;

	if (!st)
		return;
	am_kept_paths_close(&st->kept);
	am_strbuf_free(&st->buf);
	free(st);
}

const struct am_collector am_collector_load = {
    .name = "load",
    .init = load_init,
    .collect = load_collect,
    .destroy = load_destroy,
    .node = {"loadavg"},
};
