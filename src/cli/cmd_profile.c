/* antimetal-agent profile: sample CPU stacks (perf's vocabulary: -F, -c, -e, -p) and write them
 * folded, as pprof or as an SVG flame graph. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/cli_loop.h"
#include "cli/cli_opts.h"
#include "cli/cli_resolve.h"
#include "cli/commands.h"
#include "collectors/ebpf/profiler.h"
#include "core/perf_attach.h"
#include "export/flamegraph_svg.h"
#include "export/folded.h"
#include "export/pprof.h"
#include "util/clock.h"
#include "symbolize/usym.h"
#include "util/file.h"
#include "util/log.h"
#include "util/output_file.h"
#include "util/strbuf.h"

enum format { FMT_FOLDED, FMT_PPROF, FMT_SVG };

#define MAX_OUTPUTS 8

/* One rendering of the profile: -o FILE takes the --format given before it. */
struct output {
	enum format format;
	const char *path; /* NULL: stdout */
};

#define DEFAULT_FREQ  99
#define DEFAULT_EVENT "cpu-clock"
#define MAX_FREQ      UINT32_MAX /* the kernel's own limit (a sysctl) is checked after parsing */
#define MIN_STACKS    64
#define MAX_STACKS    (1u << 22)
#define MAX_SECONDS   1e7

struct args {
	struct am_profiler_opts o;
	uint32_t pids[PROFILER_MAX_PIDS];
	double duration;     /* seconds, 0: until Ctrl-C */
	enum format format;  /* the latest --format */
	bool format_pending; /* a --format not yet followed by -o */
	bool kernel_only, user_only, have_freq, have_period;
	struct output outputs[MAX_OUTPUTS];
	int noutputs;
	const char *btf;
	uint64_t cgroup_ids[PROFILER_MAX_CGROUPS]; /* --cgroup, resolved */
	enum am_folded_prefix folded_prefix;
	bool verbose;
};

enum {
	O_NOFALLBACK = AM_OPT_LONG,
	O_ATTACH,
	O_CGROUP,
	O_KONLY,
	O_UONLY,
	O_IDLE,
	O_NODEMANGLE,
	O_MAXSTACKS,
	O_MAXSTACK,
	O_NOLINES,
	O_BTF,
	O_CALLGRAPH,
	O_COPYBUF,
	O_NOTASKREGS,
	O_FOLDED_PREFIX,
};

static void more_help(FILE *out)
{
	fprintf(out, "\nevents: %s\n", am_perf_event_names());
}

/* perf record's letters: -F, -c, -e, -p, -g, -o; the rest is long-only. */
static const struct am_opt options[] = {
    {.name = "freq",
     .key = 'F',
     .type = AM_OPT_UINT,
     .arg = "HZ",
     .help = "samples per second per CPU",
     .flags = AM_OPT_SHOW_DEFAULT,
     .min = 1,
     .max = MAX_FREQ,
     .dflt = DEFAULT_FREQ},
    {.name = "period",
     .key = 'c',
     .type = AM_OPT_UINT,
     .arg = "N",
     .help = "one sample every N events instead of -F (cpu-clock: ns)",
     .min = 1,
     .max = AM_PERF_MAX_PERIOD},
    {.name = "event",
     .key = 'e',
     .type = AM_OPT_STRING,
     .arg = "EVENT",
     .help = "the event to sample (the list is below)",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = DEFAULT_EVENT},
    {.name = "no-fallback",
     .key = O_NOFALLBACK,
     .help = "fail (exit 1) when a hardware event is not available here\n"
	     "instead of falling back to cpu-clock"},
    {.name = "attach",
     .key = O_ATTACH,
     .type = AM_OPT_STRING,
     .arg = "MODE",
     .help = "auto|link|ioctl: BPF link (5.15+) or legacy ioctls",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = "auto"},
    {.name = "pid",
     .key = 'p',
     .type = AM_OPT_UINT,
     .arg = "PID",
     .help = "profile this process only (repeatable, up to " AM_STR(PROFILER_MAX_PIDS) ")",
     .min = 1,
     .max = INT_MAX},
    {.name = "cgroup",
     .key = O_CGROUP,
     .type = AM_OPT_STRING,
     .arg = "PATH",
     .help = "profile this cgroup v2 and every cgroup below it only\n"
	     "(absolute, or relative to the cgroup2 mount; repeatable,\n"
	     "up to " AM_STR(PROFILER_MAX_CGROUPS) ")"},
    {.name = "callchain",
     .key = 'g',
     .help = "record call stacks (perf's -g: always on, accepted as in perf;\n"
	     "--call-graph says how)"},
    {.name = "call-graph",
     .key = O_CALLGRAPH,
     .type = AM_OPT_STRING,
     .arg = "MODE",
     .help = "fp | dwarf[,SIZE] | auto[,SIZE]: user stacks from frame\n"
	     "pointers (in the kernel), from SIZE bytes of stack copied\n"
	     "and unwound with the binaries' CFI (perf's dwarf; SIZE a\n"
	     "multiple of 8 up to " AM_STR(AM_PROFILER_COPY_MAX) ", default " AM_STR(
		 AM_PROFILER_COPY_DEFAULT) "), or both, keeping\n"
					   "the deeper (auto)",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = "auto"},
    {.name = "copy-buffer",
     .key = O_COPYBUF,
     .type = AM_OPT_STRING,
     .arg = "auto|ringbuf|perfbuf",
     .help = "buffer of the copied stacks (tests)",
     .flags = AM_OPT_HIDDEN},
    {.name = "no-task-regs",
     .key = O_NOTASKREGS,
     .help = "act as a kernel without bpf_task_pt_regs (tests)",
     .flags = AM_OPT_HIDDEN},
    {.name = "kernel-only", .key = O_KONLY, .help = "collect kernel stacks only"},
    {.name = "user-only", .key = O_UONLY, .help = "collect user stacks only"},
    {.name = "include-idle", .key = O_IDLE, .help = "keep samples of the idle task (pid 0)"},
    {.name = "no-demangle",
     .key = O_NODEMANGLE,
     .help = "show C++/Rust symbols mangled, as in the ELF file"},
    {.name = "max-stacks",
     .key = O_MAXSTACKS,
     .type = AM_OPT_UINT,
     .arg = "N",
     .help = "distinct stacks kept in the kernel (~1 KiB each); losses\n"
	     "when full are reported",
     .flags = AM_OPT_SHOW_RANGE | AM_OPT_SHOW_DEFAULT,
     .min = MIN_STACKS,
     .max = MAX_STACKS,
     .dflt = AM_PROFILER_DEFAULT_STACKS},
    {.name = "max-stack",
     .key = O_MAXSTACK,
     .type = AM_OPT_UINT,
     .arg = "N",
     .help = "frames kept per kernel and per user stack, as perf's; a\n"
	     "deeper stack ends in a [truncated] frame (at most\n"
	     "kernel.perf_event_max_stack; above " AM_STR(
		 AM_PROFILER_MAX_STACK) " only for user\n"
					"stacks unwound with dwarf or auto)",
     .flags = AM_OPT_SHOW_RANGE | AM_OPT_SHOW_DEFAULT,
     .min = 1,
     .max = AM_PROFILER_MAX_STACK_UNWIND,
     .dflt = AM_PROFILER_MAX_STACK},
    {.name = "no-lines",
     .key = O_NOLINES,
     .help = "no file:line or inlined functions in pprof (DWARF not read)"},
    {.name = "duration",
     .key = 'd',
     .type = AM_OPT_REAL,
     .arg = "SECS",
     .help = "stop after SECS seconds (default: at Ctrl-C)",
     .flags = AM_OPT_POSITIVE,
     .fmax = MAX_SECONDS},
    {.name = "format",
     .key = 'f',
     .type = AM_OPT_STRING,
     .arg = "FMT",
     .help = "folded | pprof | svg",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = "folded"},
    {.name = "folded-prefix",
     .key = O_FOLDED_PREFIX,
     .type = AM_OPT_STRING,
     .arg = "WHAT",
     .help = "none|container: start each folded line with the container\n"
	     "id (or the cgroup path outside containers)",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = "none"},
    {.name = "output",
     .key = 'o',
     .type = AM_OPT_STRING,
     .arg = "FILE",
     .help = "write there instead of stdout; repeat --format FMT -o FILE\n"
	     "to write one profile in several formats (up to " AM_STR(MAX_OUTPUTS) ")"},
    {.name = "btf",
     .key = O_BTF,
     .type = AM_OPT_STRING,
     .arg = "FILE",
     .help = "BTF of the running kernel when it has none of its own"},
    {.name = "verbose", .key = 'v', .help = "debug logging (libbpf, verifier)"},
    {0},
};

static const struct am_cmd cmd = {
    .name = "profile",
    .synopsis = "[OPTIONS]",
    .about = "Sample CPU stacks of every process (or of -p PIDs) with a perf event on each CPU.",
    .opts = options,
    .footer = "Exit status: 0 the profile was written, 1 profiling failed, 2 bad usage or\n"
	      "an output that cannot be written.",
    .more = more_help,
};

static uint64_t max_sample_rate(void)
{
	char line[64];
	unsigned long long v = 0;

	if (am_file_first_line("/proc/sys/kernel/perf_event_max_sample_rate", line, sizeof(line)) ||
	    sscanf(line, "%llu", &v) != 1)
		v = 0;
	return v;
}

/* The process (tgid) PID belongs to; -ESRCH when there is no such task. */
static int pid_tgid(uint64_t pid, uint32_t *tgid)
{
	char path[64], line[256];
	FILE *f;
	int err = -ESRCH;

	snprintf(path, sizeof(path), "/proc/%llu/status", (unsigned long long)pid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %u", tgid) == 1) {
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

static int add_pid(struct args *a, uint64_t pid)
{
	if (a->o.npids == PROFILER_MAX_PIDS)
		return am_cli_usage_error(&cmd, "--pid: at most %d processes", PROFILER_MAX_PIDS);
	if (pid_tgid(pid, &a->pids[a->o.npids]))
		return am_cli_usage_error(&cmd, "--pid: no such process: %llu",
					  (unsigned long long)pid);
	a->o.npids++;
	return 0;
}

static int add_cgroup(struct args *a, const char *arg)
{
	char why[PATH_MAX + 128];

	if (a->o.ncgroups == PROFILER_MAX_CGROUPS)
		return am_cli_usage_error(&cmd, "--cgroup: at most %d cgroups",
					  PROFILER_MAX_CGROUPS);
	if (am_profiler_cgroup_resolve(arg, &a->cgroup_ids[a->o.ncgroups], why, sizeof(why)))
		return am_cli_usage_error(&cmd, "--cgroup: %s", why);
	a->o.ncgroups++;
	return 0;
}

static int set_format(struct args *a, const char *s)
{
	if (!strcmp(s, "folded"))
		a->format = FMT_FOLDED;
	else if (!strcmp(s, "pprof"))
		a->format = FMT_PPROF;
	else if (!strcmp(s, "svg"))
		a->format = FMT_SVG;
	else
		return am_cli_usage_error(&cmd, "--format: '%s' is not one of folded, pprof, svg",
					  s);
	a->format_pending = true;
	return 0;
}

static int add_output(struct args *a, const char *path)
{
	if (a->noutputs == MAX_OUTPUTS)
		return am_cli_usage_error(&cmd, "--output: at most %d outputs", MAX_OUTPUTS);
	a->outputs[a->noutputs].format = a->format;
	a->outputs[a->noutputs++].path = path;
	a->format_pending = false;
	return 0;
}

/* kernel.perf_event_max_stack: the kernel walks no deeper (0 when unreadable). */
static uint64_t kernel_max_stack(void)
{
	char line[64];
	unsigned long long v = 0;

	if (am_file_first_line("/proc/sys/kernel/perf_event_max_stack", line, sizeof(line)) ||
	    sscanf(line, "%llu", &v) != 1)
		v = 0;
	return v;
}

static int set_max_stack(struct args *a, uint64_t n)
{
	uint64_t k = kernel_max_stack();

	if (k && n > k)
		return am_cli_usage_error(
		    &cmd, "--max-stack: %llu is over kernel.perf_event_max_stack (%llu)",
		    (unsigned long long)n, (unsigned long long)k);
	a->o.max_stack = (uint32_t)n;
	return 0;
}

static int set_option(void *ctx, const struct am_opt *opt, const struct am_opt_value *v)
{
	struct args *a = ctx;

	switch (opt->key) {
	case 'F':
		a->o.freq = v->u;
		a->have_freq = true;
		break;
	case 'c':
		a->o.period = v->u;
		a->have_period = true;
		break;
	case 'e':
		if (!am_perf_event_find(v->str))
			return am_cli_usage_error(&cmd, "--event: unknown event '%s' (known: %s)",
						  v->str, am_perf_event_names());
		a->o.event = v->str;
		break;
	case O_NOFALLBACK:
		a->o.no_fallback = true;
		break;
	case O_ATTACH:
		if (am_attach_mode_parse(v->str, &a->o.attach))
			return am_cli_usage_error(
			    &cmd, "--attach: '%s' is not one of auto, link, ioctl", v->str);
		break;
	case 'p':
		return add_pid(a, v->u);
	case O_CGROUP:
		return add_cgroup(a, v->str);
	case 'g':
		break; /* stacks are always collected */
	case O_CALLGRAPH:
		if (am_call_graph_parse(v->str, &a->o.call_graph, &a->o.copy_size))
			return am_cli_usage_error(
			    &cmd,
			    "--call-graph: '%s' is not fp, dwarf[,SIZE] or auto[,SIZE] (SIZE: "
			    "bytes, a multiple of 8 up to %u)",
			    v->str, AM_PROFILER_COPY_MAX);
		break;
	case O_COPYBUF:
		if (!strcmp(v->str, "ringbuf"))
			a->o.buffer = AM_PROFILER_BUF_RINGBUF;
		else if (!strcmp(v->str, "perfbuf"))
			a->o.buffer = AM_PROFILER_BUF_PERFBUF;
		else if (strcmp(v->str, "auto"))
			return am_cli_usage_error(&cmd,
						  "--copy-buffer: '%s' is not auto, ringbuf "
						  "or perfbuf",
						  v->str);
		break;
	case O_NOTASKREGS:
		a->o.no_task_regs = true;
		break;
	case O_KONLY:
		a->kernel_only = true;
		break;
	case O_UONLY:
		a->user_only = true;
		break;
	case O_IDLE:
		a->o.include_idle = true;
		break;
	case O_NODEMANGLE:
		a->o.no_demangle = true;
		break;
	case O_MAXSTACKS:
		a->o.stack_entries = (uint32_t)v->u;
		break;
	case O_MAXSTACK:
		return set_max_stack(a, v->u);
	case O_NOLINES:
		a->o.no_lines = true;
		break;
	case 'd':
		a->duration = v->f;
		break;
	case 'f':
		return set_format(a, v->str);
	case 'o':
		return add_output(a, v->str);
	case O_BTF:
		a->btf = v->str;
		break;
	case O_FOLDED_PREFIX:
		if (!strcmp(v->str, "container"))
			a->folded_prefix = AM_FOLDED_PREFIX_CONTAINER;
		else if (!strcmp(v->str, "none"))
			a->folded_prefix = AM_FOLDED_PREFIX_NONE;
		else
			return am_cli_usage_error(
			    &cmd, "--folded-prefix: '%s' is not one of none, container", v->str);
		break;
	case 'v':
		a->verbose = true;
		break;
	}
	return 0;
}

/* What no single option can check: combinations, the kernel's rate limit. */
static int check_args(struct args *a)
{
	uint64_t max;

	if (a->format_pending && a->noutputs)
		return am_cli_usage_error(&cmd, "--format after the last -o has no file to go to");
	if (!a->noutputs)
		add_output(a, NULL);
	if (a->kernel_only && a->user_only)
		return am_cli_usage_error(&cmd, "--kernel-only and --user-only exclude each other");
	if (a->have_freq && a->have_period)
		return am_cli_usage_error(
		    &cmd, "-F and -c exclude each other: sample by frequency or by period");
	if (a->have_period)
		a->o.freq = 0;
	if (a->o.max_stack > AM_PROFILER_MAX_STACK && a->o.call_graph == AM_CALL_GRAPH_FP)
		return am_cli_usage_error(&cmd,
					  "--max-stack %u: frame-pointer stacks (--call-graph fp) "
					  "keep at most %d frames (the BPF program's buffer)",
					  a->o.max_stack, AM_PROFILER_MAX_STACK);
	max = max_sample_rate();
	if (a->o.freq && max && a->o.freq > max)
		return am_cli_usage_error(&cmd,
					  "--freq %llu is above the kernel's limit of %llu Hz "
					  "(sysctl kernel.perf_event_max_sample_rate)",
					  (unsigned long long)a->o.freq, (unsigned long long)max);
	a->o.cgroup_ids = a->cgroup_ids;
	a->o.kernel_stacks = !a->user_only;
	a->o.user_stacks = !a->kernel_only;
	a->o.pids = a->pids;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	const char *env;
	int first, rc;

	a->o.freq = DEFAULT_FREQ;
	a->o.attach = AM_ATTACH_AUTO;
	a->o.call_graph = AM_CALL_GRAPH_AUTO;
	a->o.copy_size = AM_PROFILER_COPY_DEFAULT;
	/* The default when --call-graph is not given (the test suites run in each mode). */
	env = getenv("ANTIMETAL_CALL_GRAPH");
	if (env && *env && am_call_graph_parse(env, &a->o.call_graph, &a->o.copy_size))
		return am_cli_usage_error(&cmd,
					  "ANTIMETAL_CALL_GRAPH: '%s' is not fp, "
					  "dwarf[,SIZE] or auto[,SIZE]",
					  env);
	a->o.event = DEFAULT_EVENT;
	rc = am_cli_parse(&cmd, argc, argv, set_option, a, &first);
	return rc ? rc : check_args(a);
}

/* The run's once-a-second tick: side-band buffers are read at a quarter full, and reading
 * them every second as well keeps them emptier still; the progress line on a terminal. */
struct tick {
	struct am_profiler *p;
	double duration;
	uint64_t start_ns;
	bool show, shown;
};

static void on_tick(void *ctx, uint32_t events, uint64_t expirations)
{
	struct tick *t = ctx;
	unsigned long long secs =
	    (unsigned long long)((am_clock_ns(CLOCK_MONOTONIC) - t->start_ns) / 1000000000u);
	unsigned long long samples;

	(void)events;
	(void)expirations;
	am_profiler_handle_notices(t->p);
	if (!t->show)
		return;
	samples = (unsigned long long)am_profiler_samples(t->p);
	if (t->duration > 0)
		fprintf(stderr, "\rprofiling: %llu/%g s, %llu samples   ", secs, t->duration,
			samples);
	else
		fprintf(stderr, "\rprofiling: %llu s, %llu samples (Ctrl-C to stop)   ", secs,
			samples);
	t->shown = true;
}

/* New processes: their mappings are captured while they live. */
static void on_notices(void *ctx, uint32_t events, uint64_t expirations)
{
	(void)events;
	(void)expirations;
	am_profiler_handle_notices(ctx);
}

/* Sample until the duration ends or a signal comes. Returns 0 or -errno (logged). */
static int run(struct am_cli_loop *cl, struct am_profiler *p, double duration)
{
	struct tick t = {.p = p, .duration = duration, .show = isatty(STDERR_FILENO) != 0};
	int err;

	t.start_ns = am_clock_ns(CLOCK_MONOTONIC);
	if (!am_loop_add(&cl->loop, am_profiler_notify_fd(p), on_notices, p) ||
	    !am_loop_add_timer_ns(&cl->loop, 1000000000u, 1000000000u, on_tick, &t))
		return -ENOMEM;
	err = am_cli_loop_run(cl, duration);
	if (t.shown)
		fputc('\n', stderr);
	return err;
}

/* The kernel side's counters with -v, and each lost part of the profile as a warning (the
 * side band's parts excepted: the collector warned them with what they cost). */
static void report_losses(const struct am_profile *prof)
{
	const struct am_profile_samples *s = &prof->samples;
	int i;

	am_debug("samples seen: %llu, counted: %llu, idle skipped: %llu, filtered out "
		 "(pid/cgroup): %llu; no kernel stack (user mode): %llu, no user stack (kernel "
		 "thread): %llu; lost in all: %llu",
		 (unsigned long long)s->seen, (unsigned long long)s->counted,
		 (unsigned long long)s->idle, (unsigned long long)s->filtered,
		 (unsigned long long)s->kstack_empty, (unsigned long long)s->ustack_kthread,
		 (unsigned long long)am_profile_lost_total(prof));
	if (s->truncated)
		am_warn("%llu samples have a stack cut: deeper than %u kernel or %u user frames "
			"(--max-stack raises the limit)%s; their outermost callers show as "
			"[truncated]",
			(unsigned long long)s->truncated, prof->max_stack,
			prof->call_graph.user_max_stack,
			prof->call_graph.copy_size ? " or than the stack bytes copied "
						     "(--call-graph dwarf,SIZE)"
						   : "");
	if (prof->call_graph.copy_size)
		am_info("call graph %s: %llu samples with %u bytes of stack copied (%.1f MiB in "
			"all), %llu user stacks unwound, %llu of them to the entry, %llu from "
			"frame pointers",
			prof->call_graph.mode, (unsigned long long)prof->call_graph.sent,
			prof->call_graph.copy_size,
			(double)prof->call_graph.copied_bytes / (1024.0 * 1024.0),
			(unsigned long long)prof->call_graph.unwound,
			(unsigned long long)prof->call_graph.reached_entry,
			(unsigned long long)prof->call_graph.fp_fallback);
	for (i = 0; i < AM_PROFILE_LOST_MAX; i++) {
		/* the side band's parts were warned by the collector with what they cost */
		if (!prof->lost[i] ||
		    (i >= AM_PROFILE_LOST_SIDEBAND_DROPPED && i <= AM_PROFILE_LOST_SIDEBAND_BOUND))
			continue;
		am_warn("%s: %llu%s", am_profile_lost_name((enum am_profile_lost_part)i),
			(unsigned long long)prof->lost[i],
			am_profile_lost_kind((enum am_profile_lost_part)i) ==
				AM_PROFILE_LOST_MAPPINGS
			    ? " (those processes are symbolized from the mmap side band, or /proc "
			      "if still alive at the end)"
			    : "");
	}
}

/* Check every -o file before profiling, as perf record opens its output first: a path that
 * cannot be written is bad usage now rather than a lost profile at the end. Nothing is
 * created until the profile is written (through a temporary file, renamed). */
static int check_outputs(struct args *a)
{
	int i, err;

	for (i = 0; i < a->noutputs; i++) {
		const char *path = a->outputs[i].path;

		if (path && (err = am_output_check(path)))
			return am_cli_usage_error(&cmd, "--output: cannot write '%s': %s", path,
						  am_output_strerror(-err));
	}
	return 0;
}

/* PATH NULL is stdout. Returns 0 or -errno (logged). */
static int write_output(const char *path, const struct am_strbuf *b)
{
	int err = 0;

	if (path) {
		err = am_output_replace(path, b->data ? b->data : "", b->len);
		if (err)
			am_err("cannot write %s: %s", path, am_output_strerror(-err));
		return err;
	}
	if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
		err = -EIO;
	if (fflush(stdout) && !err)
		err = -errno;
	if (err)
		am_err("writing stdout failed: %s", strerror(-err));
	return err;
}

/* Everything that can fail before profiling: a pprof meant for a terminal, the BTF, the
 * outputs. Returns 0 or the exit status. */
static int prepare(struct args *a, char *btf, size_t btflen)
{
	int i, rc;

	if (a->verbose)
		am_log_init(AM_LOG_DEBUG);
	for (i = 0; i < a->noutputs; i++)
		if (a->outputs[i].format == FMT_PPROF && !a->outputs[i].path &&
		    isatty(STDOUT_FILENO))
			return am_cli_usage_error(&cmd, "pprof output is binary: use -o FILE");
	rc = am_cli_btf(&cmd, a->btf, btf, btflen);
	if (rc)
		return rc;
	a->o.btf_path = btf[0] ? btf : NULL;
	return check_outputs(a);
}

/* Render PROF in each output's format and write it. Returns 0 or -errno (logged). */
static int write_profile(const struct args *a, const struct am_profile *prof, struct am_strbuf *out)
{
	int i, err = 0;

	for (i = 0; i < a->noutputs && !err; i++) {
		am_strbuf_reset(out);
		switch (a->outputs[i].format) {
		case FMT_FOLDED:
			err = am_folded_render_prefixed(prof, a->folded_prefix, out);
			break;
		case FMT_PPROF:
			err = am_pprof_render(prof, out);
			break;
		case FMT_SVG:
			err = am_flamegraph_svg_render(prof, "antimetal-agent profile", out);
			break;
		}
		if (err)
			am_err("rendering the profile failed: %s", strerror(-err));
		else
			err = write_output(a->outputs[i].path, out);
	}
	return err;
}

/* The flags behind a failed start, which the profiler does not know by their names. */
static void open_failed_hint(const struct args *a, int err)
{
	if (err == -EOPNOTSUPP && a->o.no_fallback)
		fprintf(stderr, "antimetal-agent profile: --no-fallback was given: no fallback to "
				"cpu-clock\n");
	else if (err == -EPERM || err == -EACCES || a->verbose)
		return;
	/* the profiler logs libbpf's and the verifier's messages at debug level */
	fprintf(stderr, "antimetal-agent profile: run with -v for libbpf's and the verifier's "
			"messages\n");
}

int cmd_profile(int argc, char **argv)
{
	struct args a = {0};
	struct am_profiler *p = NULL;
	struct am_profile prof = {0};
	struct am_strbuf out = {0};
	struct am_cli_loop cl;
	char btf[PATH_MAX] = "";
	int err = 0, rc;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc == AM_CLI_HELP ? AM_EXIT_OK : rc;
	rc = prepare(&a, btf, sizeof(btf));
	if (rc)
		return rc;

	/* Ctrl-C ends the profile and still writes it: signals arrive through a signalfd. */
	/* Before any thread: it sets the environment libdebuginfod reads. */
	am_usym_debuginfod_defaults(NULL, AM_USYM_DEBUGINFOD_TIMEOUT_S);
	if (am_cli_loop_open(&cl))
		return AM_EXIT_FAIL;
	err = am_profiler_open(&a.o, &p);
	if (err) {
		open_failed_hint(&a, err);
		rc = AM_EXIT_FAIL;
		goto out;
	}
	err = run(&cl, p, a.duration);
	if (!err)
		err = am_profiler_collect(p, &prof);
	am_profiler_close(p);
	if (err) {
		rc = AM_EXIT_FAIL;
		goto out;
	}
	am_info("%llu samples of %s%s at %s%llu%s on %d CPUs in %.1f s (attach: %s), %zu stacks",
		(unsigned long long)prof.total, prof.event, prof.fell_back ? " (fallback)" : "",
		prof.freq ? "" : "period ",
		(unsigned long long)(prof.freq ? prof.freq : prof.period), prof.freq ? " Hz" : "",
		prof.ncpus, (double)prof.duration_ns / 1e9, prof.attach, prof.nstacks);
	report_losses(&prof);
	err = write_profile(&a, &prof, &out);
	rc = err ? AM_EXIT_FAIL : AM_EXIT_OK;
out:
	am_profile_free(&prof);
	am_strbuf_free(&out);
	am_cli_loop_close(&cl);
	return rc;
}
