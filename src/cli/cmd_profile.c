/* antimetal-agent profile: sample CPU stacks (perf's vocabulary: -F, -c, -e, -p) and write them
 * folded, as pprof or as an SVG flame graph. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/cli_loop.h"
#include "cli/commands.h"
#include "collectors/ebpf/profiler.h"
#include "core/btf_discovery.h"
#include "core/cgroup_path.h"
#include "core/perf_attach.h"
#include "export/flamegraph_svg.h"
#include "export/folded.h"
#include "export/pprof.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strbuf.h"

enum format { FMT_FOLDED, FMT_PPROF, FMT_SVG };

#define MAX_OUTPUTS 8

/* One rendering of the profile: -o FILE takes the --format given before it. */
struct output {
	enum format format;
	const char *path; /* NULL: stdout */
};

struct args {
	struct am_profiler_opts o;
	uint32_t pids[PROFILER_MAX_PIDS];
	double duration;    /* seconds, 0: until Ctrl-C */
	enum format format; /* the latest --format */
	struct output outputs[MAX_OUTPUTS];
	int noutputs;
	const char *btf;
	const char *cgroup;
	bool verbose;
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: antimetal-agent profile [OPTIONS]\n"
	    "Sample CPU stacks of every process (or of -p PIDs) with a perf event on each CPU.\n\n"
	    "  -F, --freq HZ        samples per second per CPU (default 99)\n"
	    "  -c, --period N       one sample every N events instead of -F (cpu-clock: ns)\n"
	    "  -e, --event EVENT    %s\n"
	    "                       (default cpu-clock)\n"
	    "      --no-fallback    fail (exit 1) when a hardware event is not available here\n"
	    "                       instead of falling back to cpu-clock\n"
	    "      --attach MODE    auto|link|ioctl: BPF link (5.15+) or legacy ioctls\n"
	    "  -p, --pid PID        profile this process only (repeatable)\n"
	    "      --cgroup PATH    profile this cgroup v2 only\n"
	    "      --kernel-only    collect kernel stacks only\n"
	    "      --user-only      collect user stacks only\n"
	    "      --include-idle   keep samples of the idle task (pid 0)\n"
	    "      --no-demangle    show C++/Rust symbols mangled, as in the ELF file\n"
	    "      --max-stacks N   distinct stacks kept in the kernel (default 16384, ~1 KiB\n"
	    "                       each); losses when full are reported\n"
	    "  -d, --duration SECS  stop after SECS seconds (default: at Ctrl-C)\n"
	    "  -f, --format FMT     folded (default) | pprof | svg\n"
	    "  -o, --output FILE    write there instead of stdout; repeat --format FMT -o FILE\n"
	    "                       to write one profile in several formats\n"
	    "      --btf FILE       BTF of the running kernel when it has none of its own\n"
	    "  -v, --verbose        debug logging (libbpf, verifier)\n"
	    "  -h, --help           this text\n",
	    am_perf_event_names());
}

#define bad(...) am_cli_usage_error("profile", NULL, __VA_ARGS__)

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

static int cgroup_id(const char *path, uint64_t *id)
{
	char mnt[PATH_MAX], full[PATH_MAX + 256];

	if (!am_cgroup_id_of(path, id))
		return 0;
	/* A path relative to the cgroup2 mount ("/system.slice/x.service") works too. */
	if (am_cgroup2_mount(NULL, mnt, sizeof(mnt)))
		return -ENOENT;
	snprintf(full, sizeof(full), "%s/%s", mnt, path);
	return am_cgroup_id_of(full, id);
}

static int parse_args(int argc, char **argv, struct args *a)
{
	enum {
		O_NOFALLBACK = 256,
		O_ATTACH,
		O_CGROUP,
		O_KONLY,
		O_UONLY,
		O_IDLE,
		O_BTF,
		O_MAXSTACKS,
		O_NODEMANGLE
	};
	static const struct option longopts[] = {
	    {"freq", required_argument, NULL, 'F'},
	    {"period", required_argument, NULL, 'c'},
	    {"event", required_argument, NULL, 'e'},
	    {"no-fallback", no_argument, NULL, O_NOFALLBACK},
	    {"attach", required_argument, NULL, O_ATTACH},
	    {"pid", required_argument, NULL, 'p'},
	    {"cgroup", required_argument, NULL, O_CGROUP},
	    {"kernel-only", no_argument, NULL, O_KONLY},
	    {"user-only", no_argument, NULL, O_UONLY},
	    {"include-idle", no_argument, NULL, O_IDLE},
	    {"no-demangle", no_argument, NULL, O_NODEMANGLE},
	    {"max-stacks", required_argument, NULL, O_MAXSTACKS},
	    {"duration", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"btf", required_argument, NULL, O_BTF},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	bool kernel_only = false, user_only = false, have_freq = false, have_period = false;
	bool format_pending = false;
	uint64_t v, max;
	int c;

	a->o.freq = 99;
	a->o.attach = AM_ATTACH_AUTO;
	a->o.event = "cpu-clock";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":F:c:e:p:d:f:o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (am_cli_parse_u64(optarg, UINT64_MAX, &v) || v == 0)
				return bad(
				    "-F: frequency must be a positive integer (Hz), not '%s'",
				    optarg);
			a->o.freq = v;
			have_freq = true;
			break;
		case 'c':
			if (am_cli_parse_u64(optarg, UINT64_MAX, &v) || v == 0)
				return bad("-c: period must be a positive integer, not '%s'",
					   optarg);
			a->o.period = v;
			have_period = true;
			break;
		case 'e':
			if (!am_perf_event_find(optarg)) {
				fprintf(stderr,
					"antimetal-agent profile: unknown event '%s' (known: "
					"%s)\n",
					optarg, am_perf_event_names());
				return AM_EXIT_USAGE;
			}
			a->o.event = optarg;
			break;
		case O_NOFALLBACK:
			a->o.no_fallback = true;
			break;
		case O_ATTACH:
			if (am_attach_mode_parse(optarg, &a->o.attach))
				return bad("--attach: '%s' is not one of auto, link, ioctl",
					   optarg);
			break;
		case 'p':
			if (am_cli_parse_u64(optarg, INT_MAX, &v) || v == 0)
				return bad("-p: '%s' is not a process id", optarg);
			if (a->o.npids == PROFILER_MAX_PIDS)
				return bad("-p: at most %s pids", "1024");
			if (pid_tgid(v, &a->pids[a->o.npids]))
				return bad("-p: no such process: %s", optarg);
			a->o.npids++;
			break;
		case O_CGROUP:
			a->cgroup = optarg;
			break;
		case O_KONLY:
			kernel_only = true;
			break;
		case O_UONLY:
			user_only = true;
			break;
		case O_IDLE:
			a->o.include_idle = true;
			break;
		case O_NODEMANGLE:
			a->o.no_demangle = true;
			break;
		case O_MAXSTACKS:
			if (am_cli_parse_u64(optarg, 1u << 22, &v) || v < 64)
				return bad(
				    "--max-stacks: want a number from 64 to 4194304, not '%s'",
				    optarg);
			a->o.stack_entries = (uint32_t)v;
			break;
		case 'd':
			if (am_cli_parse_double(optarg, 1e7, &a->duration) || a->duration == 0)
				return bad("-d: duration must be a positive number of seconds, not "
					   "'%s'",
					   optarg);
			break;
		case 'f':
			if (!strcmp(optarg, "folded"))
				a->format = FMT_FOLDED;
			else if (!strcmp(optarg, "pprof"))
				a->format = FMT_PPROF;
			else if (!strcmp(optarg, "svg"))
				a->format = FMT_SVG;
			else
				return bad("--format: '%s' is not one of folded, pprof, svg",
					   optarg);
			format_pending = true;
			break;
		case 'o':
			if (a->noutputs == MAX_OUTPUTS)
				return bad("-o: at most %s outputs", "8");
			a->outputs[a->noutputs].format = a->format;
			a->outputs[a->noutputs++].path = optarg;
			format_pending = false;
			break;
		case O_BTF:
			a->btf = optarg;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return bad("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (format_pending && a->noutputs)
		return bad("--format after the last -o has no file to go to");
	if (!a->noutputs) {
		a->outputs[0].format = a->format;
		a->outputs[0].path = NULL;
		a->noutputs = 1;
	}
	if (kernel_only && user_only)
		return bad("--kernel-only and --user-only exclude each other");
	if (have_freq && have_period)
		return bad("-F and -c exclude each other: sample by frequency or by period");
	if (have_period)
		a->o.freq = 0;
	max = max_sample_rate();
	if (a->o.freq && max && a->o.freq > max) {
		fprintf(stderr,
			"antimetal-agent profile: -F %llu is above the kernel's limit of %llu "
			"Hz (sysctl kernel.perf_event_max_sample_rate)\n",
			(unsigned long long)a->o.freq, (unsigned long long)max);
		return AM_EXIT_USAGE;
	}
	a->o.kernel_stacks = !user_only;
	a->o.user_stacks = !kernel_only;
	a->o.pids = a->pids;
	if (a->cgroup) {
		if (cgroup_id(a->cgroup, &a->o.cgroup_id))
			return bad("--cgroup: '%s' is not a cgroup v2 directory", a->cgroup);
		a->o.filter_cgroup = true;
	}
	return 0;
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

static void report_losses(const struct am_profile *prof)
{
	static const enum profiler_stat lost[] = {
	    PROFILER_STAT_COUNTS_FULL,	 PROFILER_STAT_KSTACK_FULL, PROFILER_STAT_KSTACK_OTHER,
	    PROFILER_STAT_USTACK_EFAULT, PROFILER_STAT_USTACK_FULL, PROFILER_STAT_USTACK_OTHER,
	    PROFILER_STAT_NEWPID_LOST,	 PROFILER_STAT_SEEN_FULL,
	};
	size_t i;

	for (i = 0; i < PROFILER_STAT_MAX; i++)
		am_debug("%s: %llu", am_profiler_stat_name((enum profiler_stat)i),
			 (unsigned long long)prof->stats[i]);
	for (i = 0; i < sizeof(lost) / sizeof(lost[0]); i++)
		if (prof->stats[lost[i]])
			am_warn("%s: %llu", am_profiler_stat_name(lost[i]),
				(unsigned long long)prof->stats[lost[i]]);
	if (prof->newpid_lost)
		am_warn("new-process notifications lost: %llu (those processes are symbolized "
			"from the mmap side band, or /proc if still alive at the end)",
			(unsigned long long)prof->newpid_lost);
}

static int write_output(const char *path, const struct am_strbuf *b)
{
	FILE *f = path ? fopen(path, "wb") : stdout;
	int err = 0;

	if (!f) {
		am_err("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (b->len && fwrite(b->data, 1, b->len, f) != b->len)
		err = -EIO;
	if ((path ? fclose(f) : fflush(f)) && !err)
		err = -errno;
	if (err)
		am_err("writing %s failed: %s", path ? path : "stdout", strerror(-err));
	return err;
}

int cmd_profile(int argc, char **argv)
{
	struct args a = {0};
	struct am_profiler *p = NULL;
	struct am_profile prof = {0};
	struct am_strbuf out = {0};
	struct am_cli_loop cl;
	char btf[PATH_MAX] = "";
	int err = 0, rc, i;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? AM_EXIT_OK : rc;
	if (a.verbose)
		am_log_init(AM_LOG_DEBUG);
	for (i = 0; i < a.noutputs; i++)
		if (a.outputs[i].format == FMT_PPROF && !a.outputs[i].path &&
		    isatty(STDOUT_FILENO)) {
			fprintf(stderr, "antimetal-agent profile: pprof output is binary: use -o "
					"FILE\n");
			return AM_EXIT_USAGE;
		}
	if (am_btf_resolve(a.btf, btf, sizeof(btf)))
		return a.btf ? AM_EXIT_USAGE : AM_EXIT_FAIL;
	a.o.btf_path = btf[0] ? btf : NULL;

	/* Ctrl-C ends the profile and still writes it: signals arrive through a signalfd. */
	if (am_cli_loop_open(&cl))
		return AM_EXIT_FAIL;
	err = am_profiler_open(&a.o, &p);
	if (err) {
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
		prof.ncpus, (double)prof.duration_ns / 1e9, am_attach_mode_name(prof.attach),
		prof.nstacks);
	report_losses(&prof);
	for (i = 0; i < a.noutputs && !err; i++) {
		am_strbuf_reset(&out);
		switch (a.outputs[i].format) {
		case FMT_FOLDED:
			err = am_folded_render(&prof, &out);
			break;
		case FMT_PPROF:
			err = am_pprof_render(&prof, &out);
			break;
		case FMT_SVG:
			err = am_flamegraph_svg_render(&prof, "antimetal-agent profile", &out);
			break;
		}
		if (err)
			am_err("rendering the profile failed: %s", strerror(-err));
		else
			err = write_output(a.outputs[i].path, &out);
	}
	rc = err ? AM_EXIT_FAIL : AM_EXIT_OK;
out:
	am_profile_free(&prof);
	am_strbuf_free(&out);
	am_cli_loop_close(&cl);
	return rc;
}
