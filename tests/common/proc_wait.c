#include "proc_wait.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int am_test_wait_exit(pid_t pid, int timeout_ms, int *status)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), err = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (fd < 0)
		return -errno;
	/* A pidfd becomes readable when the process exits. */
	if (poll(&p, 1, timeout_ms) == 0) {
		kill(pid, SIGKILL);
		err = -ETIMEDOUT;
	}
	close(fd);
	if (waitpid(pid, status, 0) != pid)
		return -errno;
	return err;
}
