/* softnet: per-CPU packet processing of the network receive path (/proc/net/softnet_stat). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "collectors/parse/kept_file.h"
#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/log.h"

#define MAX_CPUS 4096

static const struct am_metric_desc softnet[3] = {
    {.name = "antimetal_softnet_processed_total",
     .prom = "node_softnet_processed_total",
     .help = "Number of processed packets",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"cpu"}},
    {.name = "antimetal_softnet_dropped_total",
     .prom = "node_softnet_dropped_total",
     .help = "Number of dropped packets",
     .unit = "{packet}",
     .type = AM_METRIC_COUNTER,
     .labels = {"cpu"}},
    {.name = "antimetal_softnet_times_squeezed_total",
     .prom = "node_softnet_times_squeezed_total",
     .help = "Number of times processing packets ran out of quota",
     .type = AM_METRIC_COUNTER,
     .labels = {"cpu"}},
};

static int softnet_collect(void *state, struct am_metric_set *out)
{
	struct am_simple_state *st = state;
	struct am_softnet_cpu *cpus;
	const char *why = "";
	char cpu[24];
	size_t n, i;
	int err;

	err = am_kept_paths_read_logged(&st->kept, st->roots.procfs, "net/softnet_stat", &st->buf,
					"softnet", &st->warned);
	if (err)
		return err;
	cpus = malloc(MAX_CPUS * sizeof(*cpus));
	if (!cpus)
		return -ENOMEM;
	err = am_parse_softnet(st->buf.data, cpus, MAX_CPUS, &n, &why);
	if (err) {
		am_warn("softnet: %s/net/softnet_stat: %s", st->roots.procfs, why);
		free(cpus);
		return err;
	}
	/* node_exporter 1.5 labels by line number, which is the CPU number on hosts without
	 * offline CPUs. */
	for (i = 0; i < n; i++) {
		snprintf(cpu, sizeof(cpu), "%zu", i);
		am_metric_add(out, &softnet[0], (double)cpus[i].processed, "cpu", cpu, NULL);
		am_metric_add(out, &softnet[1], (double)cpus[i].dropped, "cpu", cpu, NULL);
		am_metric_add(out, &softnet[2], (double)cpus[i].time_squeeze, "cpu", cpu, NULL);
	}
	free(cpus);
	return 0;
}

const struct am_collector am_collector_softnet = {
    .name = "softnet",
    .init = am_simple_init,
    .collect = softnet_collect,
    .destroy = am_simple_destroy,
    .node = {"softnet"},
};
