/* cgroup pids workload: tries TRIES forks (argv[1]) while keeping every child alive, so a
 * pids.max below TRIES + 1 refuses the rest; the children are then released and reaped. Exits
 * with the number of forks refused with EAGAIN (the pids controller's answer), 255 on any
 * other failure, so a test compares the kernel's pids.events with what the program saw. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int tries = argc > 1 ? atoi(argv[1]) : 0, refused = 0, i, gate[2];
	char c;

	if (tries <= 0 || tries > 250 || pipe(gate)) {
		fprintf(stderr, "usage: fork_past TRIES (1-250)\n");
		return 255;
	}
	for (i = 0; i < tries; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			/* Held until the parent closes the gate's write end. */
			close(gate[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		if (pid < 0 && errno != EAGAIN) {
			perror("fork");
			return 255;
		}
		refused += pid < 0;
	}
	close(gate[1]);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	printf("refused %d\n", refused);
	return refused;
}
