/* Profiler workload: spends its time in the kernel for SECONDS (argv[1], default 2; 0: until
 * killed), reading /dev/zero in large blocks, so samples carry kernel stacks (read_zero,
 * vfs_read, ...). */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

__attribute__((noinline)) static void read_loop(int fd)
{
	if (read(fd, buf, sizeof(buf)) < 0)
		exit(1);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	struct timespec ts;
	double end;
	int fd = open("/dev/zero", O_RDONLY);

	if (fd < 0)
		return 1;
	if (secs <= 0) {
		/* Until killed, so a slow machine cannot outlast it; dies with its parent (a
		 * test that failed before killing it). */
		pid_t parent = getppid();

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			return 1;
		for (;;)
			read_loop(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + secs;
	for (;;) {
		read_loop(fd);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9 >= end)
			break;
	}
	close(fd);
	return 0;
}
