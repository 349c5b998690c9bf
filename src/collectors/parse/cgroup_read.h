/* One cgroup's controller files read into a sample, on any layout: each controller is read from
 * its v1 hierarchy when it has one, else from the unified hierarchy (v2 file names), so v1, v2
 * and hybrid hosts take the same call. The relative PATH is taken to be the same in every
 * hierarchy (as systemd and the kubelet lay them out). Missing files leave their fields
 * absent; garbled ones are counted and the first is named. */
#ifndef ANTIMETAL_COLLECTORS_CGROUP_READ_H
#define ANTIMETAL_COLLECTORS_CGROUP_READ_H

#include "collectors/parse/parsers.h"
#include "util/strbuf.h"

enum am_cgroup_mem_have {
	AM_CG_MEM_USAGE = 1 << 0,
	AM_CG_MEM_LIMIT = 1 << 1,
	AM_CG_MEM_HIGH = 1 << 2,
	AM_CG_MEM_PEAK = 1 << 3,
	AM_CG_MEM_FAILCNT = 1 << 4,
	AM_CG_MEM_SWAP = 1 << 5,
	AM_CG_MEM_SWAP_LIMIT = 1 << 6,
	AM_CG_PIDS = 1 << 7,
	AM_CG_PIDS_LIMIT = 1 << 8,
	AM_CG_IO = 1 << 9,
	AM_CG_PSI_CPU = 1 << 10,
	AM_CG_PSI_MEMORY = 1 << 11,
	AM_CG_PSI_IO = 1 << 12,
};

struct am_cgroup_sample {
	unsigned have; /* enum am_cgroup_mem_have; cpu, memstat, events carry their own */
	struct am_cgroup_cpu cpu;
	uint64_t mem_usage, mem_limit, mem_high, mem_peak, mem_failcnt, swap_usage, swap_limit;
	struct am_cgroup_memstat memstat;
	struct am_cgroup_memevents events;
	uint64_t pids, pids_limit;
	struct am_cgroup_io io;
	struct am_psi psi_cpu, psi_memory, psi_io;
	unsigned garbled;	/* files that did not parse */
	char first_garbled[96]; /* "memory.stat: expected ..." */
};

/* Read cgroup PATH ("/", "/system.slice/x.service") under ROOTFS ("" = /) on LAYOUT into OUT;
 * USER_HZ converts cpuacct.stat. SCRATCH is a reusable buffer. Returns 0, or -ENOENT when the
 * cgroup exists in no hierarchy. */
int am_cgroup_read(const struct am_cgroup_layout *layout, const char *rootfs, const char *path,
		   long user_hz, struct am_strbuf *scratch, struct am_cgroup_sample *out);

#endif
