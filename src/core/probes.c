#include "core/probes.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/capabilities.h"
#include "core/kversion.h"
#include "core/memlock.h"
#include "core/perf_attach.h"
#include "core/root_path.h"
#include "core/tracefs.h"
#include "util/file.h"

/* Kernel-internal errno that leaks to user space from BPF attach paths. */
#define AM_ENOTSUPP 524

static const struct {
	const char *group, *name;
} table[AM_P__COUNT] = {
    [AM_P_PROG_TRACEPOINT] = {"program types", "tracepoint"},
    [AM_P_PROG_RAW_TRACEPOINT] = {"program types", "raw_tracepoint"},
    [AM_P_PROG_PERF_EVENT] = {"program types", "perf_event"},
    [AM_P_PROG_KPROBE] = {"program types", "kprobe"},
    [AM_P_PROG_TRACING] = {"program types", "tracing"},
    [AM_P_MAP_RINGBUF] = {"maps", "ringbuf"},
    [AM_P_MAP_PERF_EVENT_ARRAY] = {"maps", "perf_event_array"},
    [AM_P_MAP_PERCPU_ARRAY] = {"maps", "percpu_array"},
    [AM_P_HELPER_GET_STACK] = {"helpers", "bpf_get_stack"},
    [AM_P_HELPER_RINGBUF_RESERVE] = {"helpers", "bpf_ringbuf_reserve"},
    [AM_P_HELPER_PERF_EVENT_OUTPUT] = {"helpers", "bpf_perf_event_output"},
    [AM_P_HELPER_PROBE_READ_USER_STR] = {"helpers", "bpf_probe_read_user_str"},
    [AM_P_HELPER_GET_CURRENT_CGROUP_ID] = {"helpers", "bpf_get_current_cgroup_id"},
    [AM_P_HELPER_GET_CURRENT_TASK] = {"helpers", "bpf_get_current_task"},
    [AM_P_TRACEFS] = {"attach", "tracefs"},
    [AM_P_PERF_LINK] = {"attach", "perf_event_link"},
    [AM_P_PERF_IOCTL] = {"attach", "perf_event_ioctl"},
    [AM_P_KPROBE_ATTACH] = {"attach", "kprobe_attach"},
    [AM_P_FENTRY_ATTACH] = {"attach", "fentry_attach"},
    [AM_P_BTF_NATIVE] = {"kernel", "native_btf"},
    [AM_P_CORE_RELOC] = {"kernel", "core_relocation"},
    [AM_P_PMU_HW] = {"kernel", "hardware_pmu"},
    [AM_P_PMU_SW] = {"kernel", "software_events"},
    [AM_P_MEMLOCK] = {"kernel", "memlock"},
    [AM_P_CAP_BPF] = {"capabilities", "CAP_BPF"},
    [AM_P_CAP_PERFMON] = {"capabilities", "CAP_PERFMON"},
    [AM_P_CAP_SYS_ADMIN] = {"capabilities", "CAP_SYS_ADMIN"},
    [AM_P_UNPRIV_BPF] = {"sysctl", "unprivileged_bpf_disabled"},
    [AM_P_PERF_PARANOID] = {"sysctl", "perf_event_paranoid"},
    [AM_P_JIT] = {"sysctl", "bpf_jit_enable"},
};

const char *am_probe_group(enum am_probe_id id)
{
	return id < AM_P__COUNT ? table[id].group : "?";
}

const char *am_probe_name(enum am_probe_id id)
{
	return id < AM_P__COUNT ? table[id].name : "?";
}

const char *am_probe_status_name(enum am_probe_status s)
{
	switch (s) {
	case AM_PROBE_YES:
		return "yes";
	case AM_PROBE_NO:
		return "no";
	case AM_PROBE_INFO:
		return "info";
	case AM_PROBE_UNKNOWN:
		break;
	}
	return "unknown";
}

__attribute__((format(printf, 3, 4))) static void set(struct am_probe_result *r,
						      enum am_probe_status s, const char *fmt, ...)
{
	va_list ap;

	r->status = s;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

/* ERR is a negative errno. */
static const char *errname(int err)
{
	if (err == -AM_ENOTSUPP)
		return "ENOTSUPP (524)";
	return strerror(-err);
}

static int read_int_file(const char *root, const char *rel, long *out)
{
	char path[PATH_MAX], buf[64], *end;
	int err;

	if (am_root_path(path, sizeof(path), root, rel))
		return -ENAMETOOLONG;
	err = am_file_first_line(path, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	*out = strtol(buf, &end, 10);
	if (end == buf || errno)
		return -EINVAL;
	return 0;
}

static int file_exists(const char *root, const char *rel)
{
	char path[PATH_MAX];

	return am_root_path(path, sizeof(path), root, rel) == 0 && access(path, F_OK) == 0;
}

/* "r0 = 0; exit": the smallest program every program type accepts. */
static int load_trivial(enum bpf_prog_type type, enum bpf_attach_type eat, __u32 btf_id, char *log,
			size_t loglen)
{
	const struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = eat, .attach_btf_id = btf_id);
	struct am_kver kv;
	int fd;

	if (log && loglen) {
		log[0] = '\0';
		o.log_buf = log;
		o.log_size = (__u32)loglen;
		o.log_level = 1;
	}
	/* kprobe programs on kernels before 5.0 must carry the running kernel's version */
	if (am_kver_host(&kv) == 0)
		o.kern_version = am_kver_code(&kv);
	fd = bpf_prog_load(type, "am_probe", "GPL", insns, 2, &o);
	return fd < 0 ? -errno : fd;
}

/* The last non-empty line of a verifier log, which carries the reason. */
static const char *last_line(char *log)
{
	size_t n = strlen(log);
	char *p;

	while (n > 0 && (log[n - 1] == '\n' || log[n - 1] == ' '))
		log[--n] = '\0';
	p = strrchr(log, '\n');
	return p ? p + 1 : log;
}

static void probe_prog(enum bpf_prog_type type, const char *what, struct am_probe_result *r)
{
	int ret = libbpf_probe_bpf_prog_type(type, NULL);

	if (ret == 1)
		set(r, AM_PROBE_YES, "%s loads", what);
	else if (ret == 0)
		set(r, AM_PROBE_NO, "%s rejected by this kernel", what);
	else
		set(r, AM_PROBE_UNKNOWN, "%s probe failed: %s", what, errname(ret));
}

static void probe_map(enum bpf_map_type type, const char *what, struct am_probe_result *r)
{
	char why[160];
	int ret;

	errno = 0; /* a failed creation inside the probe leaves its errno */
	ret = libbpf_probe_bpf_map_type(type, NULL);

	if (ret == 1)
		set(r, AM_PROBE_YES, "%s created", what);
	else if (ret == 0 && am_probe_refused(-errno))
		set(r, AM_PROBE_UNKNOWN, "creating a %s was %s", what,
		    am_probe_refusal(-errno, why, sizeof(why)));
	else if (ret == 0)
		set(r, AM_PROBE_NO, "%s unknown to this kernel", what);
	else
		set(r, AM_PROBE_UNKNOWN, "%s probe failed: %s", what, errname(ret));
}

int am_probe_ringbuf(void)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "am_probe_rb", 0, 0,
				(__u32)(page > 0 ? page : 4096), NULL);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	/* An unknown map type is EINVAL; the size is a power-of-two number of pages, valid
	 * wherever ring buffers exist. */
	return errno == EINVAL ? 0 : -errno;
}

const char *am_probe_refused(int err)
{
	if (err == -EPERM)
		return "refused (EPERM: seccomp or missing capability)";
	if (err == -EACCES)
		return "refused (EACCES: seccomp or missing capability)";
	return NULL;
}

const char *am_probe_refusal(int err, char *buf, size_t len)
{
	const char *what = am_probe_refused(err), *missing;

	if (!what)
		return NULL;
	missing = am_caps_missing_for_tracing();
	if (missing)
		snprintf(buf, len, "%s; missing %s", what, missing);
	else
		snprintf(buf, len, "%s; the capabilities are held: a seccomp filter or an LSM",
			 what);
	return buf;
}

static void probe_ringbuf(struct am_probe_result *r)
{
	int ret = am_probe_ringbuf();
	char why[160];

	if (ret == 1)
		set(r, AM_PROBE_YES, "BPF_MAP_TYPE_RINGBUF (5.8+) created");
	else if (ret == 0)
		set(r, AM_PROBE_NO, "BPF_MAP_TYPE_RINGBUF unknown to this kernel (before 5.8)");
	else if (am_probe_refused(ret))
		set(r, AM_PROBE_UNKNOWN, "creating a BPF_MAP_TYPE_RINGBUF was %s",
		    am_probe_refusal(ret, why, sizeof(why)));
	else
		set(r, AM_PROBE_UNKNOWN, "BPF_MAP_TYPE_RINGBUF probe failed: %s", errname(ret));
}

static void probe_helper(enum bpf_prog_type type, const char *in, enum bpf_func_id fn,
			 const char *since, struct am_probe_result *r)
{
	int ret = libbpf_probe_bpf_helper(type, fn, NULL);

	if (ret == 1)
		set(r, AM_PROBE_YES, "callable from %s programs", in);
	else if (ret == 0)
		set(r, AM_PROBE_NO, "not callable from %s programs (needs %s)", in, since);
	else
		set(r, AM_PROBE_UNKNOWN, "probe in %s programs failed: %s", in, errname(ret));
}

static int sw_clock_event(void)
{
	struct perf_event_attr a = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(a),
	    .config = PERF_COUNT_SW_CPU_CLOCK,
	    .sample_period = 1000000000ull, /* sampling events are what perf programs need */
	    .disabled = 1,
	};

	return am_perf_event_open(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static void probe_perf_attach(struct am_probe_result *link, struct am_probe_result *ioc)
{
	int prog = load_trivial(BPF_PROG_TYPE_PERF_EVENT, 0, 0, NULL, 0);
	int pfd, fd;

	if (prog < 0) {
		set(link, AM_PROBE_UNKNOWN, "perf_event program did not load: %s", errname(prog));
		*ioc = *link;
		return;
	}
	pfd = sw_clock_event();
	if (pfd < 0) {
		set(link, AM_PROBE_UNKNOWN, "perf_event_open(cpu-clock) failed: %s", errname(pfd));
		*ioc = *link;
		close(prog);
		return;
	}
	fd = bpf_link_create(prog, pfd, BPF_PERF_EVENT, NULL);
	if (fd >= 0) {
		set(link, AM_PROBE_YES,
		    "bpf_link_create(BPF_PERF_EVENT) on a cpu-clock event (5.15+)");
		close(fd);
	} else if (errno == EINVAL) {
		set(link, AM_PROBE_NO,
		    "bpf_link_create(BPF_PERF_EVENT) rejected: kernel before 5.15");
	} else {
		set(link, AM_PROBE_NO, "bpf_link_create(BPF_PERF_EVENT) failed: %s",
		    strerror(errno));
	}
	close(pfd);

	pfd = sw_clock_event();
	if (pfd < 0)
		set(ioc, AM_PROBE_UNKNOWN, "perf_event_open(cpu-clock) failed: %s", errname(pfd));
	else if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog) == 0)
		set(ioc, AM_PROBE_YES, "PERF_EVENT_IOC_SET_BPF on a cpu-clock event");
	else
		set(ioc, AM_PROBE_NO, "PERF_EVENT_IOC_SET_BPF failed: %s", strerror(errno));
	if (pfd >= 0)
		close(pfd);
	close(prog);
}

static const char *const attach_targets[] = {
    "do_nanosleep", "hrtimer_nanosleep", "do_sys_openat2", "do_sys_open", "__x64_sys_getpid",
};
#define N_TARGETS (sizeof(attach_targets) / sizeof(attach_targets[0]))

static void probe_kprobe(const struct am_probe_ctx *ctx, struct am_probe_result *r)
{
	long type;
	bool pmu =
	    read_int_file(ctx->root, "/sys/bus/event_source/devices/kprobe/type", &type) == 0;
	bool events = file_exists(ctx->root, "/sys/kernel/tracing/kprobe_events") ||
		      file_exists(ctx->root, "/sys/kernel/debug/tracing/kprobe_events");
	int prog, pfd = -ENOENT;
	size_t i;

	if (!pmu && !events) {
		set(r, AM_PROBE_NO,
		    "no kprobe PMU (/sys/bus/event_source/devices/kprobe) and no "
		    "kprobe_events in tracefs: CONFIG_KPROBE_EVENTS off");
		return;
	}
	if (!pmu) {
		set(r, AM_PROBE_YES,
		    "tracefs kprobe_events present (legacy attach), no kprobe PMU; "
		    "attach not attempted");
		return;
	}
	prog = load_trivial(BPF_PROG_TYPE_KPROBE, 0, 0, NULL, 0);
	if (prog < 0) {
		set(r, AM_PROBE_NO, "kprobe PMU present but a kprobe program did not load: %s",
		    errname(prog));
		return;
	}
	for (i = 0; i < N_TARGETS; i++) {
		struct perf_event_attr a = {
		    .type = (__u32)type,
		    .size = sizeof(a),
		    .config1 = (__u64)(uintptr_t)attach_targets[i],
		    .sample_period = 1,
		    .disabled = 1,
		};

		pfd = am_perf_event_open(&a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
		if (pfd >= 0)
			break;
	}
	if (pfd < 0) {
		set(r, AM_PROBE_NO, "kprobe PMU present but perf_event_open(kprobe %s) failed: %s",
		    attach_targets[N_TARGETS - 1], errname(pfd));
	} else if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog) == 0) {
		set(r, AM_PROBE_YES, "attached a kprobe program to %s through the kprobe PMU",
		    attach_targets[i]);
	} else {
		set(r, AM_PROBE_NO, "kprobe on %s created but the program did not attach: %s",
		    attach_targets[i], strerror(errno));
	}
	if (pfd >= 0)
		close(pfd);
	close(prog);
}

static void probe_fentry(const struct am_probe_ctx *ctx, struct am_probe_result *r)
{
	char log[4096];
	const char *sym = NULL;
	int id = -1, prog, lfd;
	size_t i;

	if (!ctx->vmlinux) {
		set(r, AM_PROBE_NO, "fentry needs the kernel's own BTF (/sys/kernel/btf/vmlinux)");
		return;
	}
	for (i = 0; i < N_TARGETS && id < 0; i++) {
		id = btf__find_by_name_kind(ctx->vmlinux, attach_targets[i], BTF_KIND_FUNC);
		sym = attach_targets[i];
	}
	if (id < 0) {
		set(r, AM_PROBE_UNKNOWN, "none of the probe target functions is in the kernel BTF");
		return;
	}
	prog = load_trivial(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, (__u32)id, log, sizeof(log));
	if (prog < 0) {
		const char *why = last_line(log);

		set(r, AM_PROBE_NO, "fentry program for %s did not load: %s%s%s", sym,
		    errname(prog),
		    *why ? ": "
			 : " (refused before verification: tracing programs are not allowed here, "
			   "e.g. by a security policy)",
		    why);
		return;
	}
	lfd = bpf_raw_tracepoint_open(NULL, prog);
	if (lfd >= 0) {
		set(r, AM_PROBE_YES, "attached an fentry program to %s", sym);
		close(lfd);
	} else {
		int err = -errno;

		set(r, AM_PROBE_NO, "fentry program for %s loaded but did not attach: %s%s", sym,
		    errname(err), err == -AM_ENOTSUPP ? " (no BPF trampoline in this kernel)" : "");
	}
	close(prog);
}

static void probe_tracefs(const struct am_probe_ctx *ctx, bool can_mount, struct am_probe_result *r)
{
	bool mounted = false;
	int err;

	if (am_tracefs_present()) {
		set(r, AM_PROBE_YES, "mounted");
		return;
	}
	if (!ctx->mount_tracefs || !can_mount) {
		set(r, can_mount ? AM_PROBE_NO : AM_PROBE_UNKNOWN, "not mounted%s",
		    can_mount ? "" : "; mounting it needs CAP_SYS_ADMIN");
		return;
	}
	err = am_tracefs_ensure(&mounted);
	if (err)
		set(r, AM_PROBE_NO, "not mounted and mounting failed: %s", errname(err));
	else
		set(r, AM_PROBE_YES, "%s",
		    mounted ? "mounted by this check at /sys/kernel/tracing" : "mounted");
}

static void probe_pmu(__u32 type, __u64 config, const char *what, enum am_probe_status absent,
		      struct am_probe_result *r)
{
	/* user-space only, so perf_event_paranoid 2 still lets an unprivileged user see the PMU */
	struct perf_event_attr a = {.type = type,
				    .size = sizeof(a),
				    .config = config,
				    .disabled = 1,
				    .exclude_kernel = 1,
				    .exclude_hv = 1};
	int fd = am_perf_event_open(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd >= 0) {
		set(r, AM_PROBE_YES, "perf_event_open(%s) works", what);
		close(fd);
	} else if (fd == -EACCES || fd == -EPERM) {
		set(r, AM_PROBE_UNKNOWN, "perf_event_open(%s) denied: %s (perf_event_paranoid)",
		    what, errname(fd));
	} else {
		set(r, absent, "perf_event_open(%s) failed: %s", what, errname(fd));
	}
}

static void probe_cap(unsigned int cap, const char *name, const char *gives, bool kernel_knows,
		      struct am_probe_result *r)
{
	int ret = am_cap_effective(cap);

	if (ret < 0)
		set(r, AM_PROBE_UNKNOWN, "capget failed: %s", errname(ret));
	else if (ret)
		set(r, AM_PROBE_YES, "effective (%s)", gives);
	else if (!kernel_knows)
		set(r, AM_PROBE_NO, "%s does not exist before 5.8: CAP_SYS_ADMIN is needed", name);
	else
		set(r, AM_PROBE_NO, "not in the effective set (%s)", gives);
}

static void probe_sysctls(const struct am_probe_ctx *ctx, struct am_probe_result *out)
{
	static const char *const unpriv[] = {
	    "unprivileged users may load socket filters",
	    "disabled until reboot",
	    "disabled, root may re-enable",
	};
	long v;
	int err;

	err = read_int_file(ctx->root, "/proc/sys/kernel/unprivileged_bpf_disabled", &v);
	if (err)
		set(&out[AM_P_UNPRIV_BPF], AM_PROBE_UNKNOWN, "cannot read: %s", errname(err));
	else
		set(&out[AM_P_UNPRIV_BPF], AM_PROBE_INFO, "%ld (%s)", v,
		    v >= 0 && v <= 2 ? unpriv[v] : "unknown value");

	err = read_int_file(ctx->root, "/proc/sys/kernel/perf_event_paranoid", &v);
	if (err)
		set(&out[AM_P_PERF_PARANOID], AM_PROBE_UNKNOWN, "cannot read: %s", errname(err));
	else
		set(&out[AM_P_PERF_PARANOID], AM_PROBE_INFO, "%ld (%s)", v,
		    v < 0    ? "no restrictions"
		    : v == 0 ? "unprivileged: no raw tracepoints"
		    : v == 1 ? "unprivileged: no kernel profiling"
			     : "unprivileged: user-space measurement only");

	err = read_int_file(ctx->root, "/proc/sys/net/core/bpf_jit_enable", &v);
	if (err)
		set(&out[AM_P_JIT], AM_PROBE_UNKNOWN, "cannot read: %s", errname(err));
	else if (v)
		set(&out[AM_P_JIT], AM_PROBE_YES, "%ld (JIT %s)", v,
		    v == 2 ? "with debug output" : "enabled");
	else
		set(&out[AM_P_JIT], AM_PROBE_NO, "0 (programs run in the interpreter)");
}

/* Whether BPF memory is charged to RLIMIT_MEMLOCK here and what became of the limit: run before
 * any other bpf() call of the process, so that libbpf's raise shows. */
static void probe_memlock(struct am_probe_result *r)
{
	struct am_memlock m;

	am_memlock_get(&m);
	am_memlock_describe(&m, r->detail, sizeof(r->detail));
	r->status = am_memlock_limiting(&m) ? AM_PROBE_NO : AM_PROBE_INFO;
}

/* The probes that need bpf(): all UNKNOWN with WHY when bpf() is denied to this process. */
static const enum am_probe_id bpf_probes[] = {
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
    AM_P_PERF_LINK,
    AM_P_PERF_IOCTL,
    AM_P_KPROBE_ATTACH,
    AM_P_FENTRY_ATTACH,
};

void am_probes_run(const struct am_probe_ctx *ctx, struct am_probe_result *out)
{
	struct am_caps caps = {0};
	struct am_kver kv;
	bool new_caps = am_kver_host(&kv) == 0 && am_kver_at_least(&kv, 5, 8, 0);
	size_t i;
	int fd;

	for (i = 0; i < AM_P__COUNT; i++)
		set(&out[i], AM_PROBE_UNKNOWN, "not probed");
	probe_memlock(&out[AM_P_MEMLOCK]);
	am_caps_get(&caps);
	probe_cap(CAP_BPF, "CAP_BPF", "load programs, create maps", new_caps, &out[AM_P_CAP_BPF]);
	probe_cap(CAP_PERFMON, "CAP_PERFMON", "tracing programs, perf events", new_caps,
		  &out[AM_P_CAP_PERFMON]);
	probe_cap(CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "all of BPF; mounting tracefs", true,
		  &out[AM_P_CAP_SYS_ADMIN]);
	probe_sysctls(ctx, out);
	probe_tracefs(ctx, caps.sys_admin, &out[AM_P_TRACEFS]);
	probe_pmu(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles", AM_PROBE_NO,
		  &out[AM_P_PMU_HW]);
	probe_pmu(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, "cpu-clock", AM_PROBE_NO,
		  &out[AM_P_PMU_SW]);

	/* libbpf's probes report a refused bpf() as "not supported": find out first whether
	 * this process may use bpf() at all, so no probe lies about the kernel. */
	fd = load_trivial(BPF_PROG_TYPE_TRACEPOINT, 0, 0, NULL, 0);
	if (fd == -EPERM || fd == -EACCES) {
		for (i = 0; i < sizeof(bpf_probes) / sizeof(bpf_probes[0]); i++)
			set(&out[bpf_probes[i]], AM_PROBE_UNKNOWN,
			    "bpf() %s: needs root, or CAP_BPF and CAP_PERFMON, and a seccomp "
			    "profile that allows bpf()",
			    am_probe_refused(fd));
		return;
	}
	if (fd >= 0)
		close(fd);

	probe_prog(BPF_PROG_TYPE_TRACEPOINT, "BPF_PROG_TYPE_TRACEPOINT",
		   &out[AM_P_PROG_TRACEPOINT]);
	probe_prog(BPF_PROG_TYPE_RAW_TRACEPOINT, "BPF_PROG_TYPE_RAW_TRACEPOINT",
		   &out[AM_P_PROG_RAW_TRACEPOINT]);
	probe_prog(BPF_PROG_TYPE_PERF_EVENT, "BPF_PROG_TYPE_PERF_EVENT",
		   &out[AM_P_PROG_PERF_EVENT]);
	probe_prog(BPF_PROG_TYPE_KPROBE, "BPF_PROG_TYPE_KPROBE (also uprobes)",
		   &out[AM_P_PROG_KPROBE]);
	probe_prog(BPF_PROG_TYPE_TRACING, "BPF_PROG_TYPE_TRACING (fentry/fexit)",
		   &out[AM_P_PROG_TRACING]);
	probe_ringbuf(&out[AM_P_MAP_RINGBUF]);
	probe_map(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "BPF_MAP_TYPE_PERF_EVENT_ARRAY",
		  &out[AM_P_MAP_PERF_EVENT_ARRAY]);
	probe_map(BPF_MAP_TYPE_PERCPU_ARRAY, "BPF_MAP_TYPE_PERCPU_ARRAY",
		  &out[AM_P_MAP_PERCPU_ARRAY]);
	probe_helper(BPF_PROG_TYPE_PERF_EVENT, "perf_event", BPF_FUNC_get_stack, "4.18",
		     &out[AM_P_HELPER_GET_STACK]);
	probe_helper(BPF_PROG_TYPE_TRACEPOINT, "tracepoint", BPF_FUNC_ringbuf_reserve, "5.8",
		     &out[AM_P_HELPER_RINGBUF_RESERVE]);
	probe_helper(BPF_PROG_TYPE_TRACEPOINT, "tracepoint", BPF_FUNC_perf_event_output, "4.4",
		     &out[AM_P_HELPER_PERF_EVENT_OUTPUT]);
	probe_helper(BPF_PROG_TYPE_TRACEPOINT, "tracepoint", BPF_FUNC_probe_read_user_str, "5.5",
		     &out[AM_P_HELPER_PROBE_READ_USER_STR]);
	probe_helper(BPF_PROG_TYPE_TRACEPOINT, "tracepoint", BPF_FUNC_get_current_cgroup_id, "4.18",
		     &out[AM_P_HELPER_GET_CURRENT_CGROUP_ID]);
	probe_helper(BPF_PROG_TYPE_TRACEPOINT, "tracepoint", BPF_FUNC_get_current_task, "4.8",
		     &out[AM_P_HELPER_GET_CURRENT_TASK]);
	probe_perf_attach(&out[AM_P_PERF_LINK], &out[AM_P_PERF_IOCTL]);
	probe_kprobe(ctx, &out[AM_P_KPROBE_ATTACH]);
	probe_fentry(ctx, &out[AM_P_FENTRY_ATTACH]);
}
