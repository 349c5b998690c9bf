#include "util/clock.h"

uint64_t am_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The tightest of a few bracketed readings, so a preemption between the two reads does not
 * skew every timestamp converted with it. */
int64_t am_clock_realtime_offset_ns(void)
{
	int64_t best = 0, best_gap = INT64_MAX;
	int i;

	for (i = 0; i < 5; i++) {
		int64_t m1 = (int64_t)am_clock_ns(CLOCK_MONOTONIC);
		int64_t r = (int64_t)am_clock_ns(CLOCK_REALTIME);
		int64_t m2 = (int64_t)am_clock_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < best_gap) {
			best_gap = m2 - m1;
			best = r - (m1 + (m2 - m1) / 2);
		}
	}
	return best;
}
