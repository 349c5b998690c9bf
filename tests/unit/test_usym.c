/* User symbolization of this very process: a function of the (PIE) test binary, a libc
 * function with its build-id, a JIT region named by a perf map, [vdso] as unknown with its
 * module, and a capture that outlives a process. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symbolize/usym.h"
#include "testutil.h"

__attribute__((noinline)) int usym_test_target(int x)
{
	return x * 3 + 1;
}

Test(usym, own_function_and_libc)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_usym_result r;
	uintptr_t addr = (uintptr_t)usym_test_target;

	cr_assert_not_null(u);
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)getpid(), 0), 0);
	cr_assert(am_usym_has(u, (uint32_t)getpid()));
	cr_assert_eq(am_usym_resolve(u, (uint32_t)getpid(), 0, addr + 2, false, &r), 0);
	cr_assert_not_null(r.func, "own function not resolved");
	cr_assert_str_eq(r.func, "usym_test_target");
	cr_assert_eq(r.offset, 2);
	cr_assert_not_null(r.map);
	cr_assert(strstr(r.map->path, "test_usym"), "mapping %s", r.map->path);
	cr_assert(r.map->readable);

	/* A libc function through the PLT-resolved address, and the library's build-id. */
	cr_assert_eq(am_usym_resolve(u, (uint32_t)getpid(), 0, (uintptr_t)getppid, false, &r), 0);
	cr_assert_not_null(r.func, "libc function not resolved");
	cr_assert(strstr(r.func, "getppid"), "got %s", r.func);
	cr_assert(strstr(r.map->path, "libc"), "mapping %s", r.map->path);
	cr_assert_eq(strlen(r.map->build_id), 40, "libc build-id '%s'", r.map->build_id);
	cr_assert_eq(am_usym_resolve(u, 1u << 30, 0, addr, false, &r), -ENOENT);
	cr_assert_null(r.func);
	am_usym_free(u);
}

Test(usym, jit_map_and_vdso)
{
	char *dir = am_test_mkdtemp("usym");
	char path[4096], line[256];
	struct am_usym_result r;
	struct am_usym *u;
	unsigned long vdso = 0;
	void *code;
	FILE *f;

	cr_assert_not_null(dir);
	code = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(code, MAP_FAILED);
	snprintf(path, sizeof(path), "%s/perf-%d.map", dir, getpid());
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%lx 100 LazyCompile:~jitted_fn app.js:1\n%lx 80 Stub:other\n",
		(unsigned long)code, (unsigned long)code + 0x100);
	fclose(f);
	u = am_usym_new(NULL, dir);
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)getpid(), 0), 0);
	cr_assert_eq(am_usym_resolve(u, (uint32_t)getpid(), 0, (uintptr_t)code + 0x10, false, &r),
		     0);
	cr_assert(r.jit);
	cr_assert_str_eq(r.func, "LazyCompile:~jitted_fn app.js:1");
	cr_assert_eq(am_usym_resolve(u, (uint32_t)getpid(), 0, (uintptr_t)code + 0x120, false, &r),
		     0);
	cr_assert_str_eq(r.func, "Stub:other");
	cr_assert_eq(am_usym_resolve(u, (uint32_t)getpid(), 0, (uintptr_t)code + 0x1000, false, &r),
		     0);
	cr_assert_null(r.func, "past the JIT symbols");

	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]"))
			vdso = strtoul(line, NULL, 16);
	if (f)
		fclose(f);
	if (vdso) {
		cr_assert_eq(am_usym_resolve(u, (uint32_t)getpid(), 0, vdso + 0x10, false, &r), 0);
		cr_assert_not_null(r.map);
		cr_assert_str_eq(r.map->path, "[vdso]");
		cr_assert_null(r.func);
	}
	am_usym_free(u);
	munmap(code, 8192);
	am_test_rmtree(dir);
	free(dir);
}

/* /tmp is shared: a perf map planted as a link (to a file another user cannot read, say) or a
 * FIFO must not be read by a root agent, nor block it. */
Test(usym, a_planted_jit_map_is_not_read)
{
	char *dir = am_test_mkdtemp("usym");
	char path[4096], target[4096];
	struct am_usym_result r;
	struct am_usym *u;
	void *code;
	FILE *f;

	cr_assert_not_null(dir);
	code = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(code, MAP_FAILED);
	snprintf(target, sizeof(target), "%s/secret", dir);
	f = fopen(target, "w");
	cr_assert_not_null(f);
	fprintf(f, "%lx 100 secret-line\n", (unsigned long)code);
	fclose(f);
	snprintf(path, sizeof(path), "%s/perf-%d.map", dir, getpid());
	cr_assert_eq(symlink(target, path), 0);
	u = am_usym_new(NULL, dir);
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)getpid(), 0), 0);
	cr_assert_eq(am_usym_resolve(u, (uint32_t)getpid(), 0, (uintptr_t)code + 0x10, false, &r),
		     0);
	cr_assert(!r.jit && !r.func, "read through the link: %s", r.func ? r.func : "");
	am_usym_free(u);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkfifo(path, 0600), 0);
	u = am_usym_new(NULL, dir);
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)getpid(), 0), 0); /* returns: no hang */
	am_usym_free(u);
	munmap(code, 8192);
	am_test_rmtree(dir);
	free(dir);
}

Test(usym, capture_outlives_the_process)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	uintptr_t addr = (uintptr_t)usym_test_target;
	struct am_usym_result r;
	int fds[2], st;
	pid_t child;
	char c;

	cr_assert_eq(pipe(fds), 0);
	child = fork();
	if (child == 0) {
		/* Same binary, same addresses: the child waits until it is captured. */
		close(fds[1]);
		if (read(fds[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[0]);
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)child, 0), 0);
	close(fds[1]);
	cr_assert_eq(waitpid(child, &st, 0), child);
	cr_assert_eq(am_usym_resolve(u, (uint32_t)child, 0, addr, false, &r), 0);
	cr_assert_not_null(r.func, "exited process lost its symbols");
	cr_assert_str_eq(r.func, "usym_test_target");
	cr_assert_eq(am_usym_snapshot(u, 0x7ffffff0u, 0), -ESRCH);
	am_usym_free(u);
}

Test(usym, generations_are_kept_apart_and_forgotten)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	uint32_t self = (uint32_t)getpid();
	struct am_usym_result r;

	cr_assert_eq(am_usym_snapshot(u, self, 7), 0);
	cr_assert_eq(am_usym_snapshot(u, self, 7), 0, "same generation: kept as it is");
	cr_assert_eq(am_usym_snapshot(u, self, 8), 0);
	/* An uncaptured generation falls back to the most recent capture. */
	cr_assert_eq(am_usym_resolve(u, self, 99, (uintptr_t)usym_test_target, false, &r), 0);
	cr_assert_str_eq(r.func, "usym_test_target");
	am_usym_forget(u, self);
	cr_assert(!am_usym_has(u, self));
	cr_assert_eq(am_usym_resolve(u, self, 7, (uintptr_t)usym_test_target, false, &r), -ENOENT);
	am_usym_free(u);
}
