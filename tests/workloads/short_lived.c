/* Profiler workload: waits DELAY seconds (argv[1]), burns CPU in short_lived_fn for BUSY
 * seconds (argv[2]) and exits, so a longer profile sees it come and go: its symbols must
 * still resolve although the process is gone when the profile is read. With more arguments it
 * then execs argv[3] with argv[3...]: the same pid with new mappings. BUSY 0 burns until
 * SIGUSR1 instead (then exits or execs), so a test can pick the moment from what it sees. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

volatile uint64_t short_sink;
static volatile sig_atomic_t go_on;

static void on_usr1(int sig)
{
	(void)sig;
	go_on = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Burns until END (0: until SIGUSR1). */
__attribute__((noinline)) void short_lived_fn(double end)
{
	volatile uint64_t x = short_sink; /* a stack slot: see hot.c */

	while (!go_on && (end == 0 || now() < end))
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	short_sink = x;
}

int main(int argc, char **argv)
{
	double delay = argc > 1 ? atof(argv[1]) : 0.5, busy = argc > 2 ? atof(argv[2]) : 1.0;

	if (busy <= 0) {
		/* Waits for its signal: dies with its parent (a test that failed before). */
		pid_t parent = getppid();

		if (signal(SIGUSR1, on_usr1) == SIG_ERR || prctl(PR_SET_PDEATHSIG, SIGKILL) ||
		    getppid() != parent)
			return 1;
	}
	usleep((useconds_t)(delay * 1e6));
	short_lived_fn(busy > 0 ? now() + busy : 0);
	/* Optionally become another program (argv[3...]) under the same pid. */
	if (argc > 3) {
		execv(argv[3], &argv[3]);
		return 127;
	}
	return 0;
}
