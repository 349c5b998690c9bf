/* Searching sorted arrays of numbers. */
#ifndef ANTIMETAL_UTIL_SORTED_H
#define ANTIMETAL_UTIL_SORTED_H

#include <stddef.h>
#include <stdint.h>

/* The index of the first of V's N ascending values at or above KEY, or N: where KEY is, or
 * would go. */
static inline size_t am_lower_bound_u64(const uint64_t *v, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif
