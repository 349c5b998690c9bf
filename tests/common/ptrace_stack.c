#include "ptrace_stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

int am_test_ptrace_seize(pid_t pid)
{
	return ptrace(PTRACE_SEIZE, pid, NULL, NULL) ? -errno : 0;
}

int am_test_ptrace_stop(pid_t pid)
{
	int st;

	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		return -errno;
	if (waitpid(pid, &st, __WALL) != pid)
		return -errno;
	return WIFSTOPPED(st) ? 0 : -ESRCH;
}

int am_test_ptrace_cont(pid_t pid)
{
	return ptrace(PTRACE_CONT, pid, NULL, NULL) ? -errno : 0;
}

int am_test_stack_capture(pid_t pid, size_t len, struct am_test_stack *s)
{
	struct user_regs_struct u;
	struct iovec local, remote;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	if (ptrace(PTRACE_GETREGS, pid, NULL, &u))
		return -errno;
	/* DWARF's x86_64 numbering. */
	s->regs.r[0] = u.rax;
	s->regs.r[1] = u.rdx;
	s->regs.r[2] = u.rcx;
	s->regs.r[3] = u.rbx;
	s->regs.r[4] = u.rsi;
	s->regs.r[5] = u.rdi;
	s->regs.r[6] = u.rbp;
	s->regs.r[7] = u.rsp;
	s->regs.r[8] = u.r8;
	s->regs.r[9] = u.r9;
	s->regs.r[10] = u.r10;
	s->regs.r[11] = u.r11;
	s->regs.r[12] = u.r12;
	s->regs.r[13] = u.r13;
	s->regs.r[14] = u.r14;
	s->regs.r[15] = u.r15;
	s->regs.r[16] = u.rip;
	s->bytes = malloc(len ? len : 1);
	if (!s->bytes)
		return -ENOMEM;
	local.iov_base = s->bytes;
	local.iov_len = len;
	remote.iov_base = (void *)(uintptr_t)u.rsp;
	remote.iov_len = len;
	/* Partial near the top of the stack mapping, as the BPF copy is. */
	n = len ? process_vm_readv(pid, &local, 1, &remote, 1, 0) : 0;
	if (n < 0) {
		free(s->bytes);
		s->bytes = NULL;
		return -errno;
	}
	s->len = (size_t)n;
	return 0;
}

void am_test_stack_free(struct am_test_stack *s)
{
	free(s->bytes);
	s->bytes = NULL;
}
