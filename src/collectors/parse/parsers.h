/* The pure parsers behind the system collectors: text of one /proc or /sys file in, metrics
 * (or a small struct) out. No file access, no logging, no global state, so each is unit tested
 * on fixtures and fuzzed (tests/fuzz/). Each returns 0 or -EINVAL and then sets *WHY (when
 * WHY is not NULL) to a static description of what was wrong, leaving OUT as it was. Each
 * lives in this folder in a file named for what it parses (loadavg.c, meminfo.c, stat.c, ...);
 * the collectors in ../system/ read the files and call them. */
#ifndef ANTIMETAL_COLLECTORS_PARSERS_H
#define ANTIMETAL_COLLECTORS_PARSERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records/metric.h"

/* /proc/loadavg: antimetal_load1/5/15, runnable and total scheduling entities. */
int am_parse_loadavg(const char *text, struct am_metric_set *out, const char **why);

/* /proc/meminfo: antimetal_memory_*_bytes for the known fields (kB -> bytes), huge pages. */
int am_parse_meminfo(const char *text, struct am_metric_set *out, const char **why);
/* /proc/vmstat: selected counters as antimetal_vmstat_*_total. */
int am_parse_vmstat(const char *text, struct am_metric_set *out, const char **why);

/* Nonzero for block devices node_exporter also skips: partitions, loop, ram, zram, fd. */
int am_disk_ignored(const char *name);
/* /proc/diskstats: per-device counters (bytes, seconds) of the devices not ignored. */
int am_parse_diskstats(const char *text, struct am_metric_set *out, const char **why);
/* node_disk_info's descriptor: the disk collector finds those samples by it to add udev's
 * properties. */
extern const struct am_metric_desc am_disk_info_desc;

/* /proc/net/dev: per-interface receive/transmit counters. */
int am_parse_net_dev(const char *text, struct am_metric_set *out, const char **why);
/* Its descriptors, one per counter column; the first (receive bytes) marks one sample per
 * device, which the network collector looks for. */
extern const struct am_metric_desc am_net_dev_metrics[16];

/* /proc/net/snmp or /proc/net/netstat (header line + value line per protocol): the selected
 * TCP, UDP, IP counters. */
int am_parse_net_snmp(const char *text, struct am_metric_set *out, const char **why);
/* /proc/net/snmp6 ("Ip6InOctets 128" lines): the Ip6, Icmp6, Udp6, UdpLite6 counters. */
int am_parse_net_snmp6(const char *text, struct am_metric_set *out, const char **why);
/* /proc/net/sockstat or sockstat6: sockets in use per protocol, TCP/UDP memory (PAGE_SIZE-byte
 * pages). */
int am_parse_sockstat(const char *text, long page_size, struct am_metric_set *out,
		      const char **why);

/* One pressure (PSI) file: "some" and optionally "full" lines. */
struct am_psi {
	bool has_some, has_full;
	double some_avg[3], full_avg[3]; /* avg10, avg60, avg300, percent */
	uint64_t some_total_us, full_total_us;
};
/* A /proc/pressure/{cpu,memory,io} or cgroup *.pressure file into OUT (a "some" line is
 * required). */
int am_parse_psi(const char *text, struct am_psi *out, const char **why);

/* /proc/stat. */
enum {
	AM_CPU_USER,
	AM_CPU_NICE,
	AM_CPU_SYSTEM,
	AM_CPU_IDLE,
	AM_CPU_IOWAIT,
	AM_CPU_IRQ,
	AM_CPU_SOFTIRQ,
	AM_CPU_STEAL,
	AM_CPU_GUEST,
	AM_CPU_GUEST_NICE,
	AM_CPU_NMODES
};
/* Mode names as node_exporter labels them ("user", ..., "guest_nice"). */
extern const char *const am_cpu_mode_names[AM_CPU_NMODES];
struct am_cpu_times {
	int cpu; /* -1 for the aggregate "cpu" line */
	uint64_t ticks[AM_CPU_NMODES];
};
struct am_stat_sample {
	struct am_cpu_times total;
	bool has_total;
	struct am_cpu_times *cpus; /* grown by the parser; free with am_stat_sample_free */
	size_t ncpus, cap;
	uint64_t ctxt, intr, forks, btime, procs_running, procs_blocked;
	bool has_ctxt, has_intr, has_forks, has_btime, has_running, has_blocked;
};
/* /proc/stat into OUT, reusing its per-CPU array; OUT keeps its array on failure too. */
int am_parse_stat(const char *text, struct am_stat_sample *out, const char **why);
/* Free a sample's per-CPU array. */
void am_stat_sample_free(struct am_stat_sample *s);
/* Emit the counters of CUR (ticks of 1/USER_HZ s -> seconds) and, when PREV is not NULL, the
 * utilisation ratios computed from PREV..CUR. */
void am_stat_emit(const struct am_stat_sample *cur, const struct am_stat_sample *prev, long user_hz,
		  struct am_metric_set *out);

/* /proc/PID/stat fields the processes collector uses. */
struct am_pid_stat {
	int pid;
	char comm[64]; /* sanitised: bytes < 0x20 become '?' */
	char state;
	uint64_t utime, stime; /* ticks */
	uint64_t starttime;    /* ticks since boot */
	int64_t rss_pages;
	uint64_t num_threads;
};
/* One /proc/PID/stat line into OUT. */
int am_parse_pid_stat(const char *text, struct am_pid_stat *out, const char **why);

/* /proc/self/mountinfo: copy the mount point of the first cgroup2 mount into OUT. Returns 0,
 * -ENOENT when there is none, -EINVAL when malformed. */
int am_parse_mountinfo_cgroup2(const char *text, char *out, size_t outlen, const char **why);
/* A flat-keyed cgroup file (cpu.stat, memory.stat): value of KEY, 0 or -ENOENT/-EINVAL. */
int am_parse_flat_keyed(const char *text, const char *key, uint64_t *value);

/* One /dev/kmsg record. */
struct am_kmsg_record {
	uint64_t seq;
	uint64_t ts_usec; /* since boot, the kernel's clock */
	int severity;	  /* 0 emerg .. 7 debug */
	int facility;	  /* 0 kern, 1 user, ... */
	char msg[512];	  /* first line of the message, unescaped as the kernel wrote it */
};
/* Parse one record ("pri,seq,ts,flags[,...];message\n KEY=val..."), LEN bytes. */
int am_parse_kmsg_record(const char *rec, size_t len, struct am_kmsg_record *out, const char **why);
/* Severity name as syslog spells it ("emerg" .. "debug"). */
const char *am_kmsg_severity_name(int severity);

/* /proc/cpuinfo: antimetal_cpu_info{cpu,package,core,vendor,family,model,model_name,stepping}
 * per logical CPU. */
int am_parse_cpuinfo(const char *text, struct am_metric_set *out, const char **why);

/* The kernel log's OOM-killer lines (mm/oom_kill.c, mm/memcontrol.c), for the OOM collector
 * where the tracepoint or BPF is missing. Fields a line lacks stay 0 / "". */
struct am_oom_kmsg {
	int32_t pid;
	char comm[17];
	uint32_t uid;
	int have_uid;
	/* "Killed process" line */
	int have_figures;
	uint64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb;
	int oom_score_adj;
	/* "oom-kill:" line */
	char constraint[32];
	char task_memcg[256];
	/* a memcg OOM's "memory: usage" line */
	int have_limit;
	uint64_t limit_kb;
};
/* "[Memory cgroup ]Out of memory: Killed process PID (COMM) total-vm:NkB, anon-rss:NkB,
 * file-rss:NkB, shmem-rss:NkB, UID:N pgtables:NkB oom_score_adj:N" (older kernels stop after
 * shmem-rss). Returns 0, -ENOENT when MSG is not such a line, -EINVAL when it is but garbled. */
int am_parse_oom_killed_line(const char *msg, struct am_oom_kmsg *out, const char **why);
/* "oom-kill:constraint=C,nodemask=...,cpuset=...,mems_allowed=...,oom_memcg=/x,task_memcg=/x,
 * task=COMM,pid=N,uid=N": fills constraint, task_memcg, comm, pid, uid. Same returns. */
int am_parse_oom_kill_line(const char *msg, struct am_oom_kmsg *out, const char **why);
/* A memcg OOM's "memory: usage NkB, limit NkB, failcnt N" line: the limit in kB.
 * Returns 0 or -ENOENT when MSG is not such a line (or -EINVAL garbled). */
int am_parse_oom_memcg_limit_line(const char *msg, uint64_t *limit_kb, const char **why);
/* The lines of one OOM kill arrive as separate records: limit line, oom-kill line, then the
 * "Killed process" line, which closes the kill. */
struct am_oom_kmsg_pairer {
	struct am_oom_kmsg cur;
	uint64_t garbled; /* OOM-killer lines that did not parse */
};
/* Feed one record's message. Returns 1 with the finished kill in *OUT (the pairer is reset),
 * else 0. */
int am_oom_kmsg_feed(struct am_oom_kmsg_pairer *p, const char *msg, struct am_oom_kmsg *out);

/* Which cgroup hierarchies a host mounts, from a mountinfo text. */
enum am_cgroup_mode {
	AM_CGROUP_NONE = 0,
	AM_CGROUP_V1,	  /* controllers on v1 hierarchies only */
	AM_CGROUP_V2,	  /* the unified hierarchy only */
	AM_CGROUP_HYBRID, /* v1 controllers, and a v2 hierarchy beside them (systemd's "unified") */
};
#define AM_CGROUP_V1_MAX 16
struct am_cgroup_layout {
	enum am_cgroup_mode mode;
	char v2_mount[256]; /* "" when none */
	size_t nv1;
	struct {
		char controllers[64]; /* "cpu,cpuacct", "memory", "name=systemd" */
		char mount[256];
	} v1[AM_CGROUP_V1_MAX];
};
/* Parse mountinfo TEXT (as /proc/self/mountinfo) into OUT. Mount points are as the text gives
 * them (prefix a host root yourself). Returns 0, or -EINVAL when a cgroup line is garbled. */
int am_parse_cgroup_layout(const char *text, struct am_cgroup_layout *out, const char **why);
/* The v1 mount point of CONTROLLER ("memory"), or NULL when it is not on a v1 hierarchy. */
const char *am_cgroup_layout_v1(const struct am_cgroup_layout *l, const char *controller);
/* From a /proc/PID/cgroup TEXT, the path of CONTROLLER's v1 hierarchy ("memory"), or with
 * CONTROLLER NULL the unified hierarchy's ("0::/x"), copied into OUT.
 * Returns 0, -ENOENT when absent, -EINVAL when garbled or too long. */
int am_parse_proc_cgroup(const char *text, const char *controller, char *out, size_t outlen);

/* ---- cgroup v1 and v2 files (cgroup_files.c) ----
 * Each fills the fields its file gives and sets their bits in the struct's `have` mask, so a
 * missing file or key is told apart from a zero. AM_CGROUP_UNLIMITED stands for "max", v1's
 * "-1" quota and v1's page-rounded LONG_MAX limit. */
#define AM_CGROUP_UNLIMITED UINT64_MAX

/* One number, or "max": cpu.weight, cpu.shares, memory.current, memory.usage_in_bytes,
 * memory.max, memory.limit_in_bytes, memory.high, memory.low, memory.min, memory.peak,
 * memory.max_usage_in_bytes,
 * memory.failcnt, memory.swap.current, memory.swap.max, pids.current, pids.max, cpuacct.usage,
 * cpuacct.usage_user, cpuacct.usage_sys. Returns 0 or -EINVAL. */
int am_parse_cgroup_value(const char *text, uint64_t *v, const char **why);

enum am_cgroup_cpu_have {
	AM_CG_CPU_USAGE = 1 << 0,	/* usage_usec (v2), cpuacct.usage (v1) */
	AM_CG_CPU_USER_SYSTEM = 1 << 1, /* user_usec/system_usec, cpuacct.usage_user/sys or .stat */
	AM_CG_CPU_THROTTLING = 1 << 2,	/* nr_periods, nr_throttled, throttled_usec */
	AM_CG_CPU_QUOTA = 1 << 3,	/* quota_usec, period_usec */
	AM_CG_CPU_WEIGHT = 1 << 4,	/* weight (v2) */
	AM_CG_CPU_SHARES = 1 << 5,	/* shares (v1) */
};
struct am_cgroup_cpu {
	unsigned have;
	uint64_t usage_usec, user_usec, system_usec;
	uint64_t nr_periods, nr_throttled, throttled_usec;
	uint64_t quota_usec; /* AM_CGROUP_UNLIMITED: no quota */
	uint64_t period_usec;
	uint64_t weight, shares;
};
/* cpu.stat, v2 (usage_usec, user_usec, system_usec, nr_periods, nr_throttled, throttled_usec)
 * or v1 (nr_periods, nr_throttled, throttled_time in ns). Returns 0 or -EINVAL. */
int am_parse_cgroup_cpu_stat(const char *text, struct am_cgroup_cpu *out, const char **why);
/* v2 cpu.max: "max 100000" or "50000 100000". */
int am_parse_cgroup_cpu_max(const char *text, struct am_cgroup_cpu *out, const char **why);
/* v1 cpu.cfs_quota_us ("-1" = none) and cpu.cfs_period_us. */
int am_parse_cgroup_cfs(const char *quota, const char *period, struct am_cgroup_cpu *out,
			const char **why);
/* v1 cpuacct.stat ("user N\nsystem N" in USER_HZ ticks of 1/TICKS_PER_SEC s). */
int am_parse_cgroup_cpuacct_stat(const char *text, long ticks_per_sec, struct am_cgroup_cpu *out,
				 const char **why);

/* memory.stat, v2 keys or v1's (rss -> anon, cache -> file, mapped_file -> file_mapped,
 * dirty -> file_dirty, writeback -> file_writeback, shmem, pgmajfault; v1 has no kernel_stack or
 * sock). Missing keys leave their bit clear. */
enum am_cgroup_memstat_have {
	AM_CG_MS_ANON = 1 << 0,
	AM_CG_MS_FILE = 1 << 1,
	AM_CG_MS_KERNEL = 1 << 2,
	AM_CG_MS_SHMEM = 1 << 3,
	AM_CG_MS_PGMAJFAULT = 1 << 4,
	AM_CG_MS_PGFAULT = 1 << 5,
	AM_CG_MS_FILE_MAPPED = 1 << 6,
	AM_CG_MS_SLAB = 1 << 7,
	AM_CG_MS_KERNEL_STACK = 1 << 8,
	AM_CG_MS_SOCK = 1 << 9,
	AM_CG_MS_FILE_DIRTY = 1 << 10,
	AM_CG_MS_FILE_WRITEBACK = 1 << 11,
	AM_CG_MS_SWAP = 1 << 12, /* v1 total_swap (with swap accounting) */
};
struct am_cgroup_memstat {
	unsigned have;
	uint64_t anon, file, kernel, shmem, pgmajfault, pgfault, file_mapped, slab;
	uint64_t kernel_stack, sock, file_dirty, file_writeback, swap;
};
int am_parse_cgroup_memory_stat(const char *text, struct am_cgroup_memstat *out, const char **why);

/* v2 memory.events (low, high, max, oom, oom_kill, oom_group_kill from 5.13) or v1
 * memory.oom_control (oom_kill_disable, under_oom, oom_kill). */
enum am_cgroup_memevents_have {
	AM_CG_ME_LOW = 1 << 0,
	AM_CG_ME_HIGH = 1 << 1,
	AM_CG_ME_MAX = 1 << 2,
	AM_CG_ME_OOM = 1 << 3,
	AM_CG_ME_OOM_KILL = 1 << 4,
	AM_CG_ME_UNDER_OOM = 1 << 5,
	AM_CG_ME_OOM_KILL_DISABLE = 1 << 6,
	AM_CG_ME_OOM_GROUP_KILL = 1 << 7,
};
struct am_cgroup_memevents {
	unsigned have;
	uint64_t low, high, max, oom, oom_kill, under_oom, oom_kill_disable, oom_group_kill;
};
int am_parse_cgroup_memory_events(const char *text, struct am_cgroup_memevents *out,
				  const char **why);
int am_parse_cgroup_oom_control(const char *text, struct am_cgroup_memevents *out,
				const char **why);

/* pids.events: forks refused by pids.max. "max" counts, on v1 and on v2 before 6.12, the
 * refused forks of this cgroup's tasks (whichever limit refused them); on v2 from 6.12, the hits
 * of this cgroup's own limit by its subtree; "max.imposed" (v2, 6.12+) the refused forks of the
 * subtree. Some v1 kernels of 6.12 and later wrote "maxN", without the space: taken too. A file
 * without "max" is garbled. */
enum am_cgroup_pidsevents_have {
	AM_CG_PE_MAX = 1 << 0,
	AM_CG_PE_MAX_IMPOSED = 1 << 1,
};
struct am_cgroup_pidsevents {
	unsigned have;
	uint64_t max, max_imposed;
};
int am_parse_cgroup_pids_events(const char *text, struct am_cgroup_pidsevents *out,
				const char **why);

/* Per-device I/O: v2 io.stat, or v1 blkio.throttle.io_service_bytes / io_serviced. */
#define AM_CGROUP_IO_MAX_DEVICES 64
struct am_cgroup_io_dev {
	unsigned major, minor;
	uint64_t rbytes, wbytes, rios, wios;
};
struct am_cgroup_io {
	size_t n;
	size_t dropped; /* lines of devices past AM_CGROUP_IO_MAX_DEVICES, not kept */
	struct am_cgroup_io_dev dev[AM_CGROUP_IO_MAX_DEVICES];
};
/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per line. */
int am_parse_cgroup_io_stat(const char *text, struct am_cgroup_io *out, const char **why);
/* v1 blkio.throttle.io_service_bytes (BYTES true) or io_serviced: "MAJ:MIN Read N" ...
 * lines, merged into OUT's devices. */
int am_parse_cgroup_blkio(const char *text, bool bytes, struct am_cgroup_io *out, const char **why);

/* What a cgroup path is. */
enum am_cgroup_kind {
	AM_CGROUP_OTHER = 0,
	AM_CGROUP_CONTAINER, /* a container's own cgroup */
	AM_CGROUP_POD,	     /* a kubelet pod cgroup (its containers are below) */
	AM_CGROUP_QOS,	     /* kubepods, kubepods/burstable, kubepods-besteffort.slice */
	AM_CGROUP_UNIT,	     /* a systemd unit: x.service, x.scope, x.slice */
};
struct am_cgroup_class {
	enum am_cgroup_kind kind;
	const char *runtime;   /* container: "docker", "containerd", "cri-o", "podman", ... */
	char container_id[65]; /* container: 64 hex digits */
	char pod_uid[37];      /* pod and its containers: 8-4-4-4-12, dashes restored */
	const char *qos;       /* pod, QoS level and containers: "guaranteed", "burstable",
				  "besteffort" */
	char unit[256];	       /* unit: the innermost systemd unit name */
};
/* Classify cgroup PATH ("/kubepods.slice/.../cri-containerd-ID.scope"). Always succeeds. */
void am_cgroup_classify(const char *path, struct am_cgroup_class *out);

/* /proc/sys/fs/file-nr ("allocated unused maximum"). */
int am_parse_file_nr(const char *text, uint64_t *allocated, uint64_t *maximum, const char **why);

/* /proc/net/softnet_stat, one line of hex columns per CPU. */
struct am_softnet_cpu {
	uint64_t processed, dropped, time_squeeze;
};
/* Fill OUT[0..*N) (at most MAX lines; more is an error). */
int am_parse_softnet(const char *text, struct am_softnet_cpu *out, size_t max, size_t *n,
		     const char **why);

/* /proc/net/stat/nf_conntrack (a header of column names, then hex values per CPU): the sum
 * over CPUs of each of the NAMES[0..N) columns into SUMS (columns absent stay 0, *PRESENT has
 * bit i set when NAMES[i] is a column). */
int am_parse_conntrack_stat(const char *text, const char *const *names, size_t n, uint64_t *sums,
			    uint64_t *present, const char **why);

/* /proc/net/udp or udp6: the sum of the tx_queue and rx_queue columns over all sockets. */
int am_parse_udp_queues(const char *text, uint64_t *tx, uint64_t *rx, const char **why);

/* /proc/net/arp: entries per device into OUT as node_arp_entries{device}. */
int am_parse_arp(const char *text, struct am_metric_set *out, const char **why);

/* A node_exporter textfile (*.prom, the Prometheus text format): counters, gauges and untyped
 * samples, each metric family with a run-time descriptor owned by OUT. All or nothing: on any
 * problem (bad syntax, a client-side timestamp, a duplicate series, a second TYPE line,
 * histogram/summary types, more than AM_METRIC_MAX_LABELS labels) OUT is left as it was and
 * *WHY says what and *LINE where. */
int am_parse_textfile(const char *text, struct am_metric_set *out, const char **why, int *line);
/* Whether samples A and B carry the same label set (order aside). */
int am_metric_same_labels(const struct am_metric *a, const struct am_metric *b);

/* One line of /proc/PID/mounts. */
struct am_mount {
	char device[256];
	char mountpoint[512]; /* octal escapes (\040) decoded */
	char fstype[64];
	int readonly; /* "ro" among the options */
};
/* /proc/1/mounts into *OUT (malloc'd, *N entries; free() it). Returns 0, -ENOMEM, or -EINVAL
 * for a line that is not "DEVICE MOUNTPOINT FSTYPE OPTIONS DUMP PASS". */
int am_parse_mounts(const char *text, struct am_mount **out, size_t *n, const char **why);
/* Whether node_exporter 1.5 (Debian's defaults) leaves a mount out: mount points under /dev,
 * /proc, /run, /sys, /mnt, /media, /var/lib/docker/, /var/lib/containers/storage/, and pseudo
 * file system types (proc, sysfs, cgroup, tracefs, overlay, squashfs, ...). */
int am_mount_excluded(const struct am_mount *m);

/* /etc/os-release: the fields node_exporter's os collector labels with. */
enum {
	AM_OS_BUILD_ID,
	AM_OS_ID,
	AM_OS_ID_LIKE,
	AM_OS_IMAGE_ID,
	AM_OS_IMAGE_VERSION,
	AM_OS_NAME,
	AM_OS_PRETTY_NAME,
	AM_OS_VARIANT,
	AM_OS_VARIANT_ID,
	AM_OS_VERSION,
	AM_OS_VERSION_CODENAME,
	AM_OS_VERSION_ID,
	AM_OS_NFIELDS
};
/* Label names of the fields ("build_id", ...), in the enum's order. */
extern const char *const am_os_release_labels[AM_OS_NFIELDS];
struct am_os_release {
	char field[AM_OS_NFIELDS][128]; /* unquoted values; "" when absent */
};
/* KEY=value lines, values optionally in single or double quotes with backslash escapes.
 * Comments and blank lines are skipped; a line that is not KEY=value is an error. */
int am_parse_os_release(const char *text, struct am_os_release *out, const char **why);

/* The mode /etc/selinux/config's TEXT sets (SELINUX=): 1 enforcing, 0 permissive, -1 disabled,
 * anything else, or no such line (node_exporter's node_selinux_config_mode). */
int am_parse_selinux_config(const char *text);
/* VERSION_ID as node_exporter's node_os_version value: its leading major[.minor] number, or
 * -1 when it does not start with one. */
double am_os_release_version(const struct am_os_release *r);

#endif
