/* Per-CPU counter sums over a real BPF_MAP_TYPE_PERCPU_ARRAY (needs BPF: root). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/percpu.h"
#include "testutil.h"

Test(percpu, sums_every_possible_cpu_of_each_slot)
{
	int ncpus = libbpf_num_possible_cpus(), fd, cpu;
	uint64_t *vals, sums[3];
	uint32_t key;

	AM_REQUIRE_BPF();
	cr_assert_gt(ncpus, 0);
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "am_percpu_test", 4, 8, 4, NULL);
	cr_assert_geq(fd, 0, "bpf_map_create: %d", fd);
	vals = calloc((size_t)ncpus, sizeof(*vals));
	cr_assert_not_null(vals);
	/* Slot k holds (k + 1) * (cpu + 1) on each CPU. */
	for (key = 0; key < 4; key++) {
		for (cpu = 0; cpu < ncpus; cpu++)
			vals[cpu] = (uint64_t)(key + 1) * (uint64_t)(cpu + 1);
		cr_assert_eq(bpf_map_update_elem(fd, &key, vals, 0), 0);
	}
	cr_assert_eq(am_percpu_sums(fd, 1, 3, sums), 0);
	for (key = 1; key < 4; key++)
		cr_assert_eq(sums[key - 1], (uint64_t)(key + 1) * (uint64_t)ncpus * (ncpus + 1) / 2,
			     "slot %u", key);
	/* A slot past the end reads as 0 and reports the lookup's error. */
	cr_assert_eq(am_percpu_sums(fd, 3, 2, sums), -ENOENT);
	cr_assert_eq(sums[0], 4u * (uint64_t)ncpus * (ncpus + 1) / 2);
	cr_assert_eq(sums[1], 0u);
	free(vals);
	close(fd);
}

Test(percpu, a_bad_fd_is_an_error_not_a_crash)
{
	uint64_t sum = 7;

	cr_assert_eq(am_percpu_sums(-1, 0, 1, &sum), -EBADF);
	cr_assert_eq(sum, 0u);
}
