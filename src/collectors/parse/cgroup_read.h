/* One cgroup's controller files read into a sample, on any layout: each controller is read from
 * its v1 hierarchy when it has one, else from the unified hierarchy (v2 file names), so v1, v2
 * and hybrid hosts take the same call. The relative PATH is taken to be the same in every
 * hierarchy (as systemd and the kubelet lay them out). Missing files leave their fields
 * absent; garbled ones are counted and the first is named. */
#ifndef ANTIMETAL_COLLECTORS_CGROUP_READ_H
#define ANTIMETAL_COLLECTORS_CGROUP_READ_H

#include "collectors/parse/parsers.h"
#include <stdbool.h>
#include <stdint.h>

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
	AM_CG_MEM_LOW = 1 << 13,
	AM_CG_MEM_MIN = 1 << 14,
};

struct am_cgroup_sample {
	unsigned have; /* enum am_cgroup_mem_have; cpu, memstat, events carry their own */
	struct am_cgroup_cpu cpu;
	uint64_t mem_usage, mem_limit, mem_high, mem_peak, mem_failcnt, swap_usage, swap_limit;
	uint64_t mem_low, mem_min; /* v2 protections */
	struct am_cgroup_memstat memstat;
	struct am_cgroup_memevents events;
	uint64_t pids, pids_limit;
	struct am_cgroup_pidsevents pids_events;
	struct am_cgroup_io io;
	struct am_psi psi_cpu, psi_memory, psi_io;
	unsigned garbled;	/* files that did not parse */
	char first_garbled[96]; /* "memory.stat: expected ..." */
};

/* The files read from a cgroup, each with its own slot in struct am_cgroup_kept. */
enum am_cgroup_file {
	AM_CGF_CPU_STAT,
	AM_CGF_CPU_MAX,
	AM_CGF_CPU_WEIGHT,
	AM_CGF_CFS_QUOTA,
	AM_CGF_CFS_PERIOD,
	AM_CGF_CPU_SHARES,
	AM_CGF_ACCT_USAGE,
	AM_CGF_ACCT_USER,
	AM_CGF_ACCT_SYS,
	AM_CGF_ACCT_STAT,
	AM_CGF_MEM_USAGE,
	AM_CGF_MEM_LIMIT,
	AM_CGF_MEM_PEAK,
	AM_CGF_MEM_STAT,
	AM_CGF_MEM_HIGH,
	AM_CGF_SWAP_CURRENT,
	AM_CGF_SWAP_MAX,
	AM_CGF_MEM_EVENTS,
	AM_CGF_MEM_FAILCNT,
	AM_CGF_OOM_CONTROL,
	AM_CGF_MEMSW_USAGE,
	AM_CGF_PIDS_CURRENT,
	AM_CGF_PIDS_MAX,
	AM_CGF_IO_STAT,
	AM_CGF_BLKIO_BYTES,
	AM_CGF_BLKIO_IOS,
	AM_CGF_PSI_CPU,
	AM_CGF_PSI_MEMORY,
	AM_CGF_PSI_IO,
	AM_CGF_CPU_CORE, /* the unified hierarchy's cpu.stat on a hybrid host */
	AM_CGF_MEM_LOW,
	AM_CGF_MEM_MIN,
	AM_CGF_PIDS_EVENTS,
	AM_CGF_N
};

/* The controllers whose files are read, and where (v1 hierarchy or unified) each was found. */
enum am_cgroup_ctl {
	AM_CGC_CPU,
	AM_CGC_CPUACCT,
	AM_CGC_MEMORY,
	AM_CGC_PIDS,
	AM_CGC_BLKIO,
	AM_CGC_UNIFIED, /* the unified hierarchy's core files: PSI, cpu.stat on a hybrid host */
	AM_CGC_N
};

/* The values of the files that change only when someone writes them: v1 cpu.cfs_quota_us,
 * cpu.cfs_period_us, cpu.shares, memory.limit_in_bytes, pids.max; v2 cpu.max, cpu.weight,
 * memory.max, memory.high, memory.low, memory.min, memory.swap.max, pids.max. */
struct am_cgroup_limits {
	unsigned have;	   /* their AM_CG_MEM_* / AM_CG_PIDS_LIMIT bits of the sample's have */
	unsigned cpu_have; /* their AM_CG_CPU_* bits of the sample's cpu.have */
	uint64_t quota_usec, period_usec, weight, shares;
	uint64_t mem_limit, mem_high, mem_low, mem_min, swap_limit, pids_limit;
	/* v1 memory.failcnt counts hits of the cgroup's own limit: without one only a write (a
	 * reset) changes it, so it is held with the limits. */
	bool failcnt_held;
	uint64_t failcnt;
};

/* Whether a write to the cgroup file NAME may change what struct am_cgroup_limits holds (the
 * limit files, cpu.weight.nice); cgroup.subtree_control, which adds and removes a v2 cgroup's
 * children's files, counts too. */
bool am_cgroup_limit_file(const char *name);

/* Hierarchies a cgroup's files are read from: cpu, cpuacct, memory, pids, blkio, unified. */
#define AM_CGROUP_MAX_DIRS 8

/* One cgroup's descriptors kept between cycles (collectors/parse/kept_file.h): each file is
 * re-read with one pread instead of an open, a read and a close. Where a controller's files were
 * found is remembered with them; a kept file that is gone (the cgroup removed, perhaps made
 * again) drops them all and the cgroup is read afresh. */
struct am_cgroup_kept {
	int fd[AM_CGF_N]; /* -1: not kept */
	/* The cgroup's directories, kept while some of its files are past the budget: those are
	 * opened relative to them every cycle, sparing the kernel the walk down the path. A
	 * directory holds no seq_file page: its descriptor costs a struct file (0.25 KiB) where a
	 * file's costs 4 KiB. */
	struct {
		const char *mnt; /* the hierarchy's mount, as in the layout */
		int fd;
	} dir[AM_CGROUP_MAX_DIRS];
	unsigned ndirs;
	signed char where[AM_CGC_N]; /* 0: not known; 1: v1 hierarchy; 2: unified */
	/* Files found absent in a v1 hierarchy, by 1 << am_cgroup_file: a v1 cgroup has the
	 * files of its hierarchy's controllers for life (memory.memsw.* only with swap
	 * accounting, pids.* not on the root), unlike a v2 one, whose parent may enable more. */
	uint64_t absent;
	unsigned n; /* descriptors kept */
	/* The limits as last read (held: every limit file read parsed). The caller sets
	 * limits_unchanged when it knows no limit file was written since (inotify's IN_MODIFY on
	 * the cgroup's directories, see system/cgroup.c): the files are then not read. */
	struct am_cgroup_limits lim;
	bool lim_held, limits_unchanged;
};

/* The budget of descriptors all cgroups may keep, shared by the calls of one cycle. */
struct am_cgroup_keep {
	unsigned left;	   /* file descriptors that may still be kept */
	unsigned room;	   /* descriptors, of files or directories, that may still be kept */
	unsigned dirs;	   /* directory descriptors kept */
	bool pseudo;	   /* the hierarchies are cgroupfs (not a fixture tree): worth keeping */
	uint64_t reopened; /* kept descriptors found gone and opened again, summed */
};

/* K with nothing kept. */
void am_cgroup_kept_init(struct am_cgroup_kept *k);
/* Close what K keeps, giving the descriptors back to KEEP (may be NULL). */
void am_cgroup_kept_close(struct am_cgroup_kept *k, struct am_cgroup_keep *keep);

/* Read cgroup PATH ("/", "/system.slice/x.service") under ROOTFS ("" = /) on LAYOUT into OUT;
 * USER_HZ converts cpuacct.stat. SCRATCH is a reusable buffer. Returns 0, or -ENOENT when the
 * cgroup exists in no hierarchy. */
int am_cgroup_read(const struct am_cgroup_layout *layout, const char *rootfs, const char *path,
		   long user_hz, struct am_strbuf *scratch, struct am_cgroup_sample *out);
/* am_cgroup_read reusing and filling KEPT (this cgroup's descriptors from the last cycle) within
 * KEEP's budget; KEPT NULL reads as am_cgroup_read. */
int am_cgroup_read_kept(const struct am_cgroup_layout *layout, const char *rootfs, const char *path,
			long user_hz, struct am_strbuf *scratch, struct am_cgroup_kept *kept,
			struct am_cgroup_keep *keep, struct am_cgroup_sample *out);

#endif
