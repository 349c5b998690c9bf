/* Every system collector, in the order `collect --all` and the daemon run them. Add a collector:
 * declare it in collector.h and append it to am_collectors. */
#include <string.h>

#include "collectors/system/collector.h"

const struct am_collector *const am_collectors[] = {
    &am_collector_load,	   &am_collector_cpu,  &am_collector_memory,   &am_collector_disk,
    &am_collector_network, &am_collector_tcp,  &am_collector_pressure, &am_collector_processes,
    &am_collector_cgroup,  &am_collector_kmsg, &am_collector_hardware, NULL,
};

const struct am_collector *am_collector_find(const char *name)
{
	size_t i;

	for (i = 0; am_collectors[i]; i++)
		if (!strcmp(am_collectors[i]->name, name))
			return am_collectors[i];
	return NULL;
}
