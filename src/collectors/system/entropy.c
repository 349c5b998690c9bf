/* entropy: the kernel's random pool (/proc/sys/kernel/random). */
#include <errno.h>
#include <string.h>

#include "collectors/system/simple.h"
#include "util/log.h"

static const struct am_metric_desc entropy[2] = {
    {.name = "antimetal_entropy_available_bits",
     .prom = "node_entropy_available_bits",
     .help = "Bits of available entropy.",
     .unit = "bit",
     .type = AM_METRIC_GAUGE},
    {.name = "antimetal_entropy_pool_size_bits",
     .prom = "node_entropy_pool_size_bits",
     .help = "Bits of entropy pool.",
     .unit = "bit",
     .type = AM_METRIC_GAUGE},
};

static int entropy_collect(void *state, struct am_metric_set *out)
{
	static const char *const files[2] = {"sys/kernel/random/entropy_avail",
					     "sys/kernel/random/poolsize"};
	struct am_simple_state *st = state;
	uint64_t v[2];
	int i, err;

	for (i = 0; i < 2; i++) {
		err = am_procfs_read_u64(st->roots.procfs, files[i], &v[i]);
		if (err) {
			if (!st->warned)
				am_warn("entropy: %s/%s: %s", st->roots.procfs, files[i],
					err == -EINVAL ? "not a number" : strerror(-err));
			st->warned = true;
			return err;
		}
	}
	st->warned = false;
	for (i = 0; i < 2; i++)
		am_metric_add(out, &entropy[i], (double)v[i], NULL);
	return 0;
}

const struct am_collector am_collector_entropy = {
    .name = "entropy",
    .init = am_simple_init,
    .collect = entropy_collect,
    .destroy = am_simple_destroy,
    .node = {"entropy"},
};
