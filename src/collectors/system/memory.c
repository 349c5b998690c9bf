/* memory: /proc/meminfo in bytes (node_memory_*_bytes) and selected /proc/vmstat counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/kept_file.h"
#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/log.h"

struct memory_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_kept_paths kept; /* its /proc files, kept open */
	bool warned_meminfo, warned_vmstat;
};

static int memory_init(void **state, const struct am_collect_roots *roots)
{
	struct memory_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	*state = st;
	return 0;
}

static int memory_collect(void *state, struct am_metric_set *out)
{
	struct memory_state *st = state;
	const char *why = "";
	int err;

	err = am_kept_paths_read_logged(&st->kept, st->roots.procfs, "meminfo", &st->buf, "memory",
					&st->warned_meminfo);
	if (err)
		return err;
	err = am_parse_meminfo(st->buf.data, out, &why);
	if (err) {
		am_warn("memory: %s/meminfo: %s", st->roots.procfs, why);
		return err;
	}
	/* vmstat is a part: absent or broken, the meminfo figures still count. */
	if (!am_kept_paths_read_logged(&st->kept, st->roots.procfs, "vmstat", &st->buf, "memory",
				       &st->warned_vmstat) &&
	    am_parse_vmstat(st->buf.data, out, &why)) {
		if (!st->warned_vmstat)
			am_warn("memory: %s/vmstat: %s", st->roots.procfs, why);
		st->warned_vmstat = true;
	}
	return 0;
}

static void memory_destroy(void *state)
{
	struct memory_state *st = state;

	if (!st)
		return;
	am_kept_paths_close(&st->kept);
	am_strbuf_free(&st->buf);
	free(st);
}

const struct am_collector am_collector_memory = {
    .name = "memory",
    .init = memory_init,
    .collect = memory_collect,
    .destroy = memory_destroy,
    .node = {"meminfo", "vmstat"},
};
