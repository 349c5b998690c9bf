/* Profiler workload: burns CPU for SECONDS (argv[1], default 3; 0: until killed) with
 * main -> hot_a taking 3/4 of the time and main -> hot_b 1/4. Both run the same loop body, so the
 * split is by construction. `hot --slices N` does a fixed amount of work instead (benchmarks). The
 * accumulator is a volatile local so that GCC gives these leaf functions a frame: with
 * -fno-omit-frame-pointer it still omits the frame of a leaf that uses no stack, and the frame
 * walk then skips the caller (main). */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/* Iterations per quarter slice: a slice is about 0.1 ms, far below any sampling period, and
 * its length varies pseudo-randomly (the 3:1 ratio does not) so that a sampling rate close to
 * a multiple of the slice rate cannot alias into a biased split. */
#define UNIT 20000L

volatile uint64_t hot_sink;

/* Same code at the same cache-line alignment: otherwise the two loops can run at different
 * speeds (perf measured hot_a at 76.5% without it) and the 3:1 split is no longer exact. */
__attribute__((noinline, aligned(64))) void hot_a(long n)
{
	volatile uint64_t x = hot_sink;

	for (long i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	hot_sink = x;
}

__attribute__((noinline, aligned(64))) void hot_b(long n)
{
	volatile uint64_t x = hot_sink;

	for (long i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	hot_sink = x;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* hot_a then hot_b, 3:1, each slice between 0.5 and 1.5 units long (xorshift32). */
/* Inlined so the stacks stay main -> hot_a / main -> hot_b. */
static inline __attribute__((always_inline)) void slice(uint32_t *rnd)
{
	long u;

	*rnd ^= *rnd << 13;
	*rnd ^= *rnd >> 17;
	*rnd ^= *rnd << 5;
	u = UNIT / 2 + (long)(*rnd % UNIT);
	hot_a(3 * u);
	hot_b(u);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0, end = now() + secs;

	uint32_t rnd = 2463534242u;

	if (argc > 2 && !strcmp(argv[1], "--slices")) {
		for (long n = atol(argv[2]); n > 0; n--)
			slice(&rnd);
		return 0;
	}
	if (secs <= 0) {
		/* Until killed, so a slow machine cannot outlast it; dies with its parent (a
		 * test that failed before killing it). */
		pid_t parent = getppid();

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			return 1;
		for (;;)
			slice(&rnd);
	}
	while (now() < end)
		slice(&rnd);
	return 0;
}
