/* Parser of /proc/meminfo, in bytes (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

static const struct {
	const char *key, *name, *help;
} meminfo_fields[] = {
    {"MemTotal", "antimetal_memory_total_bytes", "Usable RAM (MemTotal)."},
    {"MemFree", "antimetal_memory_free_bytes", "Unused RAM (MemFree)."},
    {"MemAvailable", "antimetal_memory_available_bytes",
     "RAM available for new work without swapping (MemAvailable)."},
    {"Buffers", "antimetal_memory_buffers_bytes", "Block device buffers (Buffers)."},
    {"Cached", "antimetal_memory_cached_bytes", "Page cache (Cached)."},
    {"SwapCached", "antimetal_memory_swap_cached_bytes", "Swapped-in pages still in swap."},
    {"Active", "antimetal_memory_active_bytes", "Recently used memory (Active)."},
    {"Inactive", "antimetal_memory_inactive_bytes", "Reclaimable memory (Inactive)."},
    {"Active(anon)", "antimetal_memory_active_anon_bytes", "Active anonymous memory."},
    {"Inactive(anon)", "antimetal_memory_inactive_anon_bytes", "Inactive anonymous memory."},
    {"Active(file)", "antimetal_memory_active_file_bytes", "Active file-backed memory."},
    {"Inactive(file)", "antimetal_memory_inactive_file_bytes", "Inactive file-backed memory."},
    {"Unevictable", "antimetal_memory_unevictable_bytes", "Unevictable memory."},
    {"Mlocked", "antimetal_memory_mlocked_bytes", "Memory locked with mlock()."},
    {"SwapTotal", "antimetal_memory_swap_total_bytes", "Swap space (SwapTotal)."},
    {"SwapFree", "antimetal_memory_swap_free_bytes", "Unused swap space (SwapFree)."},
    {"Dirty", "antimetal_memory_dirty_bytes", "Memory waiting to be written back."},
    {"Writeback", "antimetal_memory_writeback_bytes", "Memory being written back."},
    {"AnonPages", "antimetal_memory_anon_bytes", "Anonymous pages mapped into user space."},
    {"Mapped", "antimetal_memory_mapped_bytes", "Files mapped into memory."},
    {"Shmem", "antimetal_memory_shmem_bytes", "Shared memory and tmpfs."},
    {"KReclaimable", "antimetal_memory_kernel_reclaimable_bytes",
     "Kernel allocations the kernel can reclaim."},
    {"Slab", "antimetal_memory_slab_bytes", "Kernel slab allocations."},
    {"SReclaimable", "antimetal_memory_slab_reclaimable_bytes", "Reclaimable slab."},
    {"SUnreclaim", "antimetal_memory_slab_unreclaimable_bytes", "Unreclaimable slab."},
    {"KernelStack", "antimetal_memory_kernel_stack_bytes", "Kernel stacks."},
    {"PageTables", "antimetal_memory_page_tables_bytes", "Page tables."},
    {"CommitLimit", "antimetal_memory_commit_limit_bytes", "Overcommit limit."},
    {"Committed_AS", "antimetal_memory_committed_bytes", "Memory committed to processes."},
    {"VmallocUsed", "antimetal_memory_vmalloc_used_bytes", "vmalloc space in use."},
    {"AnonHugePages", "antimetal_memory_anon_hugepages_bytes", "Anonymous transparent huge pages."},
    {"Hugepagesize", "antimetal_memory_hugepage_size_bytes", "Default huge page size."},
};

static const struct {
	const char *key, *state;
} hugepage_fields[] = {
    {"HugePages_Total", "total"},
    {"HugePages_Free", "free"},
    {"HugePages_Rsvd", "reserved"},
    {"HugePages_Surp", "surplus"},
};

/* Split "Key:  123 kB" into KEY (NUL-terminated copy), value and whether it had a kB unit. */
static int meminfo_line(const char *line, char *key, size_t keylen, uint64_t *v, int *kb)
{
	const char *colon = line, *p;
	size_t n;

	while (*colon && *colon != ':' && *colon != '\n')
		colon++;
	if (*colon != ':' || colon == line)
		return -EINVAL;
	n = (size_t)(colon - line);
	if (n >= keylen)
		return -EINVAL;
	memcpy(key, line, n);
	key[n] = '\0';
	p = colon + 1;
	if (am_parse_u64(&p, v))
		return -EINVAL;
	p = am_skip_blank(p);
	*kb = 0;
	if (p[0] == 'k' && p[1] == 'B') {
		*kb = 1;
		p += 2;
	}
	return am_at_eol(p) ? 0 : -EINVAL;
}

int am_parse_meminfo(const char *text, struct am_metric_set *out, const char **why)
{
	size_t mark = out->n, i;
	const char *line;
	int seen_total = 0;

	for (line = text; line && *line; line = am_next_line(line)) {
		char key[64];
		uint64_t v;
		int kb;

		if (*line == '\n')
			continue;
		if (meminfo_line(line, key, sizeof(key), &v, &kb))
			return am_parse_fail(why, "expected 'Key: value [kB]' lines", out, mark);
		if (v > (UINT64_MAX >> 10))
			return am_parse_fail(why, "value out of range", out, mark);
		for (i = 0; i < sizeof(meminfo_fields) / sizeof(meminfo_fields[0]); i++) {
			if (strcmp(key, meminfo_fields[i].key))
				continue;
			if (!kb)
				return am_parse_fail(why, "a size field lacks its kB unit", out,
						     mark);
			seen_total |= !strcmp(key, "MemTotal");
			am_metric_add(out, meminfo_fields[i].name, meminfo_fields[i].help,
				      AM_METRIC_GAUGE, (double)(v << 10), NULL);
		}
		for (i = 0; i < sizeof(hugepage_fields) / sizeof(hugepage_fields[0]); i++)
			if (!strcmp(key, hugepage_fields[i].key))
				am_metric_add(out, "antimetal_memory_hugepages",
					      "Huge pages of the default size, by state.",
					      AM_METRIC_GAUGE, (double)v, "state",
					      hugepage_fields[i].state, NULL);
	}
	/* Every kernel since 2.6 reports MemTotal first: without it the text is not meminfo. */
	if (!seen_total)
		return am_parse_fail(why, "no MemTotal line", out, mark);
	return 0;
}
