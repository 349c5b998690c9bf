#include "core/check_report.h"

#include <bpf/btf.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/bpf_load.h"
#include "core/btf_verify.h"
#include "core/root_path.h"
#include "test_core.skel.h"
#include "util/log.h"

/* Report text is for display: truncating a very long path is acceptable. */
__attribute__((format(printf, 3, 4))) static void text(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void plan(struct am_check_report *r, bool ok,
						       const char *fmt, ...)
{
	struct am_check_plan *p;
	va_list ap;

	if (r->nplans >= AM_CHECK_MAX_PLANS)
		return;
	p = &r->plans[r->nplans++];
	p->available = ok;
	va_start(ap, fmt);
	vsnprintf(p->plan, sizeof(p->plan), fmt, ap);
	va_end(ap);
}

static bool yes(const struct am_check_report *r, enum am_probe_id id)
{
	return r->probes[id].status == AM_PROBE_YES;
}

static bool unknown(const struct am_check_report *r, enum am_probe_id id)
{
	return r->probes[id].status == AM_PROBE_UNKNOWN;
}

static void plan_execsnoop(struct am_check_report *r)
{
	const char *tracefs = yes(r, AM_P_TRACEFS) ? "" : " (tracefs must be mounted first)";

	r->plans[r->nplans].collector = "execsnoop";
	if (unknown(r, AM_P_PROG_TRACEPOINT))
		plan(r, false, "unknown: %s", r->probes[AM_P_PROG_TRACEPOINT].detail);
	else if (!yes(r, AM_P_PROG_TRACEPOINT))
		plan(r, false, "unavailable: tracepoint programs do not load");
	else if (unknown(r, AM_P_MAP_RINGBUF))
		plan(r, false, "unknown: %s", r->probes[AM_P_MAP_RINGBUF].detail);
	else if (yes(r, AM_P_MAP_RINGBUF) && yes(r, AM_P_HELPER_RINGBUF_RESERVE))
		plan(r, true, "ring buffer%s", tracefs);
	else if (yes(r, AM_P_MAP_PERF_EVENT_ARRAY) && yes(r, AM_P_HELPER_PERF_EVENT_OUTPUT))
		plan(r, true, "perf buffer (no ring buffer before 5.8)%s", tracefs);
	else
		plan(r, false, "unavailable: neither ring buffer nor perf buffer");
}

static void plan_profiler(struct am_check_report *r)
{
	r->plans[r->nplans].collector = "profiler event";
	if (yes(r, AM_P_PMU_HW))
		plan(r, true, "hardware cycles (PMU present)");
	else if (yes(r, AM_P_PMU_SW))
		plan(r, true, "no PMU -> software cpu-clock");
	else if (unknown(r, AM_P_PMU_SW))
		plan(r, false, "unknown: %s", r->probes[AM_P_PMU_SW].detail);
	else
		plan(r, false, "unavailable: %s", r->probes[AM_P_PMU_SW].detail);

	r->plans[r->nplans].collector = "profiler attach";
	if (yes(r, AM_P_PERF_LINK))
		plan(r, true, "bpf_link (5.15+)");
	else if (unknown(r, AM_P_PERF_LINK))
		plan(r, false, "unknown: %s", r->probes[AM_P_PERF_LINK].detail);
	else if (yes(r, AM_P_PERF_IOCTL))
		plan(r, true, "legacy PERF_EVENT_IOC_SET_BPF ioctl (no perf BPF links)");
	else
		plan(r, false, "unavailable: %s", r->probes[AM_P_PERF_IOCTL].detail);

	r->plans[r->nplans].collector = "profiler stacks";
	if (yes(r, AM_P_MAP_PERCPU_ARRAY) && yes(r, AM_P_HELPER_GET_STACK))
		plan(r, true, "bpf_get_stack, stacks stored by content hash");
	else if (unknown(r, AM_P_HELPER_GET_STACK))
		plan(r, false, "unknown: %s", r->probes[AM_P_HELPER_GET_STACK].detail);
	else
		plan(r, false, "unavailable: no bpf_get_stack or per-CPU array");
}

static void plan_optional(struct am_check_report *r, const char *who, enum am_probe_id id,
			  const char *instead)
{
	const struct am_probe_result *p = &r->probes[id];

	r->plans[r->nplans].collector = who;
	if (p->status == AM_PROBE_YES)
		plan(r, true, "available");
	else if (p->status == AM_PROBE_UNKNOWN)
		plan(r, false, "unknown: %s", p->detail);
	else if (strstr(p->detail, "CONFIG_KPROBE_EVENTS off"))
		plan(r, false, "unavailable (CONFIG_KPROBE_EVENTS off)%s", instead);
	else
		plan(r, false, "unavailable (%s)%s", p->detail, instead);
}

void am_check_conclude(struct am_check_report *r)
{
	r->level =
	    am_core_level_of(r->kver_ok ? &r->kver : NULL, r->btf_err ? AM_BTF_NONE : r->btf.source,
			     r->level_why, sizeof(r->level_why));
	r->nplans = 0;
	plan_execsnoop(r);
	plan_profiler(r);
	plan_optional(r, "kprobe-based collectors", AM_P_KPROBE_ATTACH, "");
	plan_optional(r, "fentry/fexit", AM_P_FENTRY_ATTACH, " -> tracepoints instead");
	r->plans[r->nplans].collector = "system collectors";
	plan(r, true, "procfs/sysfs, no BPF needed");

	r->can_run = false;
	if (r->level == AM_CORE_NONE)
		text(r->verdict, sizeof(r->verdict), "CO-RE programs cannot run: %s", r->level_why);
	else if (!yes(r, AM_P_PROG_TRACEPOINT))
		text(r->verdict, sizeof(r->verdict), "CO-RE programs cannot run: %s",
		     r->probes[AM_P_PROG_TRACEPOINT].detail);
	else if (!yes(r, AM_P_CORE_RELOC))
		text(r->verdict, sizeof(r->verdict),
		     "CO-RE programs cannot run: the CO-RE proof with BTF %s failed: %s",
		     r->btf.path, r->probes[AM_P_CORE_RELOC].detail);
	else {
		r->can_run = true;
		text(r->verdict, sizeof(r->verdict), "CO-RE programs can run (%s: %s)",
		     am_core_level_name(r->level), r->level_why);
	}
}

static void probe_native_btf(const char *root, struct am_probe_result *p)
{
	char path[PATH_MAX];
	struct btf *btf;

	if (am_root_path(path, sizeof(path), root, "/sys/kernel/btf/vmlinux") ||
	    access(path, F_OK)) {
		p->status = AM_PROBE_NO;
		text(p->detail, sizeof(p->detail),
		     "no %s: kernel built without CONFIG_DEBUG_INFO_BTF (or before 5.2)", path);
		return;
	}
	btf = btf__parse(path, NULL);
	if (!btf) {
		p->status = AM_PROBE_NO;
		text(p->detail, sizeof(p->detail), "%s does not parse: %s", path, strerror(errno));
		return;
	}
	p->status = AM_PROBE_YES;
	text(p->detail, sizeof(p->detail), "%s (%u types)", path, btf__type_cnt(btf));
	btf__free(btf);
}

/* The proof CO-RE works here: the test_core object loaded (not attached) with relocations
 * against native BTF; an external file is also run and its readings compared with the kernel,
 * since the BTF of another kernel relocates fine and then reads the wrong offsets. */
static void probe_core_reloc(struct am_check_report *r)
{
	struct am_probe_result *p = &r->probes[AM_P_CORE_RELOC];
	struct am_bpf_open_state st = {0};
	struct test_core_bpf *skel;
	int err;

	if (r->btf_err) {
		p->status = AM_PROBE_UNKNOWN;
		text(p->detail, sizeof(p->detail), "not tried: no BTF");
		return;
	}
	if (!yes(r, AM_P_PROG_TRACEPOINT)) {
		p->status = AM_PROBE_UNKNOWN;
		text(p->detail, sizeof(p->detail), "not tried: %s",
		     r->probes[AM_P_PROG_TRACEPOINT].detail);
		return;
	}
	if (r->btf.source != AM_BTF_NATIVE) {
		err = am_btf_verify_running_kernel(r->btf.path);
		p->status = err ? AM_PROBE_NO : AM_PROBE_YES;
		if (!err)
			text(p->detail, sizeof(p->detail),
			     "test_core ran with %s BTF and read what the kernel reports",
			     am_btf_source_name(r->btf.source));
		else if (err == -EINVAL)
			text(p->detail, sizeof(p->detail),
			     "the BTF does not describe the running kernel (see the error above)");
		else
			text(p->detail, sizeof(p->detail), "test_core did not run: %s",
			     strerror(-err));
		return;
	}
	skel = AM_SKEL_OPEN(test_core_bpf, "test_core", NULL, &st);
	if (!skel) {
		p->status = AM_PROBE_NO;
		text(p->detail, sizeof(p->detail), "test_core object did not open");
		am_bpf_open_state_release(&st);
		return;
	}
	err = test_core_bpf__load(skel);
	if (err) {
		p->status = AM_PROBE_NO;
		text(p->detail, sizeof(p->detail), "test_core did not load: %s (%s)",
		     strerror(-err),
		     err == -EPERM && r->probes[AM_P_MEMLOCK].status == AM_PROBE_NO
			 ? "RLIMIT_MEMLOCK: see memlock"
			 : "libbpf's log is at debug level");
	} else {
		p->status = AM_PROBE_YES;
		text(p->detail, sizeof(p->detail),
		     "test_core loaded with task_struct relocations against native BTF");
	}
	test_core_bpf__destroy(skel);
	am_bpf_open_state_release(&st);
}

int am_check_build(const struct am_check_opts *o, struct am_check_report *r)
{
	struct am_btf_search s = {
	    .root = o->root,
	    .explicit_path = o->btf_path,
	    .env_path = getenv("ANTIMETAL_BTF_PATH"),
	};
	struct am_probe_ctx ctx = {.root = o->root, .mount_tracefs = o->mount_tracefs};
	struct utsname u;
	struct btf *vmlinux;

	memset(r, 0, sizeof(*r));
	r->euid = (unsigned int)geteuid();
	if (uname(&u) == 0) {
		snprintf(r->release, sizeof(r->release), "%s", u.release);
		snprintf(r->machine, sizeof(r->machine), "%s", u.machine);
		r->kver_ok = am_kver_parse(u.release, &r->kver) == 0;
	}
	r->btf_err = am_btf_find(&s, &r->btf);
	/* a file the user named that is missing or corrupt is bad input, not a kernel fact */
	if (r->btf_err && ((o->btf_path && *o->btf_path) || (s.env_path && *s.env_path)))
		return r->btf_err;

	/* fentry targets are ids in the running kernel's own BTF, whatever --root says */
	vmlinux = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	ctx.vmlinux = vmlinux;
	am_probes_run(&ctx, r->probes);
	btf__free(vmlinux);
	probe_native_btf(o->root, &r->probes[AM_P_BTF_NATIVE]);
	probe_core_reloc(r);
	am_check_conclude(r);
	return 0;
}

_Static_assert(AM_P__COUNT <= AM_CHECK_RECORD_MAX_PROBES, "record too small for the probe table");
_Static_assert(AM_CHECK_MAX_PLANS <= AM_CHECK_RECORD_MAX_PLANS, "record too small for the plans");

void am_check_record_fill(const struct am_check_report *r, struct am_check_record *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	out->release = r->release;
	out->machine = r->machine;
	out->have_version = r->kver_ok;
	out->major = r->kver.major;
	out->minor = r->kver.minor;
	out->patch = r->kver.patch;
	out->rc = r->kver.rc;
	out->euid = r->euid;
	for (i = 0; i < AM_P__COUNT; i++) {
		struct am_check_probe_row *row = &out->probes[i];

		row->group = am_probe_group(i);
		row->name = am_probe_name(i);
		row->status = am_probe_status_name(r->probes[i].status);
		row->yes = r->probes[i].status == AM_PROBE_YES;
		row->detail = r->probes[i].detail;
	}
	out->nprobes = AM_P__COUNT;
	if (r->btf_err) {
		out->btf_error = strerror(-r->btf_err);
	} else {
		out->btf_source = am_btf_source_name(r->btf.source);
		out->btf_path = r->btf.path;
		out->btf_types = r->btf.nr_types;
	}
	out->core_level = am_core_level_name(r->level);
	out->core_level_why = r->level_why;
	for (i = 0; i < r->nplans; i++) {
		out->plans[i].collector = r->plans[i].collector;
		out->plans[i].available = r->plans[i].available;
		out->plans[i].plan = r->plans[i].plan;
	}
	out->nplans = r->nplans;
	out->can_run = r->can_run;
	out->verdict = r->verdict;
}
