/* Reading the labels of a decoded pprof sample. */
#ifndef ANTIMETAL_TESTS_PPROF_LABELS_H
#define ANTIMETAL_TESTS_PPROF_LABELS_H

#include <stdint.h>

#include "profile.pb-c.h"

/* The numeric value of sample S's label KEY in profile PB, or -1 without one. */
int64_t am_test_pprof_label_num(const Perftools__Profiles__Profile *pb,
				const Perftools__Profiles__Sample *s, const char *key);

#endif
