/* The DWARF unwinder over real stacks copied without BPF: a child stopped with ptrace, its
 * registers and the top 8 or 32 KiB of its stack read as the profiler's BPF program copies them,
 * unwound with the binaries' CFI and symbolized. The workload is built without frame pointers
 * (nofp_chain); Debian's own xz is sampled at random points. ptrace of a child needs no root,
 * but a kernel that forbids it (Yama scope 3, seccomp) makes these tests skip with the reason. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <sys/auxv.h>
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

/* A signal handler's stack: through the kernel's signal frame (libc's __restore_rt, whose CFI
 * reads the interrupted registers from the saved context) to the interrupted function, whose
 * pc is exact, not a return address. */
Test(unwind, signal_handler_unwinds_through_the_signal_frame)
{
	const char *names[] = {"chain_leaf", "chain_c",	  "chain_b", "chain_a",
			       "on_alarm",   "main_spin", "main",    "_start"};

	chain_test("signal", 8192, names, 8);
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

__attribute__((noinline)) int unwind_test_leaf(int x)
{
	return x * 5 + 2;
}

/* Not a leaf: GCC leaves the frame-pointer prologue out of leaf functions even with
 * -fno-omit-frame-pointer, and caller_below_the_callee_fails needs it. */
__attribute__((noinline)) int unwind_test_callee(int x)
{
	return unwind_test_leaf(x) + 1;
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

/* Fork and exec ARGV with stdin from IN and stdout to /dev/null, seized by ptrace. */
static pid_t start_filter(char *const argv[], const char *in)
{
	pid_t pid = fork();
	int err;

	cr_assert_geq(pid, 0);
	if (!pid) {
		int fd = open(in, O_RDONLY), null = open("/dev/null", O_WRONLY);

		if (fd < 0 || null < 0 || dup2(fd, 0) < 0 || dup2(null, 1) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	err = am_test_ptrace_seize(pid);
	if (err) {
		am_test_reap(pid);
		cr_skip_test("skipped: ptrace of a child refused here: %s", strerror(-err));
	}
	return pid;
}

/* Random bytes (incompressible: the compressor works on all of them) in DIR/in. */
static void random_file(const char *path, size_t size)
{
	FILE *f = fopen(path, "w");
	uint8_t buf[65536];
	uint64_t x = 88172645463325252ull;

	cr_assert_not_null(f);
	for (size_t done = 0; done < size; done += sizeof(buf)) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		cr_assert_eq(fwrite(buf, 1, sizeof(buf), f), sizeof(buf));
	}
	fclose(f);
}

/* Stop PID at random points, unwind each stop's copy at 8 and 32 KiB, report the shares and
 * assert that at least MIN_PCT of the stops reach the entry with 8 KiB. */
static void sample_program(const char *name, pid_t pid, unsigned min_pct)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	unsigned stops = 0, end8 = 0, end32 = 0, entry8 = 0, frames8 = 0;
	unsigned why8[AM_UNWIND_NSTOPS] = {0};

	am_test_sleep_ms(100); /* past the loader: the program and its libraries mapped */
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)pid, 1), 0);
	srand(12345);
	for (int i = 0; i < 60; i++) {
		struct am_test_stack s;
		struct walk wk8, wk32;

		am_test_sleep_ms(5 + rand() % 30);
		if (am_test_ptrace_stop(pid))
			break; /* finished */
		cr_assert_eq(am_test_stack_capture(pid, 32768, &s), 0);
		unwind_and_name(u, w, (uint32_t)pid, 1, &s, s.len < 8192 ? s.len : 8192, &wk8);
		unwind_and_name(u, w, (uint32_t)pid, 1, &s, s.len, &wk32);
		stops++;
		why8[wk8.stop]++;
		frames8 += (unsigned)wk8.n;
		end8 += wk8.stop == AM_UNWIND_END;
		end32 += wk32.stop == AM_UNWIND_END;
		entry8 += find_frame(&wk8, 0, "__libc_start_call_main") >= 0;
		cr_assert_geq(wk32.n, wk8.n);
		if ((wk8.stop != AM_UNWIND_END || i % 20 == 0) && getenv("AM_TEST_VERBOSE"))
			print_walk(&wk8);
		am_test_stack_free(&s);
		if (am_test_ptrace_cont(pid))
			break;
	}
	fprintf(stderr,
		"%s: %u stops; 8 KiB: %u reach the end (%u name __libc_start_call_main), "
		"%.1f frames a stack, stops: end %u, truncated %u, no CFI %u, limit %u, failed "
		"%u; 32 KiB: %u reach the end\n",
		name, stops, end8, entry8, stops ? (double)frames8 / stops : 0.0,
		why8[AM_UNWIND_END], why8[AM_UNWIND_TRUNCATED], why8[AM_UNWIND_NO_CFI],
		why8[AM_UNWIND_MAX], why8[AM_UNWIND_FAILED], end32);
	cr_assert_geq(stops, 30, "%s finished too early", name);
	cr_assert_geq(end8 * 100, stops * min_pct, "only %u of %u stops reached the entry", end8,
		      stops);
	cr_assert_geq(end32, end8);
	am_unwinder_free(w);
	am_usym_free(u);
}

/* Debian's own xz, built without frame pointers, stopped at random points while it compresses:
 * most stops unwind to the process entry with 8 KiB of stack (perf --call-graph dwarf reaches
 * it in 81% of the same program's samples), and 32 KiB never does worse. */
Test(unwind, debian_xz_stopped_at_random_points_reaches_the_entry, .timeout = 120)
{
	char *dir = am_test_mkdtemp("unwind-xz"), in[4200];
	char *argv[] = {"/usr/bin/xz", "-6", "-T1", "-c", NULL};
	pid_t pid;

	if (access(argv[0], X_OK))
		cr_skip_test("skipped: %s is not installed", argv[0]);
	snprintf(in, sizeof(in), "%s/in", dir);
	random_file(in, 48u << 20);
	pid = start_filter(argv, in);
	sample_program("xz", pid, 80);
	am_test_reap(pid);
	am_test_rmtree(dir);
	free(dir);
}

/* Debian's python3 (no frame pointers either) running recursive Python code: the
 * interpreter's C frames unwind to the entry. */
Test(unwind, debian_python3_stopped_at_random_points_reaches_the_entry, .timeout = 120)
{
	char *argv[] = {"/usr/bin/python3", "-c",
			"def f(n):\n"
			"    return f(n - 1) if n else sum(i * i for i in range(20000))\n"
			"while True:\n"
			"    f(40)\n",
			NULL};
	pid_t pid;

	if (access(argv[0], X_OK))
		cr_skip_test("skipped: %s is not installed", argv[0]);
	pid = start_filter(argv, "/dev/null");
	sample_program("python3", pid, 80);
	am_test_reap(pid);
}

/* This process's vDSO function NAME, or 0. */
static uintptr_t vdso_function(const char *name)
{
	uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR), found = 0;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Shdr *sh;

	if (!base)
		return 0;
	sh = (const Elf64_Shdr *)(base + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum && !found; i++) {
		const Elf64_Sym *sym = (const Elf64_Sym *)(base + sh[i].sh_offset);
		const char *str = (const char *)(base + sh[sh[i].sh_link].sh_offset);

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++)
			if (!strcmp(str + sym[k].st_name, name) && sym[k].st_value)
				found = base + sym[k].st_value;
	}
	return found;
}

/* A sample in the vDSO (clock_gettime, called very often): its CFI comes from the image the
 * kernel maps into every process, and the walk goes on to its caller. */
Test(unwind, vdso_frame_unwinds_to_its_caller)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	uintptr_t fn = vdso_function("__vdso_clock_gettime");
	uint32_t self = (uint32_t)getpid();
	struct am_unwind_regs regs = {0};
	enum am_unwind_stop stop;
	uint64_t pcs[8], stack[4] = {0};
	int n;

	if (!fn)
		cr_skip_test("skipped: no vDSO with __vdso_clock_gettime here");
	cr_assert_eq(am_usym_snapshot(u, self, 0), 0);
	/* At its first instruction, called from unwind_test_callee, which was called from the
	 * entry (a zero return address). */
	regs.r[AM_UNWIND_REG_IP] = fn;
	regs.r[AM_UNWIND_REG_SP] = (uintptr_t)stack;
	stack[0] = (uintptr_t)unwind_test_callee + 1;
	n = am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 8, &stop);
	cr_assert_eq(n, 2, "%d frames, stop %s", n, am_unwind_stop_name(stop));
	cr_assert_eq(pcs[1], (uintptr_t)unwind_test_callee + 1);
	cr_assert_eq(stop, AM_UNWIND_END);
	am_unwinder_free(w);
	am_usym_free(u);
}

/* JIT code has no CFI but keeps frame pointers: from a pc in anonymous executable memory, a
 * plausible rbp chain leads to the caller, counted as a frame-pointer frame; an implausible
 * one (rbp below sp, or a return address in no mapping) leaves the walk at NO_CFI. */
Test(unwind, frame_pointer_step_through_jit_code_is_counted)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	uint32_t self = (uint32_t)getpid();
	struct am_unwind_regs regs = {0};
	struct am_unwind_stats st;
	enum am_unwind_stop stop;
	uint64_t pcs[8], stack[8] = {0};
	uint8_t *code;
	int n;

	code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(code, MAP_FAILED);
	cr_assert_eq(am_usym_snapshot(u, self, 0), 0);
	/* JIT frame: saved rbp and return address at stack[2..3]; the compiled caller
	 * (unwind_test_callee's first instruction + 1) returns to 0: the entry. */
	regs.r[AM_UNWIND_REG_IP] = (uintptr_t)code + 0x40;
	regs.r[AM_UNWIND_REG_SP] = (uintptr_t)stack;
	regs.r[6] = (uintptr_t)&stack[2];
	stack[2] = 0;
	stack[3] = (uintptr_t)unwind_test_callee + 1;
	n = am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 8, &stop);
	cr_assert_eq(n, 2, "%d frames, stop %s", n, am_unwind_stop_name(stop));
	cr_assert_eq(pcs[1], (uintptr_t)unwind_test_callee + 1);
	cr_assert_eq(stop, AM_UNWIND_END);
	am_unwinder_stats(w, &st);
	cr_assert_eq(st.fp_frames, 1);
	cr_assert_eq(st.walks, 1);
	cr_assert_eq(st.frames, 2);
	cr_assert_eq(st.stops[AM_UNWIND_END], 1);
	/* A return address in no mapping: not a frame. */
	stack[3] = 0x1000;
	cr_assert_eq(am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 8, &stop), 1);
	cr_assert_eq(stop, AM_UNWIND_NO_CFI);
	/* rbp below sp: not this frame's. */
	stack[3] = (uintptr_t)unwind_test_callee + 1;
	regs.r[AM_UNWIND_REG_SP] = (uintptr_t)&stack[4];
	cr_assert_eq(am_unwind(w, self, 0, &regs, &stack[4], 4 * 8, pcs, 8, &stop), 1);
	cr_assert_eq(stop, AM_UNWIND_NO_CFI);
	am_unwinder_stats(w, &st);
	cr_assert_eq(st.fp_frames, 1);
	cr_assert_eq(st.stops[AM_UNWIND_NO_CFI], 2);
	munmap(code, 4096);
	am_unwinder_free(w);
	am_usym_free(u);
}

/* Run BIN (a nofp_chain build) in direct mode until it spins, seized. */
static pid_t start_bin(const char *bin, const char *dir)
{
	char *argv[] = {(char *)bin, "direct", NULL}, out[4200];
	pid_t pid = am_test_spawn(argv, dir);
	int err;

	cr_assert_gt(pid, 0);
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	cr_assert(am_test_wait_file_text(out, "ready", 10000, pid), "%s never got ready", bin);
	err = am_test_ptrace_seize(pid);
	if (err) {
		am_test_reap(pid);
		cr_skip_test("skipped: ptrace of a child refused here: %s", strerror(-err));
	}
	cr_assert_eq(am_test_ptrace_stop(pid), 0);
	return pid;
}

/* Unwind the stopped PID with U and expect the whole chain. */
static void expect_whole_chain(struct am_usym *u, pid_t pid, const struct am_test_stack *s)
{
	const char *names[] = {"chain_leaf", "chain_c", "chain_b", "chain_a", "main", "_start"};
	struct am_unwinder *w = am_unwinder_new(u);
	struct walk wk;

	cr_assert_eq(am_usym_snapshot(u, (uint32_t)pid, 1), 0);
	unwind_and_name(u, w, (uint32_t)pid, 1, s, s->len, &wk);
	expect_chain(&wk, names, 6);
	am_unwinder_free(w);
}

/* Functions whose CFI is in .debug_frame only (built without unwind tables): found there, in
 * the file itself or, once stripped, in its separate debug file by build-id. */
Test(unwind, debug_frame_in_the_file_or_a_separate_debug_file)
{
	const char *bin = AM_TEST_BUILD_DIR "/tests/workloads/nofp_chain_dwarf";
	char *dir = am_test_mkdtemp("unwind-dbg"), cmd[16384], dbg[4200], stripped[4200];
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	struct am_usym_result r;
	struct am_test_stack s;
	struct walk wk;
	pid_t pid;

	if (system("command -v objcopy >/dev/null && command -v strip >/dev/null"))
		cr_skip_test("skipped: binutils (objcopy, strip) not installed");
	/* In the file itself. */
	pid = start_bin(bin, dir);
	cr_assert_eq(am_test_stack_capture(pid, 8192, &s), 0);
	expect_whole_chain(u, pid, &s);
	am_test_stack_free(&s);
	am_test_reap(pid);

	/* Stripped of it: no CFI for the leaf; with the debug file by build-id: whole again. */
	snprintf(stripped, sizeof(stripped), "%s/bin", dir);
	snprintf(dbg, sizeof(dbg), "%s/dbg", dir);
	snprintf(cmd, sizeof(cmd), "strip --strip-debug -o %s %s", stripped, bin);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	pid = start_bin(stripped, dir);
	cr_assert_eq(am_test_stack_capture(pid, 8192, &s), 0);
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)pid, 2), 0);
	unwind_and_name(u, w, (uint32_t)pid, 2, &s, s.len, &wk);
	cr_assert_eq(wk.stop, AM_UNWIND_NO_CFI, "stripped: %s", am_unwind_stop_name(wk.stop));
	cr_assert_eq(find_frame(&wk, 0, "chain_c"), -1);
	cr_assert_eq(am_usym_resolve(u, (uint32_t)pid, 2, s.regs.r[AM_UNWIND_REG_IP], false, &r),
		     0);
	cr_assert_eq(strlen(r.map->build_id), 40);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/.build-id/%.2s && objcopy --only-keep-debug %s "
		 "%s/.build-id/%.2s/%s.debug",
		 dbg, r.map->build_id, bin, dbg, r.map->build_id, r.map->build_id + 2);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	am_unwinder_free(w);
	am_usym_free(u);
	u = am_usym_new(NULL, NULL);
	cr_assert_eq(am_usym_set_debuginfo_path(u, dbg), 0);
	expect_whole_chain(u, pid, &s);
	am_test_stack_free(&s);
	am_test_reap(pid);
	am_usym_free(u);
	am_test_rmtree(dir);
	free(dir);
}

/* Random registers and stacks whose words are mostly pcs inside this process's code (the most
 * dangerous garbage: every step finds CFI): every walk ends within its limit, with a reason,
 * without reading outside the copy (the sanitizer build checks that). */
Test(unwind, random_stacks_end_within_bounds)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	uint32_t self = (uint32_t)getpid();
	const uintptr_t code[] = {(uintptr_t)unwind_test_callee, (uintptr_t)memcpy,
				  (uintptr_t)qsort, (uintptr_t)am_unwind};
	unsigned stops[AM_UNWIND_NSTOPS] = {0};
	uint64_t x = 0x9e3779b97f4a7c15ull, stack[256], pcs[64];
	struct am_unwind_regs regs;

	cr_assert_eq(am_usym_snapshot(u, self, 0), 0);
	for (int i = 0; i < 5000; i++) {
		enum am_unwind_stop stop;
		size_t len;
		int n;

		for (size_t k = 0; k < 256 + AM_UNWIND_NREGS; k++) {
			uint64_t v;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			switch (x % 4) {
			case 0:
				v = code[(x >> 8) % 4] + (x >> 16) % 512;
				break;
			case 1:
				v = (uintptr_t)stack + (x >> 8) % sizeof(stack);
				break;
			case 2:
				v = x;
				break;
			default:
				v = (x >> 8) % 4096;
				break;
			}
			if (k < 256)
				stack[k] = v;
			else
				regs.r[k - 256] = v;
		}
		regs.r[AM_UNWIND_REG_IP] = code[x % 4] + (x >> 20) % 256;
		regs.r[AM_UNWIND_REG_SP] = (uintptr_t)stack;
		len = (x >> 32) % sizeof(stack);
		n = am_unwind(w, self, 0, &regs, stack, len, pcs, 64, &stop);
		cr_assert(n >= 1 && n <= 64);
		cr_assert_lt((unsigned)stop, AM_UNWIND_NSTOPS);
		stops[stop]++;
	}
	fprintf(stderr,
		"random stacks: end %u, truncated %u, no CFI %u, limit %u, failed %u (of 5000)\n",
		stops[AM_UNWIND_END], stops[AM_UNWIND_TRUNCATED], stops[AM_UNWIND_NO_CFI],
		stops[AM_UNWIND_MAX], stops[AM_UNWIND_FAILED]);
	am_unwinder_free(w);
	am_usym_free(u);
}

/* The address of section NAME of this test binary, loaded; 0 when it has none. */
static uintptr_t own_section(const char *name)
{
	char strtab[4096];
	Elf64_Ehdr eh;
	Elf64_Shdr sh, str;
	uintptr_t found = 0, bias = 0;
	int fd = open("/proc/self/exe", O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &eh, sizeof(eh), 0), (ssize_t)sizeof(eh));
	cr_assert_eq(pread(fd, &str, sizeof(str), (off_t)(eh.e_shoff + eh.e_shstrndx * sizeof(sh))),
		     (ssize_t)sizeof(str));
	memset(strtab, 0, sizeof(strtab));
	cr_assert_gt(pread(fd, strtab, sizeof(strtab) - 1, (off_t)str.sh_offset), 0);
	for (unsigned i = 0; i < eh.e_shnum && !found; i++) {
		cr_assert_eq(pread(fd, &sh, sizeof(sh), (off_t)(eh.e_shoff + i * sizeof(sh))),
			     (ssize_t)sizeof(sh));
		if (sh.sh_name < sizeof(strtab) && !strcmp(strtab + sh.sh_name, name))
			found = sh.sh_addr;
	}
	close(fd);
	/* PIE: the load bias is where the first program header says the ELF header is. */
	if (eh.e_type == ET_DYN)
		bias = (uintptr_t)getauxval(AT_PHDR) - eh.e_phoff;
	return found ? bias + found : 0;
}

/* A sample in a PLT entry: the CFA is given by the linker's expression (rsp + 8, plus 8 once the
 * entry has pushed its relocation index, at offset 11 and after), evaluated here. */
Test(unwind, plt_entry_unwinds_with_the_linker_cfa_expression)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	uintptr_t plt = own_section(".plt");
	uint32_t self = (uint32_t)getpid();
	struct am_unwind_regs regs = {0};
	enum am_unwind_stop stop;
	uint64_t pcs[8], stack[4] = {0};
	int n;

	if (!plt)
		cr_skip_test("skipped: this build has no .plt");
	cr_assert_eq(am_usym_snapshot(u, self, 0), 0);
	regs.r[AM_UNWIND_REG_SP] = (uintptr_t)stack;
	/* The second entry's first instruction: the return address on top. */
	regs.r[AM_UNWIND_REG_IP] = plt + 16;
	stack[0] = (uintptr_t)unwind_test_callee + 1;
	n = am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 8, &stop);
	cr_assert_eq(n, 2, "%d frames, stop %s", n, am_unwind_stop_name(stop));
	cr_assert_eq(pcs[1], (uintptr_t)unwind_test_callee + 1);
	cr_assert_eq(stop, AM_UNWIND_END);
	/* After its push: the index on top, the return address below it. */
	regs.r[AM_UNWIND_REG_IP] = plt + 16 + 11;
	stack[0] = 3;
	stack[1] = (uintptr_t)unwind_test_callee + 1;
	n = am_unwind(w, self, 0, &regs, stack, sizeof(stack), pcs, 8, &stop);
	cr_assert_eq(n, 2, "%d frames, stop %s", n, am_unwind_stop_name(stop));
	cr_assert_eq(pcs[1], (uintptr_t)unwind_test_callee + 1);
	cr_assert_eq(stop, AM_UNWIND_END);
	am_unwinder_free(w);
	am_usym_free(u);
}
