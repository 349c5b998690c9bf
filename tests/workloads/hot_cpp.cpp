// Profiler workload in C++: burns CPU for SECONDS (argv[1], default 3; 0: until killed) in
// functions whose symbols are mangled, for the demangling tests. main -> round_of_work
// (_ZL13round_of_workv), which calls, about a third of the time each:
//   hot_cpp::inner::spin(long)                              _ZN7hot_cpp5inner4spinEl
//   burn<unsigned long>(unsigned long)                      _Z4burnImET_S0_
//     -> (anonymous namespace)::churn(unsigned long)        _ZN12_GLOBAL__N_15churnEm
//   hot_cpp::Mixer::operator()(long)                        _ZN7hot_cpp5MixerclEl
// Each leaf keeps a volatile local so GCC gives it a frame (see hot.c), and every function is
// noinline so the stacks stay as written.
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

volatile uint64_t hot_sink;

namespace hot_cpp
{
namespace inner
{
__attribute__((noinline)) void spin(long n)
{
	volatile uint64_t x = hot_sink;

	for (long i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	hot_sink = x;
}
} // namespace inner

struct Mixer {
	uint64_t seed;
	__attribute__((noinline)) void operator()(long n)
	{
		volatile uint64_t x = seed ^ hot_sink;

		for (long i = 0; i < n; i++)
			x = (x ^ (x >> 7)) * 0x9E3779B97F4A7C15ull;
		hot_sink = x;
	}
};
} // namespace hot_cpp

namespace
{
__attribute__((noinline)) unsigned long churn(unsigned long n)
{
	volatile unsigned long x = hot_sink;

	for (unsigned long i = 0; i < n; i++)
		x = x * 2862933555777941757ull + 3037000493ull;
	return x;
}
} // namespace

template <typename T> __attribute__((noinline)) T burn(T n)
{
	volatile T keep = churn(n);

	return keep;
}

static double now()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void round_of_work()
{
	hot_cpp::Mixer mix = {42};

	hot_cpp::inner::spin(40000);
	hot_sink += burn<unsigned long>(40000);
	mix(40000);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0, end = now() + secs;

	if (secs <= 0) {
		// Until killed, and never outliving a test that failed before killing it.
		pid_t parent = getppid();

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			return 1;
		for (;;)
			round_of_work();
	}
	while (now() < end)
		round_of_work();
	return 0;
}
