/* The symbolizer's file cache within a byte budget, on this very process (the test binary and the
 * dozen shared libraries it maps): the charge never passes the budget while more files are
 * symbolized than fit, released modules are reopened and give exactly the symbols, locations
 * and source lines they gave before, every release and reload is counted, and am_usym_trim
 * drops the captures of a process that exited and the files only it mapped. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symbolize/usym.h"

#define PROBES_PER_MAP 24
#define MAX_PROBES     2048

/* What the unbounded symbolizer said about one address. */
struct probe {
	uint64_t addr;
	char func[256], path[512], build_id[41];
	uint64_t offset, mod_addr;
	unsigned map; /* which mapping it is in */
};

__attribute__((noinline)) int usym_cache_test_target(int x)
{
	return x * 7 + 3;
}

/* Addresses of this process that the unbounded symbolizer REF names, in an order that takes
 * each mapping in turn (the cache then sees every file again before its next use). */
static size_t collect(struct am_usym *ref, uint32_t pid, struct probe *out, unsigned *nmaps)
{
	static struct probe per[64][PROBES_PER_MAP];
	size_t count[64] = {0}, n = 0, i, j;
	char line[1024];
	FILE *f = fopen("/proc/self/maps", "r");

	cr_assert_not_null(f);
	*nmaps = 0;
	while (fgets(line, sizeof(line), f) && *nmaps < 64) {
		unsigned long long start, end;
		char perms[8];
		int k;

		if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) != 3 ||
		    !strchr(perms, 'x') || !strchr(line, '/'))
			continue;
		for (k = 0; k < PROBES_PER_MAP; k++) {
			uint64_t a = start + (end - start) / PROBES_PER_MAP * (uint64_t)k + 16;
			struct probe *p = &per[*nmaps][count[*nmaps]];
			struct am_usym_result r;
			struct am_usym_loc loc;

			if (am_usym_resolve(ref, pid, 0, a, false, &r) || !r.func || !r.map)
				continue;
			p->addr = a;
			p->map = *nmaps;
			p->offset = r.offset;
			snprintf(p->func, sizeof(p->func), "%s", r.func);
			snprintf(p->path, sizeof(p->path), "%s", r.map->path);
			snprintf(p->build_id, sizeof(p->build_id), "%s", r.map->build_id);
			cr_assert_eq(am_usym_locate(ref, pid, 0, a, &loc), 0);
			cr_assert_not_null(loc.mod, "%s has symbols but no module", p->path);
			p->mod_addr = loc.mod_addr;
			count[*nmaps]++;
		}
		if (count[*nmaps])
			(*nmaps)++;
	}
	fclose(f);
	for (j = 0; j < PROBES_PER_MAP; j++)
		for (i = 0; i < *nmaps; i++)
			if (j < count[i] && n < MAX_PROBES)
				out[n++] = per[i][j];
	return n;
}

/* One pass of PROBES through U: the same answers as the unbounded symbolizer, within BUDGET
 * (a module alone above it may stay alone). */
static void check_pass(struct am_usym *u, uint32_t pid, const struct probe *probes, size_t n,
		       size_t budget)
{
	struct am_usym_cache_stats st;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct probe *p = &probes[i];
		struct am_usym_result r;
		struct am_usym_loc loc;

		cr_assert_eq(am_usym_resolve(u, pid, 0, p->addr, false, &r), 0);
		cr_assert_not_null(r.func, "%s+%#llx lost its symbol %s", p->path,
				   (unsigned long long)p->addr, p->func);
		cr_assert_str_eq(r.func, p->func, "%s: %s, was %s", p->path, r.func, p->func);
		cr_assert_eq(r.offset, p->offset);
		cr_assert_str_eq(r.map->path, p->path);
		cr_assert_str_eq(r.map->build_id, p->build_id);
		am_usym_cache_stats(u, &st);
		cr_assert(st.bytes <= budget || st.loaded == 1,
			  "%zu bytes charged with a budget of %zu (%u modules loaded)", st.bytes,
			  budget, st.loaded);
		cr_assert_eq(am_usym_locate(u, pid, 0, p->addr, &loc), 0);
		cr_assert_not_null(loc.mod, "%s: no module after a reload", p->path);
		cr_assert_eq(loc.mod_addr, p->mod_addr);
		am_usym_cache_stats(u, &st);
		cr_assert(st.bytes <= budget || st.loaded == 1, "%zu bytes > budget %zu", st.bytes,
			  budget);
	}
}

Test(usym_cache, the_budget_holds_and_released_files_give_the_same_symbols)
{
	static struct probe probes[MAX_PROBES];
	struct am_usym *ref = am_usym_new(NULL, NULL), *u = am_usym_new(NULL, NULL);
	uint32_t pid = (uint32_t)getpid();
	struct am_usym_cache_stats rst, st;
	unsigned nmaps;
	size_t n, budget;

	cr_assert(ref && u);
	cr_assert_eq(am_usym_snapshot(ref, pid, 0), 0);
	n = collect(ref, pid, probes, &nmaps);
	cr_assert_geq(nmaps, 6, "only %u mappings with symbols to probe", nmaps);
	am_usym_cache_stats(ref, &rst);
	cr_assert_eq(rst.evictions, 0, "no budget, no release");
	cr_assert_eq(rst.budget, 0);
	cr_assert_gt(rst.bytes, 0);
	/* A third of what all of them take: most files must go and come back, pass after pass. */
	budget = rst.bytes / 3;
	am_usym_set_budget(u, budget);
	cr_assert_eq(am_usym_snapshot(u, pid, 0), 0);
	check_pass(u, pid, probes, n, budget);
	check_pass(u, pid, probes, n, budget);
	am_usym_cache_stats(u, &st);
	cr_assert_eq(st.budget, budget);
	cr_assert_gt(st.evictions, nmaps, "%llu evictions for %u files probed in turn",
		     (unsigned long long)st.evictions, nmaps);
	cr_assert_geq(st.reloads + st.files, st.evictions,
		      "each release used again reopened: %llu reloads, %llu evictions",
		      (unsigned long long)st.reloads, (unsigned long long)st.evictions);
	cr_assert_eq(st.reload_failures, 0);
	cr_assert(st.peak_bytes <= budget || st.loaded == 1);
	cr_assert_lt(st.loaded, nmaps, "all %u modules still loaded", st.loaded);
	/* Unbounded again: everything comes back, still the same answers. */
	am_usym_set_budget(u, 0);
	check_pass(u, pid, probes, n, SIZE_MAX);
	am_usym_free(u);
	am_usym_free(ref);
}

/* The lines of the address R was resolved for, as one string. */
static void lines_of(const struct am_usym_result *r, char *out, size_t size)
{
	struct am_usym_line l[8];
	size_t n = am_usym_lines(r, l, 8), i, len = 0;

	out[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s@%s:%u;",
					l[i].func ? l[i].func : "-", l[i].file ? l[i].file : "?",
					l[i].line);
}

Test(usym_cache, a_released_module_gives_the_same_lines_and_a_spent_budget_skips_them)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	uint32_t pid = (uint32_t)getpid();
	uint64_t addr = (uintptr_t)usym_cache_test_target + 4;
	char before[2048], after[2048];
	struct am_usym_cache_stats st;
	struct am_usym_result r;

	cr_assert_not_null(u);
	cr_assert_eq(am_usym_snapshot(u, pid, 0), 0);
	cr_assert_eq(am_usym_resolve(u, pid, 0, addr, false, &r), 0);
	cr_assert_str_eq(r.func, "usym_cache_test_target");
	lines_of(&r, before, sizeof(before));
	cr_assert(strstr(before, "test_usym_cache.c:"), "no line info: '%s' (built without -g?)",
		  before);
	/* A budget of one byte releases every module. */
	am_usym_set_budget(u, 1);
	am_usym_cache_stats(u, &st);
	cr_assert_eq(st.loaded, 0);
	cr_assert_eq(st.bytes, 0);
	cr_assert_gt(st.evictions, 0);
	/* Spent: the symbol comes back (reopened), its lines are skipped and counted. */
	cr_assert_eq(am_usym_resolve(u, pid, 0, addr, false, &r), 0);
	cr_assert_str_eq(r.func, "usym_cache_test_target");
	lines_of(&r, after, sizeof(after));
	cr_assert_str_eq(after, "");
	am_usym_cache_stats(u, &st);
	cr_assert_gt(st.lines_skipped, 0);
	cr_assert_gt(st.reloads, 0);
	/* Room again: the same lines as before the release. */
	am_usym_set_budget(u, 0);
	cr_assert_eq(am_usym_resolve(u, pid, 0, addr, false, &r), 0);
	lines_of(&r, after, sizeof(after));
	cr_assert_str_eq(after, before);
	am_usym_free(u);
}

Test(usym_cache, trim_drops_the_captures_of_an_exited_process_and_its_files)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_usym_cache_stats st;
	struct am_usym_result r;
	pid_t child = fork();

	cr_assert_geq(child, 0);
	if (!child) {
		pause();
		_exit(0);
	}
	cr_assert_not_null(u);
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)child, 7), 0);
	cr_assert_eq(
	    am_usym_resolve(u, (uint32_t)child, 7, (uintptr_t)usym_cache_test_target, false, &r),
	    0);
	cr_assert_str_eq(r.func, "usym_cache_test_target");
	am_usym_cache_stats(u, &st);
	cr_assert_gt(st.files, 1);
	cr_assert_gt(st.bytes, 0);
	/* Used in this epoch: kept by its end. */
	am_usym_trim(u);
	cr_assert(am_usym_has_gen(u, (uint32_t)child, 7));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* Not used in the next one: gone, with every file only it mapped, and their charge. */
	am_usym_trim(u);
	cr_assert_not(am_usym_has(u, (uint32_t)child));
	am_usym_cache_stats(u, &st);
	cr_assert_eq(st.procs_dropped, 1);
	cr_assert_eq(st.files, 0);
	cr_assert_gt(st.files_dropped, 1);
	cr_assert_eq(st.bytes, 0);
	cr_assert_eq(
	    am_usym_resolve(u, (uint32_t)child, 7, (uintptr_t)usym_cache_test_target, false, &r),
	    -ENOENT);
	am_usym_free(u);
}

/* libc's lines come from its separate debug file, whose compressed DWARF libdw decompresses
 * whole (11 MiB on Debian 12). */
Test(usym_cache, a_debug_file_larger_than_what_is_left_of_the_budget_is_never_read)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	uint32_t pid = (uint32_t)getpid();
	/* libc's own, not a sanitizer's interceptor of the same name. */
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	uint64_t addr = libc ? (uintptr_t)dlsym(libc, "strtol") + 4 : 0;
	char before[2048], after[2048];
	struct am_usym_cache_stats st, st2;
	struct am_usym_result r;

	cr_assert_not_null(u);
	cr_assert_eq(am_usym_snapshot(u, pid, 0), 0);
	cr_assert_eq(am_usym_resolve(u, pid, 0, addr, false, &r), 0);
	cr_assert(r.func && r.map && strstr(r.map->path, "libc"), "libc's strtol not resolved");
	am_usym_cache_stats(u, &st);
	lines_of(&r, before, sizeof(before));
	if (!before[0])
		cr_skip_test("skipped: no line info for libc (needs libc6-dbg)");
	am_usym_cache_stats(u, &st2);
	/* Its decompressed sections are charged (found before libdw decompresses them). */
	cr_assert_gt(st2.bytes - st.bytes, 4u << 20, "libc's DWARF charged %zu bytes",
		     st2.bytes - st.bytes);
	/* Room for what is loaded and 1 MiB more: not for libc's DWARF. */
	am_usym_set_budget(u, st.bytes + (1u << 20));
	cr_assert_eq(am_usym_snapshot(u, pid, 0), 0);
	cr_assert_eq(am_usym_resolve(u, pid, 0, addr, false, &r), 0);
	lines_of(&r, after, sizeof(after));
	cr_assert_str_eq(after, "", "libc's DWARF was read past the budget: %s", after);
	am_usym_cache_stats(u, &st);
	cr_assert_gt(st.lines_skipped, 0);
	cr_assert_leq(st.bytes, st.budget);
	/* No bound: read, the same lines. */
	am_usym_set_budget(u, 0);
	cr_assert_eq(am_usym_resolve(u, pid, 0, addr, false, &r), 0);
	lines_of(&r, after, sizeof(after));
	cr_assert_str_eq(after, before);
	am_usym_free(u);
	dlclose(libc);
}

Test(usym_cache, a_files_lines_done_with_the_budget_spent_release_its_module)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	uint32_t pid = (uint32_t)getpid();
	uint64_t addr = (uintptr_t)usym_cache_test_target + 4;
	struct am_usym_cache_stats st, st2;
	struct am_usym_result r;
	char text[2048];

	cr_assert_not_null(u);
	cr_assert_eq(am_usym_snapshot(u, pid, 0), 0);
	cr_assert_eq(am_usym_resolve(u, pid, 0, addr, false, &r), 0);
	lines_of(&r, text, sizeof(text));
	cr_assert(strstr(text, "test_usym_cache.c:"), "no line info: '%s'", text);
	/* No bound: kept. */
	am_usym_cache_stats(u, &st);
	am_usym_lines_done(u, r.src_file);
	am_usym_cache_stats(u, &st2);
	cr_assert_eq(st2.loaded, st.loaded);
	/* The budget spent exactly: released now, and reopened with its lines on the next use. */
	am_usym_set_budget(u, st.bytes);
	am_usym_lines_done(u, r.src_file);
	am_usym_cache_stats(u, &st2);
	cr_assert_eq(st2.loaded, st.loaded - 1);
	cr_assert_eq(st2.evictions, st.evictions + 1);
	cr_assert_lt(st2.bytes, st.bytes);
	am_usym_set_budget(u, 0);
	cr_assert_eq(am_usym_resolve(u, pid, 0, addr, false, &r), 0);
	cr_assert_str_eq(r.func, "usym_cache_test_target");
	lines_of(&r, text, sizeof(text));
	cr_assert(strstr(text, "test_usym_cache.c:"), "no line info after reopening: '%s'", text);
	am_usym_free(u);
}
