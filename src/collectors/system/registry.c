/* Every system collector, in the order `collect --all` and the daemon run them. Add a collector:
 * declare it in collector.h and append it to am_collectors. */
#include <string.h>

#include "collectors/system/collector.h"

const struct am_collector *const am_collectors[] = {
    &am_collector_load,
    &am_collector_cpu,
    &am_collector_memory,
    &am_collector_disk,
    &am_collector_network,
    &am_collector_tcp,
    &am_collector_pressure,
    &am_collector_processes,
    &am_collector_cgroup,
    &am_collector_kmsg,
    &am_collector_hardware,
    &am_collector_uname,
    &am_collector_os,
    &am_collector_time,
    &am_collector_timex,
    &am_collector_filefd,
    &am_collector_entropy,
    &am_collector_conntrack,
    &am_collector_softnet,
    &am_collector_udp_queues,
    &am_collector_arp,
    &am_collector_selinux,
    &am_collector_self,
    &am_collector_netclass,
    &am_collector_filesystem,
    &am_collector_textfile,
    &am_collector_edac,
    &am_collector_hwmon,
    NULL,
};

const struct am_collector *am_collector_find(const char *name)
{
	size_t i;

	for (i = 0; am_collectors[i]; i++)
		if (!strcmp(am_collectors[i]->name, name))
			return am_collectors[i];
	return NULL;
}
