/* Counter deltas and rates between collection cycles, with counter resets (process restart,
 * device re-added) and 32/64-bit wraps told apart. */
#ifndef ANTIMETAL_COLLECTORS_RATE_H
#define ANTIMETAL_COLLECTORS_RATE_H

#include <stddef.h>
#include <stdint.h>

/* Increase of a counter of WIDTH bits (32 or 64) from PREV to CUR. A decrease is a wrap when
 * PREV was in the top half of the counter's range and the wrapped distance is under half the
 * range; otherwise it is a reset, and the counter counted CUR since it restarted from zero. */
uint64_t am_counter_delta(uint64_t prev, uint64_t cur, int width);

struct am_rate_entry {
	char *key;
	uint64_t value;
	uint64_t ts_ns;
	uint32_t seen; /* generation of the last update: entries not seen in a cycle are dropped */
};

/* Previous values of many counters, keyed by a string (metric name and labels), so
 * collectors get per-second rates of whatever they count. */
struct am_rate_table {
	struct am_rate_entry *slots; /* open addressing, power-of-two size */
	size_t nslots, used;
	uint32_t generation;
};

/* Record VALUE at NOW_NS for KEY; when KEY had a previous sample, store the per-second rate in
 * *RATE and return 1; return 0 for a first sample, -ENOMEM when out of memory. */
int am_rate_update(struct am_rate_table *t, const char *key, uint64_t value, uint64_t now_ns,
		   int width, double *rate);
/* Start a new cycle: entries not updated since the previous call are forgotten (a vanished
 * device or process does not leak). */
void am_rate_cycle(struct am_rate_table *t);
struct am_metric_set;
struct am_metric_desc;
/* For every sample named COUNTER (its JSON name) in SET from index FROM on, append gauge RATE
 * with the same labels: the counter's per-second rate since the previous cycle (nothing on a first
 * sample). Values are multiplied by UNIT before the integer wrap/reset logic (1000 for seconds that
 * the kernel counts in milliseconds). */
void am_rate_emit(struct am_rate_table *t, struct am_metric_set *set, size_t from,
		  const char *counter, const struct am_metric_desc *rate, uint64_t now_ns,
		  double unit);
/* Free everything. */
void am_rate_free(struct am_rate_table *t);

#endif
