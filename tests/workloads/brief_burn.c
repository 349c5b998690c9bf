/* Profiler workload: a process that lives a few milliseconds. It burns CPU in brief_burn_fn
 * for MS milliseconds of its own CPU time (argv[1], default 3) and exits, so a profiler reading
 * /proc after the fact finds it gone. Run many of them with exec_storm. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

volatile uint64_t brief_sink;

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Burns until the process has used END milliseconds of CPU. */
__attribute__((noinline)) void brief_burn_fn(double end)
{
	volatile uint64_t x = brief_sink; /* a stack slot: see hot.c */

	while (cpu_ms() < end)
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	brief_sink = x;
}

int main(int argc, char **argv)
{
	double ms = argc > 1 ? atof(argv[1]) : 3.0;

	/* CPU time, counted from the start of the process: the loader's share included. */
	brief_burn_fn(ms);
	return 0;
}
