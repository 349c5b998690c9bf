/* A user stack sample taken without BPF, for the unwinder's tests and benchmark: a child
 * stopped with ptrace, its registers in DWARF order and the top of its stack copied with
 * process_vm_readv, as the profiler's BPF program copies them. */
#ifndef ANTIMETAL_TESTS_PTRACE_STACK_H
#define ANTIMETAL_TESTS_PTRACE_STACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "symbolize/unwind.h"

struct am_test_stack {
	struct am_unwind_regs regs;
	uint8_t *bytes; /* malloc'd */
	size_t len;	/* what could be read: less than asked near the stack's top */
};

/* Attach to PID with PTRACE_SEIZE. Returns 0 or -errno (-EPERM without the right). */
int am_test_ptrace_seize(pid_t pid);
/* Stop the seized PID (PTRACE_INTERRUPT) and wait for the stop. Returns 0 or -errno. */
int am_test_ptrace_stop(pid_t pid);
/* Let the stopped PID run again. */
int am_test_ptrace_cont(pid_t pid);
/* Copy the stopped PID's registers and up to LEN bytes from its sp. Returns 0 or -errno. */
int am_test_stack_capture(pid_t pid, size_t len, struct am_test_stack *s);
void am_test_stack_free(struct am_test_stack *s);

#endif
