#include "agent/profile_source.h"

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/source_common.h"
#include "export/pprof.h"
#include "symbolize/usym.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/output_file.h"
#include "util/strbuf.h"

#define PREFIX "cpu-"
#define SUFFIX ".pb.gz"

static double mono_s(void)
{
	return (double)am_clock_ns(CLOCK_MONOTONIC) / 1e9;
}

static int mkdirs(const char *path)
{
	char tmp[AM_CONFIG_PATH_MAX];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0750) && errno != EEXIST)
		return -errno;
	return am_output_dir_check(path);
}

static int open_profiler(const struct am_profile_source *x, struct am_profiler **out)
{
	struct am_profiler_opts o = {0};

	o.usym = x->usym;
	o.freq = x->frequency_hz;
	o.btf_path = x->btf_path;
	o.kernel_stacks = true;
	o.user_stacks = true;
	o.no_demangle = !x->demangle;
	o.max_stack = x->max_stack;
	o.no_lines = !x->lines;
	o.cgroup_ids = x->cgroups.ids;
	o.ncgroups = x->cgroups.n;
	/* checked when the configuration was loaded */
	if (am_call_graph_parse(x->call_graph, &o.call_graph, &o.copy_size))
		o.call_graph = AM_CALL_GRAPH_AUTO;
	return am_profiler_open(&o, out);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keep the newest RETENTION profiles: names sort by their UTC timestamps. */
static void prune(struct am_profile_source *x)
{
	DIR *d = opendir(x->dir);
	char **names = NULL, path[AM_CONFIG_PATH_MAX + 300];
	size_t n = 0, cap = 0, i;
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) || len < strlen(SUFFIX) ||
		    strcmp(e->d_name + len - strlen(SUFFIX), SUFFIX))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!nn)
				break;
			names = nn;
		}
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	if (n > x->retention) {
		qsort(names, n, sizeof(*names), by_name);
		for (i = 0; i < n - x->retention; i++) {
			snprintf(path, sizeof(path), "%s/%s", x->dir, names[i]);
			if (unlink(path) && errno != ENOENT)
				am_warn("profiler: cannot remove %s: %s", path, strerror(errno));
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Read the window's stacks and write them as DIR/cpu-<UTC start>.pb.gz (via a temporary
 * name, so readers never see a partial file). */
static int write_window(struct am_profile_source *x, struct am_profiler *p)
{
	struct am_profile prof;
	struct am_strbuf out = {0};
	char stamp[32], path[AM_CONFIG_PATH_MAX + 64];
	struct tm tm;
	time_t secs;
	int err;

	err = am_profiler_collect(p, &prof);
	if (err)
		return err;
	x->samples += prof.total;
	x->lost += am_profile_lost_total(&prof);
	err = am_pprof_render(&prof, &out);
	secs = (time_t)(prof.start_ns / 1000000000ull);
	if (err || out.oom) {
		am_profile_free(&prof);
		am_strbuf_free(&out);
		return err ? err : -ENOMEM;
	}
	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	/* Milliseconds too: a final partial window may start in the same second as the last. */
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%03lluZ",
		 (unsigned long long)(prof.start_ns / 1000000ull % 1000));
	snprintf(path, sizeof(path), "%s/" PREFIX "%s" SUFFIX, x->dir, stamp);
	am_profile_free(&prof);
	err = mkdirs(x->dir);
	if (!err)
		err = am_output_replace(path, out.data, out.len);
	if (err)
		am_err("profiler: cannot write %s: %s", path, am_output_strerror(-err));
	am_strbuf_free(&out);
	if (!err) {
		x->profiles_written++;
		prune(x);
	}
	return err;
}

/* New processes: their mappings are captured while they live, so stacks of short-lived
 * processes still symbolize at the window's end. */
static void on_notices(void *ctx, uint32_t events, uint64_t expirations)
{
	struct am_profile_source *x = ctx;

	(void)events;
	(void)expirations;
	if (x->prof)
		am_profiler_handle_notices(x->prof);
}

/* Every second: the copied stacks, then the CFI pages their unwinding mapped in (given back
 * so they do not pile up over a long window). */
static void on_drain(void *ctx, uint32_t events, uint64_t expirations)
{
	struct am_profile_source *x = ctx;

	on_notices(ctx, events, expirations);
	if (x->usym)
		am_usym_drop_pages(x->usym);
}

/* Watch the running profiler's notification fd instead of the previous one's. */
static void watch_notices(struct am_profile_source *x)
{
	am_loop_remove(x->loop, x->notify);
	x->notify =
	    x->prof ? am_loop_add(x->loop, am_profiler_notify_fd(x->prof), on_notices, x) : NULL;
}

/* After a window: captures of processes not seen in it (exited, or idle: captured again
 * when sampled) and the files only they mapped go, modules beyond the budget are released,
 * and the heap libdw and the profile left free goes back to the system (glibc keeps freed
 * memory below its top otherwise; its effect alone was not measured apart from the rest). */
static void trim(struct am_profile_source *x)
{
	struct am_usym_cache_stats st;

	am_usym_trim(x->usym);
	malloc_trim(0);
	am_usym_cache_stats(x->usym, &st);
	am_debug(
	    "profiler: symbol cache %zu of %zu bytes, %u files (%u loaded); so far %llu "
	    "evictions, %llu reloads (%llu failed), %llu "
	    "lines skipped, %llu captures and %llu files dropped, %llu MiB of pages given back",
	    st.bytes, st.budget, st.files, st.loaded, (unsigned long long)st.evictions,
	    (unsigned long long)st.reloads, (unsigned long long)st.reload_failures,
	    (unsigned long long)st.lines_skipped, (unsigned long long)st.procs_dropped,
	    (unsigned long long)st.files_dropped, (unsigned long long)(st.pages_dropped >> 20));
}

/* A symbolizer that sees the node's processes and files as an agent outside a container
 * does (/proc/PID under paths.procfs, files by name under paths.rootfs), within the cache
 * budget. NULL when out of memory. */
static struct am_usym *new_usym(const struct am_profile_source *x)
{
	struct am_usym *u = am_usym_new(x->procfs, NULL);
	int err = u ? am_usym_set_rootfs(u, x->rootfs) : -ENOMEM;

	if (err && u) {
		am_warn("profiler: paths.rootfs %s: %s", x->rootfs, strerror(-err));
		am_usym_free(u);
		u = NULL;
	}
	if (u)
		am_usym_set_budget(u, (size_t)x->symbol_cache_bytes);
	return u;
}

static void on_window(void *ctx, uint32_t events, uint64_t expirations)
{
	struct am_profile_source *x = ctx;
	struct am_profiler *done = x->prof;
	double t0 = mono_s();
	int err;

	(void)events;
	(void)expirations;
	if (!done)
		return;
	/* The next window's profiler is attached before this one is read (which detaches it),
	 * so no time goes unsampled; the overlap is the few microseconds in between. */
	err = open_profiler(x, &x->prof);
	if (err) {
		x->prof = NULL;
		x->start_error = err;
		am_err("profiler: cannot restart (%s); continuous profiling stopped",
		       strerror(-err));
		am_loop_remove(x->loop, x->timer);
		x->timer = NULL;
	}
	watch_notices(x);
	if (write_window(x, done))
		x->write_errors++;
	am_profiler_close(done);
	trim(x);
	x->last_write_s = mono_s() - t0;
}

/* Free the symbolizer, keeping its counters for the metrics. */
static void free_usym(struct am_profile_source *x)
{
	struct am_usym_cache_stats st;

	if (!x->usym)
		return;
	am_usym_cache_stats(x->usym, &st);
	x->cache_before.evictions += st.evictions;
	x->cache_before.reloads += st.reloads;
	x->cache_before.reload_failures += st.reload_failures;
	x->cache_before.procs_dropped += st.procs_dropped;
	x->cache_before.files_dropped += st.files_dropped;
	x->cache_before.lines_skipped += st.lines_skipped;
	am_usym_free(x->usym);
	x->usym = NULL;
}

int am_profile_source_start(struct am_profile_source *x, struct am_loop *loop,
			    const struct am_config *cfg)
{
	char scope[64] = "";
	int err;

	x->loop = loop;
	x->frequency_hz = cfg->profiler_frequency_hz;
	x->window_ms = cfg->profiler_window_ms;
	x->retention = cfg->profiler_retention;
	x->demangle = cfg->profiler_demangle;
	x->max_stack = cfg->profiler_max_stack;
	x->lines = cfg->profiler_lines;
	x->symbol_cache_bytes = cfg->profiler_symbol_cache_bytes;
	/* libdw's line tables are allocated a unit at a time, up to megabytes each. glibc raises
	 * its mmap threshold to the largest block freed (up to 32 MiB), after which such blocks
	 * come from the heap, where the next window's smaller ones fragment them and malloc_trim
	 * cannot give all of it back. A fixed threshold keeps them mapped, given back when freed.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	snprintf(x->call_graph, sizeof(x->call_graph), "%s", cfg->profiler_call_graph);
	x->cgroups = cfg->profiler_cgroups;
	snprintf(x->dir, sizeof(x->dir), "%s", cfg->profiler_dir);
	err = mkdirs(x->dir);
	if (err) {
		am_warn("profiler: cannot use %s (%s); the daemon runs without it", x->dir,
			am_output_strerror(-err));
		x->start_error = err;
		return err;
	}
	snprintf(x->procfs, sizeof(x->procfs), "%s", cfg->procfs);
	snprintf(x->rootfs, sizeof(x->rootfs), "%s", cfg->rootfs);
	free_usym(x); /* left by a profiler that stopped on a failed restart */
	x->usym = new_usym(x);
	err = x->usym ? open_profiler(x, &x->prof) : -ENOMEM;
	if (err) {
		x->prof = NULL;
		x->start_error = err;
		free_usym(x);
		am_warn("profiler: cannot start (%s); the daemon runs without it", strerror(-err));
		return err;
	}
	x->timer = am_loop_add_timer(loop, x->window_ms, x->window_ms, on_window, x);
	/* Copied stacks wake the loop only when their buffer fills up: drained every second. */
	x->drain = am_loop_add_timer(loop, 1000, 1000, on_drain, x);
	watch_notices(x);
	if (!x->timer || !x->notify || !x->drain) {
		am_profile_source_stop(x, 0);
		x->start_error = -ENOMEM;
		return -ENOMEM;
	}
	x->start_error = 0;
	if (x->cgroups.n)
		snprintf(scope, sizeof(scope), "; only %u cgroup subtree%s (profiler.cgroups)",
			 x->cgroups.n, x->cgroups.n > 1 ? "s" : "");
	am_info("profiler: %u Hz, one pprof every %llu ms into %s (newest %u kept)%s",
		x->frequency_hz, (unsigned long long)x->window_ms, x->dir, x->retention, scope);
	return 0;
}

int am_profile_source_same(const struct am_profile_source *x, const struct am_config *cfg)
{
	return x->frequency_hz == cfg->profiler_frequency_hz &&
	       x->window_ms == cfg->profiler_window_ms && x->retention == cfg->profiler_retention &&
	       x->demangle == cfg->profiler_demangle && x->max_stack == cfg->profiler_max_stack &&
	       x->lines == cfg->profiler_lines &&
	       x->symbol_cache_bytes == cfg->profiler_symbol_cache_bytes &&
	       !strcmp(x->dir, cfg->profiler_dir) &&
	       !strcmp(x->call_graph, cfg->profiler_call_graph) &&
	       !strcmp(x->procfs, cfg->procfs) && x->cgroups.n == cfg->profiler_cgroups.n &&
	       !memcmp(x->cgroups.ids, cfg->profiler_cgroups.ids,
		       x->cgroups.n * sizeof(x->cgroups.ids[0]));
}

static void cache_metrics(const struct am_profile_source *x, struct am_metric_set *set)
{
	struct am_usym_cache_stats st = {0};

	if (x->usym)
		am_usym_cache_stats(x->usym, &st);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_profiler_symbol_cache_bytes",
				     .help =
					 "Bytes charged to the symbol and CFI modules the "
					 "profiler keeps (profiler.symbol_cache_bytes bounds it).",
				     .type = AM_METRIC_GAUGE, .unit = "By"),
		      (double)st.bytes, NULL);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_profiler_symbol_cache_files",
				     .help = "ELF files the profiler's symbolizer knows, their "
					     "modules loaded or released.",
				     .type = AM_METRIC_GAUGE),
		      (double)st.files, NULL);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_profiler_symbol_cache_evictions_total",
				     .help =
					 "Symbol and CFI modules released to stay within "
					 "profiler.symbol_cache_bytes (reopened when used again).",
				     .type = AM_METRIC_COUNTER),
		      (double)(x->cache_before.evictions + st.evictions), NULL);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_profiler_symbol_cache_reloads_total",
				     .help = "Released modules opened again for a later sample.",
				     .type = AM_METRIC_COUNTER),
		      (double)(x->cache_before.reloads + st.reloads), NULL);
	am_metric_add(
	    set,
	    AM_METRIC_DESC(.name = "antimetal_profiler_symbol_cache_reload_failures_total",
			   .help = "Released modules that could not be opened again (the file "
				   "was deleted or replaced): their frames are [unknown].",
			   .type = AM_METRIC_COUNTER),
	    (double)(x->cache_before.reload_failures + st.reload_failures), NULL);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_profiler_symbol_cache_lines_skipped_total",
				     .help = "Frames written without file:line because the symbol "
					     "cache's budget was spent on other DWARF line tables.",
				     .type = AM_METRIC_COUNTER),
		      (double)(x->cache_before.lines_skipped + st.lines_skipped), NULL);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_profiler_captures_dropped_total",
				     .help =
					 "Process mappings captured by the profiler and dropped "
					 "after a window in which the process was not sampled.",
				     .type = AM_METRIC_COUNTER),
		      (double)(x->cache_before.procs_dropped + st.procs_dropped), NULL);
}

void am_profile_source_metrics(const struct am_profile_source *x, struct am_metric_set *set)
{
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_profiler_profiles_written_total",
				     .help = "pprof files the continuous profiler wrote.",
				     .type = AM_METRIC_COUNTER),
		      (double)x->profiles_written, NULL);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_profiler_write_errors_total",
				     .help = "Profiling windows that could not be read or written.",
				     .type = AM_METRIC_COUNTER),
		      (double)x->write_errors, NULL);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_profiler_samples_total",
				     .help = "Stack samples in the written windows.",
				     .type = AM_METRIC_COUNTER),
		      (double)x->samples, NULL);
	am_metric_add(set,
		      AM_METRIC_DESC(.name = "antimetal_profiler_window_write_seconds",
				     .help = "Wall time switching windows took (attach the next, "
					     "read, symbolize and write the last).",
				     .type = AM_METRIC_GAUGE),
		      x->last_write_s, NULL);
	cache_metrics(x, set);
	am_source_health(set, "profiler", x->prof, x->lost);
}

void am_profile_source_stop(struct am_profile_source *x, int flush)
{
	if (x->prof && flush && write_window(x, x->prof))
		x->write_errors++;
	am_loop_remove(x->loop, x->timer);
	am_loop_remove(x->loop, x->notify);
	am_loop_remove(x->loop, x->drain);
	x->timer = x->notify = x->drain = NULL;
	am_profiler_close(x->prof);
	x->prof = NULL;
	free_usym(x);
}
