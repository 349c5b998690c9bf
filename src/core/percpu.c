#include "core/percpu.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int am_percpu_sums(int map_fd, uint32_t first, uint32_t n, uint64_t *sums)
{
	/* The kernel copies out one 8-byte-aligned value per possible CPU, not per online one. */
	int ncpus = libbpf_num_possible_cpus(), cpu, err = 0;
	uint64_t *vals;
	uint32_t i, key;

	memset(sums, 0, n * sizeof(*sums));
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		key = first + i;
		if (bpf_map_lookup_elem(map_fd, &key, vals)) {
			if (!err)
				err = -errno;
			continue;
		}
		for (cpu = 0; cpu < ncpus; cpu++)
			sums[i] += vals[cpu];
	}
	free(vals);
	return err;
}
