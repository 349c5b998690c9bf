/* libFuzzer entry point for one parser, chosen at build time with -DFUZZ_<name> (tests/fuzz/
 * Makefile builds one binary per parser). Inputs are copied into exactly-sized heap buffers so
 * ASan catches any read past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parsers.h"
#include "export/metrics_json.h"
#include "export/prom_text.h"

static void render(struct am_metric_set *s)
{
	struct am_strbuf b = {0};

	am_prom_text_render(s, &b);
	am_metrics_json_render(s, &b);
	am_strbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct am_metric_set s = {0};
	const char *why = NULL;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
#if defined(FUZZ_loadavg)
	am_parse_loadavg(text, &s, &why);
#elif defined(FUZZ_meminfo)
	am_parse_meminfo(text, &s, &why);
#elif defined(FUZZ_vmstat)
	am_parse_vmstat(text, &s, &why);
#elif defined(FUZZ_diskstats)
	am_parse_diskstats(text, &s, &why);
#elif defined(FUZZ_net_dev)
	am_parse_net_dev(text, &s, &why);
#elif defined(FUZZ_net_snmp)
	am_parse_net_snmp(text, &s, &why);
#elif defined(FUZZ_sockstat)
	am_parse_sockstat(text, 4096, &s, &why);
#elif defined(FUZZ_psi)
	{
		struct am_psi p;

		am_parse_psi(text, &p, &why);
	}
#elif defined(FUZZ_stat)
	{
		struct am_stat_sample a = {0}, b = {0};

		/* Two parses of the same text exercise the delta path too. */
		if (!am_parse_stat(text, &a, &why) && !am_parse_stat(text, &b, &why))
			am_stat_emit(&b, &a, 100, &s);
		am_stat_sample_free(&a);
		am_stat_sample_free(&b);
	}
#elif defined(FUZZ_pid_stat)
	{
		struct am_pid_stat p;

		am_parse_pid_stat(text, &p, &why);
	}
#elif defined(FUZZ_mountinfo)
	{
		char mnt[4096];

		am_parse_mountinfo_cgroup2(text, mnt, sizeof(mnt), &why);
	}
#elif defined(FUZZ_flat_keyed)
	{
		uint64_t v;

		am_parse_flat_keyed(text, "usage_usec", &v);
	}
#elif defined(FUZZ_kmsg)
	{
		struct am_kmsg_record r;
		char *raw = malloc(size ? size : 1);

		/* Records from the device are not NUL-terminated. */
		if (raw) {
			memcpy(raw, data, size);
			am_parse_kmsg_record(raw, size, &r, &why);
			free(raw);
		}
	}
#elif defined(FUZZ_cgroup_files)
	{
		struct am_cgroup_cpu c = {0};
		struct am_cgroup_memstat ms;
		struct am_cgroup_memevents me;
		struct am_cgroup_pidsevents pe;
		struct am_cgroup_io *io = calloc(1, sizeof(*io));
		struct am_cgroup_class cl;
		uint64_t v;

		am_parse_cgroup_value(text, &v, &why);
		am_parse_cgroup_cpu_stat(text, &c, &why);
		am_parse_cgroup_cpu_max(text, &c, &why);
		am_parse_cgroup_cfs(text, text, &c, &why);
		am_parse_cgroup_cpuacct_stat(text, 100, &c, &why);
		am_parse_cgroup_memory_stat(text, &ms, &why);
		am_parse_cgroup_memory_events(text, &me, &why);
		am_parse_cgroup_oom_control(text, &me, &why);
		am_parse_cgroup_pids_events(text, &pe, &why);
		if (io) {
			am_parse_cgroup_io_stat(text, io, &why);
			am_parse_cgroup_blkio(text, true, io, &why);
			free(io);
		}
		am_cgroup_classify(text, &cl);
	}
#elif defined(FUZZ_cgroup_layout)
	{
		struct am_cgroup_layout l;
		char out[256];

		am_parse_cgroup_layout(text, &l, &why);
		am_parse_proc_cgroup(text, "memory", out, sizeof(out));
		am_parse_proc_cgroup(text, NULL, out, sizeof(out));
	}
#elif defined(FUZZ_oom_kmsg)
	{
		struct am_oom_kmsg_pairer p = {0};
		struct am_oom_kmsg k;
		const char *line = text, *nl;
		char buf[600];

		/* Each line a record's message, as the collector feeds them. */
		for (; *line; line = nl ? nl + 1 : line + strlen(line)) {
			size_t n;

			nl = strchr(line, '\n');
			n = nl ? (size_t)(nl - line) : strlen(line);
			if (n >= sizeof(buf))
				n = sizeof(buf) - 1;
			memcpy(buf, line, n);
			buf[n] = '\0';
			am_oom_kmsg_feed(&p, buf, &k);
		}
	}
#elif defined(FUZZ_cpuinfo)
	am_parse_cpuinfo(text, &s, &why);
#elif defined(FUZZ_textfile)
	{
		int line;

		am_parse_textfile(text, &s, &why, &line);
	}
#elif defined(FUZZ_mounts)
	{
		struct am_mount *m = NULL;
		size_t n, i;

		if (!am_parse_mounts(text, &m, &n, &why))
			for (i = 0; i < n; i++)
				(void)am_mount_excluded(&m[i]);
		free(m);
	}
#elif defined(FUZZ_selinux_config)
	(void)am_parse_selinux_config(text);
#elif defined(FUZZ_os_release)
	{
		struct am_os_release r;

		if (!am_parse_os_release(text, &r, &why))
			(void)am_os_release_version(&r);
	}
#elif defined(FUZZ_kernel_tables)
	{
		static const char *const names[2] = {"found", "drop"};
		struct am_softnet_cpu c[16];
		uint64_t a, b, sums[2], present;
		size_t n;

		am_parse_file_nr(text, &a, &b, &why);
		am_parse_softnet(text, c, 16, &n, &why);
		am_parse_conntrack_stat(text, names, 2, sums, &present, &why);
		am_parse_udp_queues(text, &a, &b, &why);
		am_parse_arp(text, &s, &why);
		am_parse_net_snmp6(text, &s, &why);
	}
#elif defined(FUZZ_prom_text)
	{
		/* The help text is the fuzz input: a run-time descriptor. */
		struct am_metric_desc d = {
		    .name = "antimetal_fuzz", .help = text, .type = AM_METRIC_GAUGE};

		am_metric_add(&s, &d, (double)size, "label", text, NULL);
		render(&s);
		am_metric_set_reset(&s);
	}
#else
#error "build with -DFUZZ_<parser>"
#endif
	(void)why;
	render(&s);
	am_metric_set_free(&s);
	free(text);
	return 0;
}
