/* Kernel feature probes: one table of what this kernel and this process can do for BPF, filled
 * with libbpf's probe API where it answers the question and real load/attach attempts where it
 * does not (kprobes, fentry, perf links). Every probe releases what it created. */
#ifndef ANTIMETAL_CORE_PROBES_H
#define ANTIMETAL_CORE_PROBES_H

#include <stdbool.h>
#include <stddef.h>

struct btf;

enum am_probe_status {
	AM_PROBE_NO,	  /* probed: not available */
	AM_PROBE_YES,	  /* probed: available */
	AM_PROBE_UNKNOWN, /* could not be probed (privileges, missing prerequisite): see detail */
	AM_PROBE_INFO,	  /* a setting, not a feature: the detail is the value */
};

/* The probe table, in report order. */
enum am_probe_id {
	AM_P_PROG_TRACEPOINT,
	AM_P_PROG_RAW_TRACEPOINT,
	AM_P_PROG_PERF_EVENT,
	AM_P_PROG_KPROBE,
	AM_P_PROG_TRACING,
	AM_P_MAP_RINGBUF,
	AM_P_MAP_PERF_EVENT_ARRAY,
	AM_P_MAP_PERCPU_ARRAY,
	AM_P_HELPER_GET_STACK,
	AM_P_HELPER_RINGBUF_RESERVE,
	AM_P_HELPER_PERF_EVENT_OUTPUT,
	AM_P_HELPER_PROBE_READ_USER_STR,
	AM_P_HELPER_GET_CURRENT_CGROUP_ID,
	AM_P_HELPER_GET_CURRENT_TASK,
	AM_P_TRACEFS,
	AM_P_PERF_LINK,
	AM_P_PERF_IOCTL,
	AM_P_KPROBE_ATTACH,
	AM_P_FENTRY_ATTACH,
	AM_P_BTF_NATIVE,
	AM_P_CORE_RELOC,
	AM_P_PMU_HW,
	AM_P_PMU_SW,
	AM_P_MEMLOCK,
	AM_P_CAP_BPF,
	AM_P_CAP_PERFMON,
	AM_P_CAP_SYS_ADMIN,
	AM_P_UNPRIV_BPF,
	AM_P_PERF_PARANOID,
	AM_P_JIT,
	AM_P__COUNT
};

struct am_probe_result {
	enum am_probe_status status;
	char detail[240];
};

/* Inputs of a probe run. */
struct am_probe_ctx {
	const char *root;	   /* prefix for /proc and /sys files read ("/" or NULL: live) */
	const struct btf *vmlinux; /* native kernel BTF, NULL when absent (fentry needs it) */
	bool mount_tracefs;	   /* mount tracefs when it is not (needs root) */
};

/* Group ("program types", "maps", "helpers", "attach", "kernel", "capabilities", "sysctl")
 * of probe ID. */
const char *am_probe_group(enum am_probe_id id);
/* Stable short name of probe ID ("ringbuf", "bpf_get_stack", ...), also the JSON key. */
const char *am_probe_name(enum am_probe_id id);
/* "yes", "no", "unknown" or "info". */
const char *am_probe_status_name(enum am_probe_status s);

/* Run every probe except AM_P_BTF_NATIVE and AM_P_CORE_RELOC (they need the BTF search; see
 * check_report.c) into OUT[AM_P__COUNT]. Never fails: what cannot be probed is UNKNOWN with
 * the reason. */
void am_probes_run(const struct am_probe_ctx *ctx, struct am_probe_result *out);

/* Whether BPF ring buffers can be created here, by creating a one-page one: 1 yes; 0 the
 * kernel does not know the map type (EINVAL: before 5.8); -EPERM or -EACCES when the kernel
 * was not asked or said no to this process (a seccomp filter, a missing CAP_BPF or
 * CAP_SYS_ADMIN, an LSM); another -errno otherwise. libbpf_probe_bpf_map_type answers 0 for a
 * refusal as for an old kernel, which made a refused bpf() read "before 5.8". */
int am_probe_ringbuf(void);

/* "refused (EPERM: seccomp or missing capability)" for ERR -EPERM (EACCES likewise): what
 * every message about a refused bpf() says; NULL for any other ERR. */
const char *am_probe_refused(int err);

/* The whole sentence for a refused bpf() in BUF (LEN bytes): am_probe_refused's words, then
 * what this process lacks ("; missing CAP_BPF (or CAP_SYS_ADMIN)") or, every capability held,
 * that a seccomp filter or an LSM refused it. Returns BUF, or NULL when ERR is no refusal. */
const char *am_probe_refusal(int err, char *buf, size_t len);

#endif
