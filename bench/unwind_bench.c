/* The DWARF unwinder alone, on real stacks: PROGRAM (Debian's xz compressing random bytes by
 * default) is stopped with ptrace at SAMPLES random points, its registers and top 32 KiB of
 * stack copied each time (as the profiler's BPF program copies them); the process then stays
 * stopped while the copies are unwound, each round in a fresh symbolizer:
 *   am_unwind   - this project's unwinder (libdw's CFI primitives over usym's per-file modules)
 *   libdwfl     - elfutils' own unwinder, perf's method: dwfl_linux_proc_report and
 *                 dwfl_attach_state with a memory reader over the same copies
 * Printed per method: the cold walk (the first, CFI not read yet), the first pass over every
 * sample (CFI read as new code is met), warm passes (all read), frames a stack, walks reaching
 * the entry, heap and resident memory grown by the first pass (malloc'd CFI state; the files'
 * pages read), and how many stacks both methods unwound to the same frames. Medians over ROUNDS
 * with the range. Needs ptrace of a child. */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ptrace_stack.h"
#include "symbolize/unwind.h"
#include "symbolize/usym.h"

#define MAXF	  128
#define MAXROUNDS 32

struct sample {
	struct am_test_stack s;
	uint64_t pcs[MAXF];
	int n;
};

struct result {
	double cold_us, first_us, warm_us, frames, end_pct, heap_kib, rss_kib;
};

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static size_t heap_used(void)
{
	return mallinfo2().uordblks;
}

/* Resident KiB (heap, and the files' pages libelf maps and the CFI lookups touch). */
static double rss_kib(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (double)res * (double)sysconf(_SC_PAGESIZE) / 1024;
}

/* LEN bytes of a stack copy unwound by am_unwind. */
static int ours(struct am_unwinder *w, pid_t pid, struct sample *sm, size_t len, uint64_t *pcs,
		enum am_unwind_stop *stop)
{
	return am_unwind(w, (uint32_t)pid, 1, &sm->s.regs, sm->s.bytes,
			 sm->s.len < len ? sm->s.len : len, pcs, MAXF, stop);
}

static void run_ours(pid_t pid, struct sample *sm, int n, size_t len, struct result *r)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_unwinder *w = am_unwinder_new(u);
	enum am_unwind_stop stop;
	uint64_t pcs[MAXF];
	double t, rss0;
	size_t heap0;
	int i, k, frames = 0, ends = 0;

	am_usym_snapshot(u, (uint32_t)pid, 1);
	heap0 = heap_used();
	rss0 = rss_kib();
	t = now_us();
	ours(w, pid, &sm[0], len, pcs, &stop);
	r->cold_us = now_us() - t;
	t = now_us();
	for (i = 1; i < n; i++)
		ours(w, pid, &sm[i], len, pcs, &stop);
	r->first_us = (now_us() - t) / (n - 1);
	r->heap_kib = (double)(heap_used() - heap0) / 1024;
	r->rss_kib = rss_kib() - rss0;
	t = now_us();
	for (k = 0; k < 5; k++)
		for (i = 0; i < n; i++) {
			sm[i].n = ours(w, pid, &sm[i], len, sm[i].pcs, &stop);
			frames += sm[i].n;
			ends += stop == AM_UNWIND_END;
		}
	r->warm_us = (now_us() - t) / (5 * n);
	r->frames = (double)frames / (5 * n);
	r->end_pct = 100.0 * ends / (5 * n);
	am_unwinder_free(w);
	am_usym_free(u);
}

/* libdwfl's unwinder over the same copies. */
struct dwfl_ctx {
	pid_t pid;
	const struct sample *cur;
	size_t len;
	uint64_t pcs[MAXF];
	int n;
	bool next_done;
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct dwfl_ctx *c = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = c;
	return c->pid;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct dwfl_ctx *c = arg;
	uint64_t sp = c->cur->s.regs.r[AM_UNWIND_REG_SP];
	size_t len = c->cur->s.len < c->len ? c->cur->s.len : c->len;

	(void)dwfl;
	if (addr < sp || addr - sp > len || len - (addr - sp) < 8)
		return false;
	memcpy(result, c->cur->s.bytes + (addr - sp), 8);
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct dwfl_ctx *c = arg;
	Dwarf_Word regs[AM_UNWIND_NREGS];

	memcpy(regs, c->cur->s.regs.r, sizeof(regs));
	dwfl_thread_state_register_pc(thread, regs[AM_UNWIND_REG_IP]);
	return dwfl_thread_state_registers(thread, 0, AM_UNWIND_NREGS - 1, regs);
}

static const Dwfl_Thread_Callbacks thread_cb = {
    .next_thread = next_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct dwfl_ctx *c = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL) || c->n == MAXF)
		return DWARF_CB_ABORT;
	c->pcs[c->n++] = pc;
	return DWARF_CB_OK;
}

static int dwfl_walk(Dwfl *dwfl, struct dwfl_ctx *c, const struct sample *sm, bool *end)
{
	int rc;

	c->cur = sm;
	c->n = 0;
	rc = dwfl_getthread_frames(dwfl, c->pid, frame_cb, c);
	/* 0: the walk ended at a frame without a caller (the entry). */
	*end = rc == 0;
	return c->n;
}

static void run_dwfl(pid_t pid, struct sample *sm, int n, size_t len, struct result *r, int *same)
{
	static char *debuginfo_path;
	const Dwfl_Callbacks cb = {
	    .find_elf = dwfl_linux_proc_find_elf,
	    .find_debuginfo = dwfl_standard_find_debuginfo,
	    .debuginfo_path = &debuginfo_path,
	};
	struct dwfl_ctx c = {.pid = pid, .len = len};
	Dwfl *dwfl = dwfl_begin(&cb);
	double t, rss0;
	size_t heap0;
	bool end;
	int i, k, frames = 0, ends = 0;

	dwfl_report_begin(dwfl);
	dwfl_linux_proc_report(dwfl, pid);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!dwfl_attach_state(dwfl, NULL, pid, &thread_cb, &c)) {
		fprintf(stderr, "dwfl_attach_state: %s\n", dwfl_errmsg(-1));
		exit(1);
	}
	heap0 = heap_used();
	rss0 = rss_kib();
	t = now_us();
	dwfl_walk(dwfl, &c, &sm[0], &end);
	r->cold_us = now_us() - t;
	t = now_us();
	for (i = 1; i < n; i++)
		dwfl_walk(dwfl, &c, &sm[i], &end);
	r->first_us = (now_us() - t) / (n - 1);
	r->heap_kib = (double)(heap_used() - heap0) / 1024;
	r->rss_kib = rss_kib() - rss0;
	t = now_us();
	for (k = 0; k < 5; k++)
		for (i = 0; i < n; i++) {
			frames += dwfl_walk(dwfl, &c, &sm[i], &end);
			ends += end;
		}
	r->warm_us = (now_us() - t) / (5 * n);
	r->frames = (double)frames / (5 * n);
	r->end_pct = 100.0 * ends / (5 * n);
	*same = 0;
	for (i = 0; i < n; i++) {
		dwfl_walk(dwfl, &c, &sm[i], &end);
		*same += c.n == sm[i].n && !memcmp(c.pcs, sm[i].pcs, (size_t)c.n * 8);
	}
	dwfl_end(dwfl);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "median (min-max)" of field OFF over N results. */
static void cell(const struct result *r, int n, size_t off, const char *fmt)
{
	double v[MAXROUNDS];
	char m[32], lo[32], hi[32];

	for (int i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&r[i] + off);
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	snprintf(m, sizeof(m), fmt, v[n / 2]);
	snprintf(lo, sizeof(lo), fmt, v[0]);
	snprintf(hi, sizeof(hi), fmt, v[n - 1]);
	printf(" %8s (%s-%s) |", m, lo, hi);
}

static void row(const char *name, size_t len, const struct result *r, int n)
{
	printf("| %-9s | %2zu KiB |", name, len / 1024);
	cell(r, n, offsetof(struct result, cold_us), "%.0f");
	cell(r, n, offsetof(struct result, first_us), "%.1f");
	cell(r, n, offsetof(struct result, warm_us), "%.1f");
	cell(r, n, offsetof(struct result, frames), "%.1f");
	cell(r, n, offsetof(struct result, end_pct), "%.0f");
	cell(r, n, offsetof(struct result, heap_kib), "%.0f");
	cell(r, n, offsetof(struct result, rss_kib), "%.0f");
	printf("\n");
}

/* Start ARGV with stdin from IN, stdout to /dev/null, seized. */
static pid_t start(char **argv, const char *in)
{
	pid_t pid = fork();

	if (!pid) {
		int fd = open(in, O_RDONLY), null = open("/dev/null", O_WRONLY);

		if (fd < 0 || null < 0 || dup2(fd, 0) < 0 || dup2(null, 1) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || am_test_ptrace_seize(pid)) {
		fprintf(stderr, "unwind_bench: cannot start and seize %s: %s\n", argv[0],
			strerror(errno));
		exit(1);
	}
	return pid;
}

int main(int argc, char **argv)
{
	char *xz[] = {"/usr/bin/xz", "-6", "-T1", "-c", NULL};
	int n = argc > 1 ? atoi(argv[1]) : 200, rounds = argc > 2 ? atoi(argv[2]) : 5;
	const char *in = argc > 3 ? argv[3] : "/dev/urandom";
	struct result ro[2][MAXROUNDS], rd[2][MAXROUNDS];
	const size_t lens[2] = {8192, 32768};
	struct sample *sm;
	int same[2] = {0, 0};
	pid_t pid;

	if (n < 2 || rounds < 1 || rounds > MAXROUNDS)
		return fprintf(stderr, "usage: unwind_bench [SAMPLES>=2 [ROUNDS<=32 [INPUT]]]\n"),
		       2;
	sm = calloc((size_t)n, sizeof(*sm));
	pid = start(xz, in);
	usleep(200000);
	srand(1);
	for (int i = 0; i < n; i++) {
		usleep(2000 + rand() % 8000);
		if (am_test_ptrace_stop(pid) || am_test_stack_capture(pid, 32768, &sm[i].s)) {
			fprintf(stderr, "unwind_bench: xz ended after %d samples\n", i);
			return 1;
		}
		if (i + 1 < n)
			am_test_ptrace_cont(pid);
	}
	/* xz stays stopped: libdwfl reads its /proc/PID/maps. */
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < rounds; k++) { /* alternate, so drift hits both alike */
			run_ours(pid, sm, n, lens[l], &ro[l][k]);
			run_dwfl(pid, sm, n, lens[l], &rd[l][k], &same[l]);
		}
	printf("xz -6 stopped at %d random points, %d rounds; median (min-max)\n\n", n, rounds);
	printf("| method    | copy   | cold walk µs | first pass µs/walk | warm µs/walk | "
	       "frames/stack | reach entry %% | heap KiB | RSS KiB |\n");
	printf("|-----------|--------|---|---|---|---|---|---|---|\n");
	for (int l = 0; l < 2; l++) {
		row("am_unwind", lens[l], ro[l], rounds);
		row("libdwfl", lens[l], rd[l], rounds);
	}
	printf("\nsame frames as libdwfl: %d of %d stacks (8 KiB), %d of %d (32 KiB)\n", same[0], n,
	       same[1], n);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < n; i++)
		am_test_stack_free(&sm[i].s);
	free(sm);
	return 0;
}
