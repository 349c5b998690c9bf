/* memory: /proc/meminfo in bytes (node_memory_*_bytes) and selected /proc/vmstat counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/log.h"

/* Every field /proc/meminfo has had up to 6.x, named as node_exporter derives them from the file
 * ("Active(anon)" -> node_memory_Active_anon_bytes); the agent's own antimetal_memory_* names
 * for those it had before. A field that is not here is counted (a newer kernel), not guessed. */
static const struct {
	const char *key;
	int kb; /* sized in kB in the file: served in bytes */
	struct am_metric_desc desc;
} meminfo_fields[] = {
    {"MemTotal",
     1,
     {.name = "antimetal_memory_total_bytes",
      .prom = "node_memory_MemTotal_bytes",
      .help = "Memory information field MemTotal_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"MemFree",
     1,
     {.name = "antimetal_memory_free_bytes",
      .prom = "node_memory_MemFree_bytes",
      .help = "Memory information field MemFree_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"MemAvailable",
     1,
     {.name = "antimetal_memory_available_bytes",
      .prom = "node_memory_MemAvailable_bytes",
      .help = "Memory information field MemAvailable_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Buffers",
     1,
     {.name = "antimetal_memory_buffers_bytes",
      .prom = "node_memory_Buffers_bytes",
      .help = "Memory information field Buffers_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Cached",
     1,
     {.name = "antimetal_memory_cached_bytes",
      .prom = "node_memory_Cached_bytes",
      .help = "Memory information field Cached_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"SwapCached",
     1,
     {.name = "antimetal_memory_swap_cached_bytes",
      .prom = "node_memory_SwapCached_bytes",
      .help = "Memory information field SwapCached_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Active",
     1,
     {.name = "antimetal_memory_active_bytes",
      .prom = "node_memory_Active_bytes",
      .help = "Memory information field Active_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Inactive",
     1,
     {.name = "antimetal_memory_inactive_bytes",
      .prom = "node_memory_Inactive_bytes",
      .help = "Memory information field Inactive_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Active(anon)",
     1,
     {.name = "antimetal_memory_active_anon_bytes",
      .prom = "node_memory_Active_anon_bytes",
      .help = "Memory information field Active_anon_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Inactive(anon)",
     1,
     {.name = "antimetal_memory_inactive_anon_bytes",
      .prom = "node_memory_Inactive_anon_bytes",
      .help = "Memory information field Inactive_anon_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Active(file)",
     1,
     {.name = "antimetal_memory_active_file_bytes",
      .prom = "node_memory_Active_file_bytes",
      .help = "Memory information field Active_file_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Inactive(file)",
     1,
     {.name = "antimetal_memory_inactive_file_bytes",
      .prom = "node_memory_Inactive_file_bytes",
      .help = "Memory information field Inactive_file_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Unevictable",
     1,
     {.name = "antimetal_memory_unevictable_bytes",
      .prom = "node_memory_Unevictable_bytes",
      .help = "Memory information field Unevictable_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Mlocked",
     1,
     {.name = "antimetal_memory_mlocked_bytes",
      .prom = "node_memory_Mlocked_bytes",
      .help = "Memory information field Mlocked_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"HighTotal",
     1,
     {.name = NULL,
      .prom = "node_memory_HighTotal_bytes",
      .help = "Memory information field HighTotal_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"HighFree",
     1,
     {.name = NULL,
      .prom = "node_memory_HighFree_bytes",
      .help = "Memory information field HighFree_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"LowTotal",
     1,
     {.name = NULL,
      .prom = "node_memory_LowTotal_bytes",
      .help = "Memory information field LowTotal_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"LowFree",
     1,
     {.name = NULL,
      .prom = "node_memory_LowFree_bytes",
      .help = "Memory information field LowFree_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"MmapCopy",
     1,
     {.name = NULL,
      .prom = "node_memory_MmapCopy_bytes",
      .help = "Memory information field MmapCopy_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"SwapTotal",
     1,
     {.name = "antimetal_memory_swap_total_bytes",
      .prom = "node_memory_SwapTotal_bytes",
      .help = "Memory information field SwapTotal_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"SwapFree",
     1,
     {.name = "antimetal_memory_swap_free_bytes",
      .prom = "node_memory_SwapFree_bytes",
      .help = "Memory information field SwapFree_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Zswap",
     1,
     {.name = NULL,
      .prom = "node_memory_Zswap_bytes",
      .help = "Memory information field Zswap_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Zswapped",
     1,
     {.name = NULL,
      .prom = "node_memory_Zswapped_bytes",
      .help = "Memory information field Zswapped_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Dirty",
     1,
     {.name = "antimetal_memory_dirty_bytes",
      .prom = "node_memory_Dirty_bytes",
      .help = "Memory information field Dirty_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Writeback",
     1,
     {.name = "antimetal_memory_writeback_bytes",
      .prom = "node_memory_Writeback_bytes",
      .help = "Memory information field Writeback_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"AnonPages",
     1,
     {.name = "antimetal_memory_anon_bytes",
      .prom = "node_memory_AnonPages_bytes",
      .help = "Memory information field AnonPages_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Mapped",
     1,
     {.name = "antimetal_memory_mapped_bytes",
      .prom = "node_memory_Mapped_bytes",
      .help = "Memory information field Mapped_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Shmem",
     1,
     {.name = "antimetal_memory_shmem_bytes",
      .prom = "node_memory_Shmem_bytes",
      .help = "Memory information field Shmem_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"KReclaimable",
     1,
     {.name = "antimetal_memory_kernel_reclaimable_bytes",
      .prom = "node_memory_KReclaimable_bytes",
      .help = "Memory information field KReclaimable_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Slab",
     1,
     {.name = "antimetal_memory_slab_bytes",
      .prom = "node_memory_Slab_bytes",
      .help = "Memory information field Slab_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"SReclaimable",
     1,
     {.name = "antimetal_memory_slab_reclaimable_bytes",
      .prom = "node_memory_SReclaimable_bytes",
      .help = "Memory information field SReclaimable_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"SUnreclaim",
     1,
     {.name = "antimetal_memory_slab_unreclaimable_bytes",
      .prom = "node_memory_SUnreclaim_bytes",
      .help = "Memory information field SUnreclaim_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"KernelStack",
     1,
     {.name = "antimetal_memory_kernel_stack_bytes",
      .prom = "node_memory_KernelStack_bytes",
      .help = "Memory information field KernelStack_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"ShadowCallStack",
     1,
     {.name = NULL,
      .prom = "node_memory_ShadowCallStack_bytes",
      .help = "Memory information field ShadowCallStack_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"PageTables",
     1,
     {.name = "antimetal_memory_page_tables_bytes",
      .prom = "node_memory_PageTables_bytes",
      .help = "Memory information field PageTables_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"SecPageTables",
     1,
     {.name = NULL,
      .prom = "node_memory_SecPageTables_bytes",
      .help = "Memory information field SecPageTables_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"NFS_Unstable",
     1,
     {.name = NULL,
      .prom = "node_memory_NFS_Unstable_bytes",
      .help = "Memory information field NFS_Unstable_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Bounce",
     1,
     {.name = NULL,
      .prom = "node_memory_Bounce_bytes",
      .help = "Memory information field Bounce_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"WritebackTmp",
     1,
     {.name = NULL,
      .prom = "node_memory_WritebackTmp_bytes",
      .help = "Memory information field WritebackTmp_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"CommitLimit",
     1,
     {.name = "antimetal_memory_commit_limit_bytes",
      .prom = "node_memory_CommitLimit_bytes",
      .help = "Memory information field CommitLimit_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Committed_AS",
     1,
     {.name = "antimetal_memory_committed_bytes",
      .prom = "node_memory_Committed_AS_bytes",
      .help = "Memory information field Committed_AS_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"VmallocTotal",
     1,
     {.name = NULL,
      .prom = "node_memory_VmallocTotal_bytes",
      .help = "Memory information field VmallocTotal_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"VmallocUsed",
     1,
     {.name = "antimetal_memory_vmalloc_used_bytes",
      .prom = "node_memory_VmallocUsed_bytes",
      .help = "Memory information field VmallocUsed_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"VmallocChunk",
     1,
     {.name = NULL,
      .prom = "node_memory_VmallocChunk_bytes",
      .help = "Memory information field VmallocChunk_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Percpu",
     1,
     {.name = NULL,
      .prom = "node_memory_Percpu_bytes",
      .help = "Memory information field Percpu_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"HardwareCorrupted",
     1,
     {.name = NULL,
      .prom = "node_memory_HardwareCorrupted_bytes",
      .help = "Memory information field HardwareCorrupted_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"AnonHugePages",
     1,
     {.name = "antimetal_memory_anon_hugepages_bytes",
      .prom = "node_memory_AnonHugePages_bytes",
      .help = "Memory information field AnonHugePages_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"ShmemHugePages",
     1,
     {.name = NULL,
      .prom = "node_memory_ShmemHugePages_bytes",
      .help = "Memory information field ShmemHugePages_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"ShmemPmdMapped",
     1,
     {.name = NULL,
      .prom = "node_memory_ShmemPmdMapped_bytes",
      .help = "Memory information field ShmemPmdMapped_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"FileHugePages",
     1,
     {.name = NULL,
      .prom = "node_memory_FileHugePages_bytes",
      .help = "Memory information field FileHugePages_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"FilePmdMapped",
     1,
     {.name = NULL,
      .prom = "node_memory_FilePmdMapped_bytes",
      .help = "Memory information field FilePmdMapped_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"CmaTotal",
     1,
     {.name = NULL,
      .prom = "node_memory_CmaTotal_bytes",
      .help = "Memory information field CmaTotal_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"CmaFree",
     1,
     {.name = NULL,
      .prom = "node_memory_CmaFree_bytes",
      .help = "Memory information field CmaFree_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Unaccepted",
     1,
     {.name = NULL,
      .prom = "node_memory_Unaccepted_bytes",
      .help = "Memory information field Unaccepted_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Balloon",
     1,
     {.name = NULL,
      .prom = "node_memory_Balloon_bytes",
      .help = "Memory information field Balloon_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"HugePages_Total",
     0,
     {.name = "antimetal_memory_hugepages_total",
      .prom = "node_memory_HugePages_Total",
      .help = "Memory information field HugePages_Total.",
      .unit = "{page}",
      .type = AM_METRIC_GAUGE}},
    {"HugePages_Free",
     0,
     {.name = "antimetal_memory_hugepages_free",
      .prom = "node_memory_HugePages_Free",
      .help = "Memory information field HugePages_Free.",
      .unit = "{page}",
      .type = AM_METRIC_GAUGE}},
    {"HugePages_Rsvd",
     0,
     {.name = "antimetal_memory_hugepages_reserved",
      .prom = "node_memory_HugePages_Rsvd",
      .help = "Memory information field HugePages_Rsvd.",
      .unit = "{page}",
      .type = AM_METRIC_GAUGE}},
    {"HugePages_Surp",
     0,
     {.name = "antimetal_memory_hugepages_surplus",
      .prom = "node_memory_HugePages_Surp",
      .help = "Memory information field HugePages_Surp.",
      .unit = "{page}",
      .type = AM_METRIC_GAUGE}},
    {"Hugepagesize",
     1,
     {.name = "antimetal_memory_hugepage_size_bytes",
      .prom = "node_memory_Hugepagesize_bytes",
      .help = "Memory information field Hugepagesize_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Hugetlb",
     1,
     {.name = NULL,
      .prom = "node_memory_Hugetlb_bytes",
      .help = "Memory information field Hugetlb_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"DirectMap4k",
     1,
     {.name = NULL,
      .prom = "node_memory_DirectMap4k_bytes",
      .help = "Memory information field DirectMap4k_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"DirectMap2M",
     1,
     {.name = NULL,
      .prom = "node_memory_DirectMap2M_bytes",
      .help = "Memory information field DirectMap2M_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"DirectMap4M",
     1,
     {.name = NULL,
      .prom = "node_memory_DirectMap4M_bytes",
      .help = "Memory information field DirectMap4M_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"DirectMap1G",
     1,
     {.name = NULL,
      .prom = "node_memory_DirectMap1G_bytes",
      .help = "Memory information field DirectMap1G_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
    {"Quicklists",
     1,
     {.name = NULL,
      .prom = "node_memory_Quicklists_bytes",
      .help = "Memory information field Quicklists_bytes.",
      .unit = "By",
      .type = AM_METRIC_GAUGE}},
};

static int fail(const char **why, const char *msg, struct am_metric_set *out, size_t mark)
{
	if (why)
		*why = msg;
	am_metric_set_truncate(out, mark);
	return -EINVAL;
}

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
	int seen_total = 0, unknown = 0;

	for (line = text; line && *line; line = am_next_line(line)) {
		char key[64];
		uint64_t v;
		int kb;

		if (*line == '\n')
			continue;
		if (meminfo_line(line, key, sizeof(key), &v, &kb))
			return fail(why, "expected 'Key: value [kB]' lines", out, mark);
		if (v > (UINT64_MAX >> 10))
			return fail(why, "value out of range", out, mark);
		for (i = 0; i < sizeof(meminfo_fields) / sizeof(meminfo_fields[0]); i++)
			if (!strcmp(key, meminfo_fields[i].key))
				break;
		if (i == sizeof(meminfo_fields) / sizeof(meminfo_fields[0])) {
			unknown++;
			continue;
		}
		if (kb != meminfo_fields[i].kb)
			return fail(why, "a field's kB unit is missing or unexpected", out, mark);
		seen_total |= !strcmp(key, "MemTotal");
		am_metric_add(out, &meminfo_fields[i].desc, kb ? (double)(v << 10) : (double)v,
			      NULL);
	}
	/* Every kernel since 2.6 reports MemTotal first: without it the text is not meminfo. */
	if (!seen_total)
		return fail(why, "no MemTotal line", out, mark);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_memory_unknown_fields",
				     .help =
					 "/proc/meminfo fields the agent has no name for (a newer "
					 "kernel's), not served.",
				     .type = AM_METRIC_GAUGE),
		      unknown, NULL);
	return 0;
}

/* node_exporter 1.5's default vmstat fields (^(oom_kill|pgpg|pswp|pg.*fault).*) as
 * node_vmstat_<field>, which it declares untyped; the reclaim counters are the agent's own. */
static const struct {
	const char *key;
	struct am_metric_desc desc;
} vmstat_fields[] = {
    {"pgpgin",
     {.name = "antimetal_vmstat_pgpgin_total",
      .prom = "node_vmstat_pgpgin",
      .help = "KiB paged in from disk.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgpgout",
     {.name = "antimetal_vmstat_pgpgout_total",
      .prom = "node_vmstat_pgpgout",
      .help = "KiB paged out to disk.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pswpin",
     {.name = "antimetal_vmstat_pswpin_total",
      .prom = "node_vmstat_pswpin",
      .help = "Pages swapped in.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pswpout",
     {.name = "antimetal_vmstat_pswpout_total",
      .prom = "node_vmstat_pswpout",
      .help = "Pages swapped out.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgfault",
     {.name = "antimetal_vmstat_pgfault_total",
      .prom = "node_vmstat_pgfault",
      .help = "Page faults.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgmajfault",
     {.name = "antimetal_vmstat_pgmajfault_total",
      .prom = "node_vmstat_pgmajfault",
      .help = "Major page faults (needing I/O).",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgsteal_kswapd",
     {.name = "antimetal_vmstat_pgsteal_kswapd_total",
      .prom = NULL,
      .help = "Pages reclaimed by kswapd.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgsteal_direct",
     {.name = "antimetal_vmstat_pgsteal_direct_total",
      .prom = NULL,
      .help = "Pages reclaimed by direct reclaim.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgscan_kswapd",
     {.name = "antimetal_vmstat_pgscan_kswapd_total",
      .prom = NULL,
      .help = "Pages scanned by kswapd.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"pgscan_direct",
     {.name = "antimetal_vmstat_pgscan_direct_total",
      .prom = NULL,
      .help = "Pages scanned by direct reclaim.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"oom_kill",
     {.name = "antimetal_vmstat_oom_kill_total",
      .prom = "node_vmstat_oom_kill",
      .help = "Processes killed by the OOM killer.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
};

int am_parse_vmstat(const char *text, struct am_metric_set *out, const char **why)
{
	size_t mark = out->n, i;
	const char *line;
	int lines = 0;

	for (line = text; line && *line; line = am_next_line(line)) {
		char key[64];
		const char *p = line;
		uint64_t v;

		if (*line == '\n')
			continue;
		if (!am_next_token(&p, key, sizeof(key)) || am_parse_u64(&p, &v) || !am_at_eol(p))
			return fail(why, "expected 'name value' lines", out, mark);
		lines++;
		for (i = 0; i < sizeof(vmstat_fields) / sizeof(vmstat_fields[0]); i++)
			if (!strcmp(key, vmstat_fields[i].key))
				am_metric_add(out, &vmstat_fields[i].desc, (double)v, NULL);
	}
	if (!lines)
		return fail(why, "empty", out, mark);
	return 0;
}

struct memory_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	int warned_meminfo, warned_vmstat;
};

static int memory_init(void **state, const struct am_collect_roots *roots)
{
	struct memory_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	*state = st;
	return 0;
}

static int memory_collect(void *state, struct am_metric_set *out)
{
	struct memory_state *st = state;
	const char *why = "";
	int err;

	err = am_procfs_read_logged(st->roots.procfs, "meminfo", &st->buf, "memory",
				    &st->warned_meminfo);
	if (err)
		return err;
	err = am_parse_meminfo(st->buf.data, out, &why);
	if (err) {
		am_warn("memory: %s/meminfo: %s", st->roots.procfs, why);
		return err;
	}
	/* vmstat is a part: absent or broken, the meminfo figures still count. */
	if (!am_procfs_read_logged(st->roots.procfs, "vmstat", &st->buf, "memory",
				   &st->warned_vmstat) &&
	    am_parse_vmstat(st->buf.data, out, &why)) {
		if (!st->warned_vmstat)
			am_warn("memory: %s/vmstat: %s", st->roots.procfs, why);
		st->warned_vmstat = 1;
	}
	return 0;
}

static void memory_destroy(void *state)
{
	struct memory_state *st = state;

	if (!st)
		return;
	am_strbuf_free(&st->buf);
	free(st);
}

const struct am_collector am_collector_memory = {
    .name = "memory",
    .init = memory_init,
    .collect = memory_collect,
    .destroy = memory_destroy,
    .node = {"meminfo", "vmstat"},
};
