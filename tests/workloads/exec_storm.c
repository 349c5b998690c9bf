/* exec_storm: fork and exec PROG N times, up to JOBS at once, as fast as the machine allows.
 * With -m MARK, each exec gets one more argument, MARK followed by its number (0..N-1), so a
 * consumer can tell every exec apart. Prints one line: "execs=N failed=F seconds=S rate=R"
 * (R in execs per second).
 * usage: exec_storm [-j JOBS] [-m MARK] N PROG [ARG...] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int jobs = 1, opt, running = 0, failed = 0, status, nargs;
	const char *mark = NULL;
	char **args, markbuf[256];
	long n, started = 0, done = 0;
	double t0;

	while ((opt = getopt(argc, argv, "+j:m:")) != -1) {
		if (opt == 'm') {
			mark = optarg;
			continue;
		}
		if (opt != 'j' || (jobs = atoi(optarg)) < 1) {
			fprintf(stderr, "usage: exec_storm [-j JOBS] [-m MARK] N PROG [ARG...]\n");
			return 2;
		}
	}
	if (argc - optind < 2 || (n = atol(argv[optind])) < 1) {
		fprintf(stderr, "usage: exec_storm [-j JOBS] [-m MARK] N PROG [ARG...]\n");
		return 2;
	}
	/* PROG ARG... then the mark, then the terminating NULL. */
	nargs = argc - optind - 1;
	args = calloc((size_t)nargs + 2, sizeof(*args));
	if (!args)
		return 1;
	memcpy(args, argv + optind + 1, (size_t)nargs * sizeof(*args));
	t0 = now_s();
	while (done < n) {
		while (running < jobs && started < n) {
			pid_t pid = fork();

			if (pid < 0) {
				perror("fork");
				return 1;
			}
			if (pid == 0) {
				if (mark) {
					snprintf(markbuf, sizeof(markbuf), "%s%ld", mark, started);
					args[nargs] = markbuf;
				}
				execv(args[0], args);
				_exit(127);
			}
			running++;
			started++;
		}
		if (wait(&status) < 0) {
			if (errno == EINTR)
				continue;
			perror("wait");
			return 1;
		}
		running--;
		done++;
		if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
			failed++;
	}
	t0 = now_s() - t0;
	printf("execs=%ld failed=%d seconds=%.3f rate=%.1f\n", n, failed, t0, (double)n / t0);
	free(args);
	return failed ? 1 : 0;
}
