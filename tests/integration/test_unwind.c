/* The DWARF unwinder over real stacks copied without BPF: a child stopped with ptrace, its
 * registers and the top 8 or 32 KiB of its stack read as the profiler's BPF program copies them,
 * unwound with the binaries' CFI and symbolized. The workload is built without frame pointers
 * (nofp_chain); Debian's own xz is sampled at random points. ptrace of a child needs no root,
 * but a kernel that forbids it (Yama scope 3, seccomp) makes these tests skip with the reason. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ptrace_stack.h"
#include "symbolize/unwind.h"
#include "symbolize/usym.h"
#include "testutil.h"

#define CHAIN	   AM_TEST_BUILD_DIR "/tests/workloads/nofp_chain"
#define MAX_FRAMES 128

struct walk {
	uint64_t pcs[MAX_FRAMES];
	const char *names[MAX_FRAMES]; /* NULL when unknown */
	int n;
	enum am_unwind_stop stop;
};

/* Start nofp_chain in MODE and wait until it spins in its leaf; the child is seized. */
static pid_t start_chain(const char *mode, char **dir)
{
	char *argv[] = {CHAIN, (char *)mode, NULL}, out[4200];
	pid_t pid;
	int err;

	*dir = am_test_mkdtemp("unwind");
	pid = am_test_spawn(argv, *dir);
	cr_assert_gt(pid, 0);
	snprintf(out, sizeof(out), "%s/out.txt", *dir);
	cr_assert(am_test_wait_file_text(out, "ready", 10000, pid), "nofp_chain never got ready");
	err = am_test_ptrace_seize(pid);
	if (err) {
		am_test_reap(pid);
		cr_skip_test("skipped: ptrace of a child refused here: %s", strerror(-err));
	}
	return pid;
}

static void finish(pid_t pid, char *dir)
{
	am_test_reap(pid);
	am_test_rmtree(dir);
	free(dir);
}

/* Unwind S of (PID, GEN) and symbolize each frame (return addresses as such). */
static void unwind_and_name(struct am_usym *u, struct am_unwinder *w, uint32_t pid, uint64_t gen,
			    const struct am_test_stack *s, size_t len, struct walk *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	out->n = am_unwind(w, pid, gen, &s->regs, s->bytes, len, out->pcs, MAX_FRAMES, &out->stop);
	cr_assert_geq(out->n, 0);
	for (i = 0; i < out->n; i++) {
		struct am_usym_result r;

		if (!am_usym_resolve(u, pid, gen, out->pcs[i], i > 0, &r))
			out->names[i] = r.func;
	}
}

static void print_walk(const struct walk *wk)
{
	for (int i = 0; i < wk->n; i++)
		fprintf(stderr, "  #%d %#lx %s\n", i, (unsigned long)wk->pcs[i],
			wk->names[i] ? wk->names[i] : "?");
	fprintf(stderr, "  stop: %s\n", am_unwind_stop_name(wk->stop));
}

/* Index of the first frame at or after FROM named NAME, or -1. */
static int find_frame(const struct walk *wk, int from, const char *name)
{
	for (int i = from; i < wk->n; i++)
		if (wk->names[i] && !strcmp(wk->names[i], name))
			return i;
	return -1;
}

/* NAMES appear in WK in this order (others may lie between), and the walk reached the entry. */
static void expect_chain(const struct walk *wk, const char *const *names, size_t n)
{
	int at = 0;

	for (size_t i = 0; i < n; i++) {
		int k = find_frame(wk, at, names[i]);

		if (k < 0)
			print_walk(wk);
		cr_assert_geq(k, 0, "frame %s missing (or out of order)", names[i]);
		at = k + 1;
	}
	if (wk->stop != AM_UNWIND_END)
		print_walk(wk);
	cr_assert_eq(wk->stop, AM_UNWIND_END, "stopped: %s", am_unwind_stop_name(wk->stop));
}

/* The libc frames below main carry names only with libc's symbols (libc6-dbg on Debian). */
static bool libc_has_local_symbols(struct am_usym *u, const struct walk *wk)
{
	(void)u;
	for (int i = 0; i < wk->n; i++)
		if (wk->names[i] && !strcmp(wk->names[i], "__libc_start_call_main"))
			return true;
	return false;
}

static void chain_test(const char *mode, size_t len, const char *const *names, size_t n)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	struct am_test_stack s;
	struct walk wk;
	char *dir;
	pid_t pid = start_chain(mode, &dir);

	cr_assert_not_null(w);
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)pid, 1), 0);
	for (int round = 0; round < 5; round++) { /* a few random points in the leaf */
		cr_assert_eq(am_test_ptrace_stop(pid), 0);
		cr_assert_eq(am_test_stack_capture(pid, len, &s), 0);
		/* Short only where the stack's mapping ends (main's frame is near its top). */
		cr_assert(s.len == len || (s.regs.r[AM_UNWIND_REG_SP] + s.len) % 4096 == 0,
			  "copied %zu of %zu bytes", s.len, len);
		unwind_and_name(u, w, (uint32_t)pid, 1, &s, s.len, &wk);
		if (getenv("AM_TEST_VERBOSE"))
			print_walk(&wk);
		cr_assert_str_eq(wk.names[0] ? wk.names[0] : "?", "chain_leaf");
		expect_chain(&wk, names, n);
		if (libc_has_local_symbols(u, &wk))
			cr_assert_geq(find_frame(&wk, 0, "__libc_start_call_main"),
				      find_frame(&wk, 0, "main"));
		else
			fprintf(stderr, "note: libc's local symbols are not installed\n");
		am_test_stack_free(&s);
		cr_assert_eq(am_test_ptrace_cont(pid), 0);
	}
	am_unwinder_free(w);
	am_usym_free(u);
	finish(pid, dir);
}

Test(unwind, chain_without_frame_pointers_reaches_the_entry_8k)
{
	const char *names[] = {"chain_leaf", "chain_c", "chain_b", "chain_a", "main", "_start"};

	chain_test("direct", 8192, names, 6);
}

Test(unwind, chain_through_libc_qsort_reaches_the_entry_32k)
{
	const char *names[] = {"chain_leaf", "chain_c", "chain_b", "chain_a",
			       "cmp",	     "main",	"_start"};

	chain_test("qsort", 32768, names, 7);
}

/* Every shorter copy gives a prefix of the whole walk, stopped as truncated, and longer copies
 * never give fewer frames. */
Test(unwind, short_copy_is_truncated_with_the_frames_before_it_right)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	struct walk full, cut;
	struct am_test_stack s;
	int last = 0, truncs = 0;
	char *dir;
	pid_t pid = start_chain("qsort", &dir);

	cr_assert_eq(am_usym_snapshot(u, (uint32_t)pid, 1), 0);
	cr_assert_eq(am_test_ptrace_stop(pid), 0);
	cr_assert_eq(am_test_stack_capture(pid, 8192, &s), 0);
	unwind_and_name(u, w, (uint32_t)pid, 1, &s, s.len, &full);
	cr_assert_eq(full.stop, AM_UNWIND_END);
	for (size_t len = 0; len <= 1024; len += 8) {
		unwind_and_name(u, w, (uint32_t)pid, 1, &s, len, &cut);
		cr_assert_geq(cut.n, 1);
		cr_assert_geq(cut.n, last, "a longer copy (%zu) gave fewer frames", len);
		cr_assert_leq(cut.n, full.n);
		cr_assert_arr_eq(cut.pcs, full.pcs, (size_t)cut.n * sizeof(cut.pcs[0]));
		if (cut.n < full.n) {
			cr_assert_eq(cut.stop, AM_UNWIND_TRUNCATED, "len %zu: %s", len,
				     am_unwind_stop_name(cut.stop));
			truncs++;
		} else {
			cr_assert_eq(cut.stop, AM_UNWIND_END);
		}
		last = cut.n;
	}
	cr_assert_gt(truncs, 3);
	cr_assert_eq(last, full.n, "1 KiB did not hold the whole stack");
	/* A copy of nothing still gives the sampled pc. */
	unwind_and_name(u, w, (uint32_t)pid, 1, &s, 0, &cut);
	cr_assert_eq(cut.pcs[0], s.regs.r[AM_UNWIND_REG_IP]);
	am_test_stack_free(&s);
	am_unwinder_free(w);
	am_usym_free(u);
	finish(pid, dir);
}

/* A frame limit below the stack's depth stops at the limit with the innermost frames. */
Test(unwind, frame_limit_stops_with_max)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	struct am_test_stack s;
	enum am_unwind_stop stop;
	uint64_t pcs[3];
	struct walk full;
	char *dir;
	pid_t pid = start_chain("direct", &dir);

	cr_assert_eq(am_usym_snapshot(u, (uint32_t)pid, 1), 0);
	cr_assert_eq(am_test_ptrace_stop(pid), 0);
	cr_assert_eq(am_test_stack_capture(pid, 8192, &s), 0);
	unwind_and_name(u, w, (uint32_t)pid, 1, &s, s.len, &full);
	cr_assert_gt(full.n, 3);
	cr_assert_eq(am_unwind(w, (uint32_t)pid, 1, &s.regs, s.bytes, s.len, pcs, 3, &stop), 3);
	cr_assert_eq(stop, AM_UNWIND_MAX);
	cr_assert_arr_eq(pcs, full.pcs, sizeof(pcs));
	cr_assert_eq(am_unwind(w, (uint32_t)pid, 1, &s.regs, s.bytes, s.len, full.pcs,
			       (unsigned)full.n, &stop),
		     full.n);
	cr_assert_eq(stop, AM_UNWIND_END, "exactly enough room is not the limit");
	am_test_stack_free(&s);
	am_unwinder_free(w);
	am_usym_free(u);
	finish(pid, dir);
}

/* The process's mappings as the kernel's MMAP2 records would give them (from /proc/PID/maps
 * while it lives), for a capture after it exited. */
static size_t read_rec_maps(pid_t pid, struct am_usym_rec_map *maps, size_t cap)
{
	char path[64], line[4608], perms[8], file[4352];
	unsigned long long start, end, pgoff, ino;
	unsigned maj, min;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (n < cap && fgets(line, sizeof(line), f)) {
		int off = 0;

		file[0] = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff,
			   &maj, &min, &ino, &off) < 7 ||
		    !strchr(perms, 'x'))
			continue;
		snprintf(file, sizeof(file), "%s", line + off);
		file[strcspn(file, "\n")] = '\0';
		maps[n] = (struct am_usym_rec_map){.start = start,
						   .end = end,
						   .pgoff = pgoff,
						   .path = strdup(file),
						   .build_id = "",
						   .ino = ino};
		n++;
	}
	fclose(f);
	return n;
}

Test(unwind, exited_process_unwinds_from_recorded_mappings)
{
	struct am_usym_rec_map maps[64];
	struct am_usym *live = am_usym_new(NULL, NULL), *u;
	struct am_unwinder *w;
	struct am_test_stack s;
	struct walk before, after;
	const char *names[] = {"chain_leaf", "chain_c", "chain_b", "chain_a", "main", "_start"};
	char *dir;
	pid_t pid = start_chain("direct", &dir);
	size_t n;

	cr_assert_eq(am_test_ptrace_stop(pid), 0);
	cr_assert_eq(am_test_stack_capture(pid, 8192, &s), 0);
	n = read_rec_maps(pid, maps, 64);
	cr_assert_gt(n, 2);
	w = am_unwinder_new(live);
	cr_assert_eq(am_usym_snapshot(live, (uint32_t)pid, 7), 0);
	unwind_and_name(live, w, (uint32_t)pid, 7, &s, s.len, &before);
	am_unwinder_free(w);
	finish(pid, dir);

	u = am_usym_new(NULL, NULL);
	w = am_unwinder_new(u);
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)pid, 7), -ESRCH, "the process is gone");
	cr_assert_eq(am_usym_capture_maps(u, (uint32_t)pid, 7, maps, n, NULL), (int)n);
	unwind_and_name(u, w, (uint32_t)pid, 7, &s, s.len, &after);
	expect_chain(&after, names, 6);
	cr_assert_eq(after.n, before.n);
	cr_assert_arr_eq(after.pcs, before.pcs, (size_t)after.n * sizeof(after.pcs[0]));
	for (size_t i = 0; i < n; i++)
		free((char *)maps[i].path);
	am_test_stack_free(&s);
	am_unwinder_free(w);
	am_usym_free(u);
	am_usym_free(live);
}

__attribute__((noinline)) int unwind_test_callee(int x)
{
	return x * 5 + 2;
}

/* A pc in anonymous executable memory (a JIT's code) has no CFI: the walk stops there, with
 * that pc as its last frame, whether it is the sampled pc or a return address. */
Test(unwind, anonymous_executable_memory_has_no_cfi)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	uint32_t self = (uint32_t)getpid();
	struct am_unwind_regs regs = {0};
	enum am_unwind_stop stop;
	uint64_t pcs[8], stack[4];
	uint8_t *code;

	code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(code, MAP_FAILED);
	cr_assert_eq(am_usym_snapshot(u, self, 0), 0);
	/* Sampled inside the JIT code. */
	regs.r[AM_UNWIND_REG_IP] = (uintptr_t)code + 0x40;
	regs.r[AM_UNWIND_REG_SP] = (uintptr_t)stack;
	cr_assert_eq(am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 8, &stop), 1);
	cr_assert_eq(stop, AM_UNWIND_NO_CFI);
	cr_assert_eq(pcs[0], (uintptr_t)code + 0x40);
	/* Sampled at the first instruction of a compiled function called from JIT code: its
	 * return address is the JIT's, the next frame. */
	regs.r[AM_UNWIND_REG_IP] = (uintptr_t)unwind_test_callee;
	stack[0] = (uintptr_t)code + 0x80;
	cr_assert_eq(am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 8, &stop), 2);
	cr_assert_eq(stop, AM_UNWIND_NO_CFI);
	cr_assert_eq(pcs[1], (uintptr_t)code + 0x80);
	/* A pc in no mapping at all, and garbage beyond user space. */
	regs.r[AM_UNWIND_REG_IP] = 0x10;
	cr_assert_eq(am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 8, &stop), 1);
	cr_assert_eq(stop, AM_UNWIND_NO_CFI);
	regs.r[AM_UNWIND_REG_IP] = 0xffffffff81000000ull;
	cr_assert_eq(am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 8, &stop), 0);
	cr_assert_eq(stop, AM_UNWIND_FAILED);
	munmap(code, 4096);
	am_unwinder_free(w);
	am_usym_free(u);
}

/* A garbage stack whose every word is a "return address" into the same function: each frame
 * is 8 bytes above the last, so the walk is bounded by the frame limit alone. */
Test(unwind, garbage_stack_is_bounded_by_the_frame_limit)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	uint32_t self = (uint32_t)getpid();
	struct am_unwind_regs regs = {0};
	enum am_unwind_stop stop;
	uint64_t pcs[128], stack[64];

	cr_assert_eq(am_usym_snapshot(u, self, 0), 0);
	for (size_t i = 0; i < 64; i++)
		stack[i] = (uintptr_t)unwind_test_callee + 1;
	regs.r[AM_UNWIND_REG_IP] = (uintptr_t)unwind_test_callee;
	regs.r[AM_UNWIND_REG_SP] = (uintptr_t)stack;
	cr_assert_eq(am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 8, &stop), 8);
	cr_assert_eq(stop, AM_UNWIND_MAX);
	/* With room for all, the copy's end is reached first: one frame per word, and the
	 * sampled one. */
	cr_assert_eq(am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 128, &stop), 65);
	cr_assert_eq(stop, AM_UNWIND_TRUNCATED);
	am_unwinder_free(w);
	am_usym_free(u);
}

/* A frame whose CFA (rbp + 16 in a frame-pointer function of this test binary) lies below
 * the sampled sp: the caller cannot be there, the walk fails rather than going down. */
Test(unwind, caller_below_the_callee_fails)
{
	static const uint8_t prologue[] = {0x55, 0x48, 0x89, 0xe5}; /* push rbp; mov rsp,rbp */
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	const uint8_t *f = (const uint8_t *)(uintptr_t)unwind_test_callee;
	uint32_t self = (uint32_t)getpid();
	struct am_unwind_regs regs = {0};
	enum am_unwind_stop stop;
	uint64_t pcs[8], stack[64] = {0};
	size_t at;

	for (at = 0; at < 8 && memcmp(f + at, prologue, sizeof(prologue)); at++)
		;
	if (at == 8)
		cr_skip_test("skipped: unwind_test_callee has no frame-pointer prologue");
	cr_assert_eq(am_usym_snapshot(u, self, 0), 0);
	regs.r[AM_UNWIND_REG_IP] = (uintptr_t)f + at + sizeof(prologue);
	regs.r[AM_UNWIND_REG_SP] = (uintptr_t)&stack[8];
	regs.r[6] = (uintptr_t)&stack[0]; /* rbp below sp */
	cr_assert_eq(am_unwind(w, self, 0, &regs, &stack[8], 8 * 56, pcs, 8, &stop), 1);
	cr_assert_eq(stop, AM_UNWIND_FAILED, "%s", am_unwind_stop_name(stop));
	/* The same frame with rbp where the function put it unwinds one frame further. */
	stack[9] = 0x1234; /* saved rbp */
	stack[10] = (uintptr_t)unwind_test_callee + 1;
	regs.r[6] = (uintptr_t)&stack[9];
	cr_assert_geq(am_unwind(w, self, 0, &regs, &stack[8], 8 * 56, pcs, 2, &stop), 2);
	cr_assert_eq(pcs[1], (uintptr_t)unwind_test_callee + 1);
	am_unwinder_free(w);
	am_usym_free(u);
}
