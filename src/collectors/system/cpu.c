/* cpu: /proc/stat per CPU and for the whole host. Seconds per mode are counters, named and
 * labelled like node_exporter's node_cpu_seconds_total{cpu,mode}; utilisation ratios come from
 * the delta between two cycles. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/parse/kept_file.h"
#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/log.h"

struct cpu_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_kept_paths kept; /* its /proc files, kept open */
	struct am_stat_sample samples[2];
	int cur;
	bool have_prev, warned;
	long user_hz;
};

static int cpu_init(void **state, const struct am_collect_roots *roots)
{
	struct cpu_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	st->user_hz = sysconf(_SC_CLK_TCK);
	*state = st;
	return 0;
}

static int cpu_collect(void *state, struct am_metric_set *out)
{
	struct cpu_state *st = state;
	struct am_stat_sample *cur = &st->samples[st->cur], *prev = &st->samples[!st->cur];
	const char *why = "";
	int err;

	err = am_kept_paths_read_logged(&st->kept, st->roots.procfs, "stat", &st->buf, "cpu",
					&st->warned);
	if (err)
		return err;
	err = am_parse_stat(st->buf.data, cur, &why);
	if (err) {
		am_warn("cpu: %s/stat: %s", st->roots.procfs, why);
		return err;
	}
	am_stat_emit(cur, st->have_prev ? prev : NULL, st->user_hz, out);
	st->have_prev = true;
	st->cur = !st->cur;
	return 0;
}

static void cpu_destroy(void *state)
{
	struct cpu_state *st = state;

	if (!st)
		return;
	am_kept_paths_close(&st->kept);
	am_strbuf_free(&st->buf);
	am_stat_sample_free(&st->samples[0]);
	am_stat_sample_free(&st->samples[1]);
	free(st);
}

const struct am_collector am_collector_cpu = {
    .name = "cpu",
    .init = cpu_init,
    .collect = cpu_collect,
    .destroy = cpu_destroy,
    .node = {"cpu", "stat"},
};
