/* User-space DWARF unwinding of a copied stack (perf's --call-graph dwarf method): the profiler's
 * BPF program copies the sampled thread's user registers and the top bytes of its user stack;
 * this walks that copy with the binaries' CFI (.eh_frame, .debug_frame) through libdw, using
 * the process's mappings as the symbolizer (usym.h) captured them, so a process that exited
 * since is still unwound. CFI is read once per ELF file and kept with it (within the symbolizer's
 * budget: am_usym_set_budget). Never called on the sampling
 * path: only the profile's reader calls it. */
#ifndef ANTIMETAL_SYMBOLIZE_UNWIND_H
#define ANTIMETAL_SYMBOLIZE_UNWIND_H

#include <stddef.h>
#include <stdint.h>

struct am_usym;

/* x86_64 registers in DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip. */
#define AM_UNWIND_NREGS	 17
#define AM_UNWIND_REG_SP 7
#define AM_UNWIND_REG_IP 16

struct am_unwind_regs {
	uint64_t r[AM_UNWIND_NREGS];
};

/* Why a walk ended. Only END is a whole stack; every other reason is counted as a loss. */
enum am_unwind_stop {
	AM_UNWIND_END,	     /* reached the outermost frame (the entry: no return address) */
	AM_UNWIND_TRUNCATED, /* a frame's data lies past the copied bytes: "[truncated]" */
	AM_UNWIND_NO_CFI,    /* an address with no CFI (no mapping, no .eh_frame for it) */
	AM_UNWIND_MAX,	     /* the frame limit was reached */
	AM_UNWIND_FAILED,    /* the CFI led nowhere (bad registers, corrupt stack) */
	AM_UNWIND_NSTOPS,
};

struct am_unwinder;

/* An unwinder over the mappings U captures. Returns NULL on allocation failure. */
struct am_unwinder *am_unwinder_new(struct am_usym *u);
void am_unwinder_free(struct am_unwinder *w);

/* Unwind generation GEN of PID (as am_usym_snapshot / am_usym_capture_maps captured it) from
 * REGS and STACK, the LEN bytes that were at REGS->r[AM_UNWIND_REG_SP] and above. Writes up to
 * MAX addresses to PCS, innermost first (the first is the sampled ip; the others are return
 * addresses, symbolized as such: the pc a signal interrupted, which is not one, is written
 * plus 1 so that it is too), sets *STOP and returns the count (0 with *STOP set when not even
 * the first frame could be found). PID is the process (thread group) id, as usym captures
 * it. Bounded work: at most MAX steps, each a CFI lookup and at most 17 short expressions. */
int am_unwind(struct am_unwinder *w, uint32_t pid, uint64_t gen, const struct am_unwind_regs *regs,
	      const void *stack, size_t len, uint64_t *pcs, unsigned max,
	      enum am_unwind_stop *stop);
/* What an unwinder's walks found, summed since it was made. */
struct am_unwind_stats {
	uint64_t walks, frames;
	/* Callers found by frame pointer, where CFI had nothing for a pc in an executable
	 * mapping (JIT code keeps frame pointers; hand-written assembly may lack CFI). Less
	 * certain than CFI: at a function's first instructions the frame pointer is still the
	 * caller's, and one frame is skipped. */
	uint64_t fp_frames;
	uint64_t stops[AM_UNWIND_NSTOPS];
};
void am_unwinder_stats(const struct am_unwinder *w, struct am_unwind_stats *out);

/* Drop what is kept for PID (it exited or exec'd). */
void am_unwinder_forget(struct am_unwinder *w, uint32_t pid);

/* Human name of a stop reason ("no CFI"). */
const char *am_unwind_stop_name(enum am_unwind_stop s);

#endif
