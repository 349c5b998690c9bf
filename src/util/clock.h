/* One reading of a clock as nanoseconds, for timestamps and intervals. */
#ifndef ANTIMETAL_UTIL_CLOCK_H
#define ANTIMETAL_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLK (CLOCK_MONOTONIC, CLOCK_REALTIME...) now, in nanoseconds. */
uint64_t am_clock_ns(clockid_t clk);
/* CLOCK_REALTIME minus CLOCK_MONOTONIC now, in nanoseconds: turns kernel monotonic timestamps
 * into wall-clock time. */
int64_t am_clock_realtime_offset_ns(void);

#endif
