/* Driving a profiler as the CLI and the daemon do: its notify fd on a util/loop, handled as
 * notices come and once a second, until a duration ends. */
#ifndef ANTIMETAL_TESTS_PROFILE_RUN_H
#define ANTIMETAL_TESTS_PROFILE_RUN_H

#include <stdint.h>

#include "collectors/ebpf/profiler.h"

/* Sample for MS milliseconds on a loop of its own. Returns 0 or -errno. */
int am_test_profile_for(struct am_profiler *p, uint64_t ms);

#endif
