/* Profiler workload: waits DELAY seconds (argv[1]), burns CPU in short_lived_fn for BUSY
 * seconds (argv[2]) and exits, so a longer profile sees it come and go: its symbols must
 * still resolve although the process is gone when the profile is read. With more arguments it
 * then execs argv[3] with argv[3...]: the same pid with new mappings. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

volatile uint64_t short_sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void short_lived_fn(double end)
{
	volatile uint64_t x = short_sink; /* a stack slot: see hot.c */

	while (now() < end)
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	short_sink = x;
}

int main(int argc, char **argv)
{
	double delay = argc > 1 ? atof(argv[1]) : 0.5, busy = argc > 2 ? atof(argv[2]) : 1.0;

	usleep((useconds_t)(delay * 1e6));
	short_lived_fn(now() + busy);
	/* Optionally become another program (argv[3...]) under the same pid. */
	if (argc > 3) {
		execv(argv[3], &argv[3]);
		return 127;
	}
	return 0;
}
