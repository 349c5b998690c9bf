/* Profiler workload for inlined functions: built with -O2 -g (Makefile), so GCC inlines
 * mix_step (always_inline) into spin, the one hot function left as a symbol. Burns CPU for
 * SECONDS (argv[1], default 3; 0: until killed). The pprof test looks for mix_step with its
 * file:line under spin in `go tool pprof -lines`. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <signal.h>
#include <time.h>

volatile uint64_t inline_sink;

static inline __attribute__((always_inline)) uint64_t mix_step(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 29;
	return x;
}

__attribute__((noinline)) void spin(long n)
{
	uint64_t x = inline_sink;

	for (long i = 0; i < n; i++)
		x = mix_step(x + (uint64_t)i);
	inline_sink = x;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3;
	struct timespec t0, t;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		spin(100000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (seconds <= 0 ||
		 (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return 0;
}
