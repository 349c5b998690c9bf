/* Waiting for a child's exit with a deadline, on the exit itself (a pidfd), not a sleep. */
#ifndef ANTIMETAL_TESTS_PROC_WAIT_H
#define ANTIMETAL_TESTS_PROC_WAIT_H

#include <sys/types.h>

/* Wait up to TIMEOUT_MS for child PID to exit and reap it into *STATUS. Returns 0, or
 * -ETIMEDOUT with the child killed (SIGKILL) and reaped, or another -errno. */
int am_test_wait_exit(pid_t pid, int timeout_ms, int *status);

#endif
