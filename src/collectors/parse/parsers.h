/* The pure parsers behind the system collectors: text of one /proc or /sys file in, metrics
 * (or a small struct) out. No file access, no logging, no global state, so each is unit tested
 * on fixtures and fuzzed (tests/fuzz/). Each returns 0 or -EINVAL and then sets *WHY (when
 * WHY is not NULL) to a static description of what was wrong, leaving OUT as it was. */
#ifndef ANTIMETAL_COLLECTORS_PARSERS_H
#define ANTIMETAL_COLLECTORS_PARSERS_H

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

/* /proc/net/dev: per-interface receive/transmit counters. */
int am_parse_net_dev(const char *text, struct am_metric_set *out, const char **why);

/* /proc/net/snmp or /proc/net/netstat (header line + value line per protocol): the selected
 * TCP, UDP, IP counters. */
int am_parse_net_snmp(const char *text, struct am_metric_set *out, const char **why);
/* /proc/net/snmp6 ("Ip6InOctets 128" lines): the Ip6, Icmp6, Udp6, UdpLite6 counters. */
int am_parse_net_snmp6(const char *text, struct am_metric_set *out, const char **why);
/* /proc/net/sockstat or sockstat6: sockets in use per protocol, TCP/UDP memory (PAGE_SIZE-byte pages). */
int am_parse_sockstat(const char *text, long page_size, struct am_metric_set *out,
		      const char **why);

/* One pressure (PSI) file: "some" and optionally "full" lines. */
struct am_psi {
	int has_some, has_full;
	double some_avg[3], full_avg[3]; /* avg10, avg60, avg300, percent */
	uint64_t some_total_us, full_total_us;
};
/* A /proc/pressure/{cpu,memory,io} or cgroup *.pressure file into OUT (a "some" line is required). */
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
	int has_total;
	struct am_cpu_times *cpus; /* grown by the parser; free with am_stat_sample_free */
	size_t ncpus, cap;
	uint64_t ctxt, intr, forks, btime, procs_running, procs_blocked;
	int has_ctxt, has_intr, has_forks, has_btime, has_running, has_blocked;
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
/* VERSION_ID as node_exporter's node_os_version value: its leading major[.minor] number, or
 * -1 when it does not start with one. */
double am_os_release_version(const struct am_os_release *r);

#endif
