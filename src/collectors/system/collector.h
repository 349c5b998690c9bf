/* The system-collector interface: one file per collector under src/collectors/system/, each
 * exporting one `const struct am_collector am_collector_<name>`, declared below and listed in
 * registry.c. */
#ifndef ANTIMETAL_COLLECTORS_COLLECTOR_H
#define ANTIMETAL_COLLECTORS_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "records/metric.h"

/* Where collectors read from: node_exporter's --path.procfs / --path.sysfs pattern, so tests
 * feed fixture trees. */
struct am_collect_roots {
	const char *procfs;   /* default "/proc" */
	const char *sysfs;    /* default "/sys" */
	const char *devfs;    /* default "/dev" (kmsg) */
	const char *textfile; /* directory of *.prom files (textfile); NULL or "": none */
	/* The clock rates are computed against, in nanoseconds: NULL reads CLOCK_MONOTONIC. Tests
	 * pass their own so a rate over two samples is exact instead of depending on a sleep. */
	uint64_t (*clock_ns)(void *ctx);
	void *clock_ctx;
	/* cgroup collector: every cgroup rather than containers, pods and units; and the most
	 * cgroups exported per cycle (0: AM_CGROUP_DEFAULT_MAX). */
	bool cgroup_all;
	unsigned cgroup_max;
	/* cgroup collector: descriptors of cgroup files kept open between cycles (re-read with one
	 * pread; about 4 KiB of kernel memory each), 0: none. */
	unsigned cgroup_keep_open;
	/* filesystem collector: POSIX extended regular expressions of mount points and file system
	 * types left out (NULL: node_exporter 1.5's Debian defaults below), and how long a cycle
	 * waits for statfs (0: AM_FS_DEFAULT_TIMEOUT_MS). */
	const char *fs_mount_points_exclude;
	const char *fs_types_exclude;
	unsigned fs_timeout_ms;
};

#define AM_FS_DEFAULT_MOUNT_POINTS_EXCLUDE                                                         \
	"^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
#define AM_FS_DEFAULT_TYPES_EXCLUDE                                                                \
	"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"    \
	"iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|" \
	"sysfs|tracefs)$"
#define AM_FS_DEFAULT_TIMEOUT_MS 1000

#define AM_CGROUP_DEFAULT_MAX	    2000
#define AM_CGROUP_DEFAULT_KEEP_OPEN 16384

struct am_collector {
	const char *name; /* "cpu", "memory", ... as used in config and `collect NAME` */
	/* Allocate private state (previous samples for rates). Returns 0 or -errno (logged). */
	int (*init)(void **state, const struct am_collect_roots *roots);
	/* Append this cycle's metrics to OUT. Returns 0 or -errno; a part that is absent on this
	 * kernel (no PSI, old kernel) is skipped with one log line, not an error. */
	int (*collect)(void *state, struct am_metric_set *out);
	void (*destroy)(void *state);
	/* node_exporter collectors this one stands in for ("meminfo", "vmstat"), NULL-ended:
	 * node_scrape_collector_success{collector=...} is reported under those names. */
	const char *node[4];
};

/* The system collectors, one per file of this folder (tests drive them one by one). */
extern const struct am_collector am_collector_load, am_collector_cpu, am_collector_memory,
    am_collector_disk, am_collector_network, am_collector_tcp, am_collector_pressure,
    am_collector_processes, am_collector_cgroup, am_collector_kmsg, am_collector_hardware,
    am_collector_uname, am_collector_os, am_collector_time, am_collector_timex, am_collector_filefd,
    am_collector_entropy, am_collector_conntrack, am_collector_softnet, am_collector_udp_queues,
    am_collector_arp, am_collector_selinux, am_collector_self, am_collector_netclass,
    am_collector_filesystem, am_collector_textfile, am_collector_edac, am_collector_hwmon;

/* All system collectors, NULL-terminated. */
extern const struct am_collector *const am_collectors[];
/* Find a collector by name; NULL when unknown. */
const struct am_collector *am_collector_find(const char *name);

#endif
