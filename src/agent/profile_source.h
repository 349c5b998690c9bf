/* The continuous profiler inside the daemon: the profiler collector runs at a low frequency
 * and, at the end of every window (a loop timer), its stacks are read, symbolized and written
 * as one gzipped pprof file into a directory that keeps the newest N. The next window's
 * profiler is attached first, so windows follow each other without a gap. */
#ifndef ANTIMETAL_AGENT_PROFILE_SOURCE_H
#define ANTIMETAL_AGENT_PROFILE_SOURCE_H

#include <stdint.h>

#include "agent/config.h"
#include "util/loop.h"
#include "records/metric.h"
#include "collectors/ebpf/profiler.h"
#include "symbolize/usym.h"

struct am_profile_source {
	struct am_profiler *prof; /* NULL when not running */
	struct am_loop *loop;
	struct am_loop_source *timer;
	struct am_loop_source *notify; /* the running profiler's new-process notices */
	struct am_loop_source *drain;  /* once a second: the copied stacks' buffer */
	unsigned frequency_hz;
	const char *btf_path; /* external BTF, NULL: native */
	uint64_t window_ms;
	unsigned retention;
	bool demangle;
	unsigned max_stack;
	bool lines;
	char call_graph[24];		 /* profiler.call_graph */
	struct am_cgroup_filter cgroups; /* profiler.cgroups */
	char dir[AM_CONFIG_PATH_MAX];
	char procfs[AM_CONFIG_PATH_MAX]; /* where the symbolizer reads /proc/PID (paths.procfs) */
	char rootfs[AM_CONFIG_PATH_MAX]; /* the node's files by name (paths.rootfs) */
	uint64_t profiles_written, write_errors, samples, lost;
	double last_write_s; /* wall time the last window switch took */
	int start_error;
	/* One symbolizer across windows keeps its ELF file cache warm, within
	 * profiler.symbol_cache_bytes; trimmed after every window (am_usym_trim). */
	struct am_usym *usym;
	uint64_t symbol_cache_bytes;
	struct am_usym_cache_stats cache_before; /* counters of symbolizers freed on restarts */
};

/* Start profiling with CFG's profiler settings and arm the window timer in LOOP.
 * Returns 0 or -errno (logged; the daemon goes on without it). */
int am_profile_source_start(struct am_profile_source *x, struct am_loop *loop,
			    const struct am_config *cfg);
/* Whether the running profiler already matches CFG (no restart needed on reload). */
int am_profile_source_same(const struct am_profile_source *x, const struct am_config *cfg);
/* Append the profiler's counters (profiles written, samples, lost samples) to SET. */
void am_profile_source_metrics(const struct am_profile_source *x, struct am_metric_set *set);
/* Write the current partial window (when FLUSH), then detach and close. Safe when stopped. */
void am_profile_source_stop(struct am_profile_source *x, int flush);

#endif
