/* Per-CPU counters of eBPF programs: a BPF_MAP_TYPE_PERCPU_ARRAY of __u64 slots, each CPU
 * counting in its own copy without atomics; user space adds the copies up. */
#ifndef ANTIMETAL_CORE_PERCPU_H
#define ANTIMETAL_CORE_PERCPU_H

#include <stdint.h>

/* Sum over the possible CPUs of slots FIRST .. FIRST+N-1 of the per-CPU array MAP_FD (u64
 * values) into SUMS[0..N-1]. A slot that cannot be read sums to 0. Returns 0 or the first
 * -errno (no memory, the CPU count unknown, a failed lookup). */
int am_percpu_sums(int map_fd, uint32_t first, uint32_t n, uint64_t *sums);

#endif
