/* antimetal-agent collect NAME...|--all: one snapshot of system collectors, in the Prometheus
 * text format or as one JSON object. Rate-based figures need two samples: --interval MS takes
 * a first one, waits, and prints the second. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "collectors/system/collector.h"
#include "export/metrics_json.h"
#include "export/prom_text.h"
#include "util/clock.h"
#include "util/log.h"

enum {
	OPT_PROCFS = 256,
	OPT_SYSFS,
	OPT_DEVFS,
	OPT_FORMAT,
	OPT_INTERVAL,
	OPT_REPEAT,
	OPT_ALL,
	OPT_STATS
};

struct active {
	const struct am_collector *c;
	void *state;
	int ok; /* init succeeded */
};

static void names(FILE *out)
{
	size_t i;

	for (i = 0; am_collectors[i]; i++)
		fprintf(out, "%s%s", i ? ", " : "", am_collectors[i]->name);
	fputc('\n', out);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: antimetal-agent collect NAME...|--all [OPTIONS]\n\n"
		"Print one snapshot of system collectors.\n\n"
		"  --all               every collector\n"
		"  --procfs DIR        procfs root (default /proc)\n"
		"  --sysfs DIR         sysfs root (default /sys)\n"
		"  --devfs DIR         device root for kmsg (default /dev)\n"
		"  --format prom|json  Prometheus text exposition (default) or one JSON object\n"
		"  --interval MS       take a first sample, wait MS, print the second (rates)\n"
		"  -h, --help          this text\n\n"
		"collectors: ");
	names(out);
}

#define bad_usage(...) am_cli_usage_error("collect", usage, __VA_ARGS__)

static int parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static double tv_us(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

/* One cycle: every started collector appends to SET. Returns how many failed. */
static int cycle(struct active *act, size_t n, struct am_metric_set *set)
{
	int failed = 0;
	size_t i;

	am_metric_set_reset(set);
	set->timestamp_ns = am_clock_ns(CLOCK_REALTIME);
	for (i = 0; i < n; i++) {
		if (!act[i].ok)
			continue;
		if (act[i].c->collect(act[i].state, set))
			failed++;
	}
	return failed;
}

int cmd_collect(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, OPT_ALL},
	    {"procfs", required_argument, NULL, OPT_PROCFS},
	    {"sysfs", required_argument, NULL, OPT_SYSFS},
	    {"devfs", required_argument, NULL, OPT_DEVFS},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    /* Hidden: cycles in one process, for bench/bench_collectors.sh. */
	    {"repeat", required_argument, NULL, OPT_REPEAT},
	    {"bench-stats", no_argument, NULL, OPT_STATS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct am_collect_roots roots = {"/proc", "/sys", "/dev", NULL};
	struct am_metric_set set = {0};
	struct am_strbuf out = {0};
	struct active act[64];
	long interval_ms = 0, repeat = 1, r;
	int all = 0, json = 0, stats = 0, opt, failed = 0;
	struct rusage ru0, ru1;
	size_t n = 0, i;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_ALL:
			all = 1;
			break;
		case OPT_PROCFS:
			roots.procfs = optarg;
			break;
		case OPT_SYSFS:
			roots.sysfs = optarg;
			break;
		case OPT_DEVFS:
			roots.devfs = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "json"))
				json = 1;
			else if (strcmp(optarg, "prom"))
				return bad_usage("--format must be prom or json, not '%s'", optarg);
			break;
		case OPT_INTERVAL:
			if (parse_count(optarg, 3600000, &interval_ms))
				return bad_usage(
				    "--interval needs milliseconds (0..3600000), not '%s'", optarg);
			break;
		case OPT_REPEAT:
			if (parse_count(optarg, 100000000, &repeat) || repeat < 1)
				return bad_usage("--repeat needs a count of 1 or more, not '%s'",
						 optarg);
			break;
		case OPT_STATS:
			stats = 1;
			break;
		case 'h':
			usage(stdout);
			return AM_EXIT_OK;
		default:
			return bad_usage("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (all && optind < argc)
		return bad_usage("give collector names or --all, not both (got '%s')",
				 argv[optind]);
	if (!all && optind == argc)
		return bad_usage("name a collector, or --all");
	for (i = 0; am_collectors[i] && all; i++)
		act[n++] = (struct active){.c = am_collectors[i]};
	for (; optind < argc; optind++) {
		const struct am_collector *c = am_collector_find(argv[optind]);

		if (!c) {
			fprintf(stderr, "antimetal-agent collect: unknown collector '%s'; valid: ",
				argv[optind]);
			names(stderr);
			return AM_EXIT_USAGE;
		}
		if (n == sizeof(act) / sizeof(act[0]))
			return bad_usage("too many collector names");
		act[n++] = (struct active){.c = c};
	}

	for (i = 0; i < n; i++) {
		int err = act[i].c->init(&act[i].state, &roots);

		/* A collector that cannot start is reported; the others still run. */
		act[i].ok = !err;
		if (err) {
			am_err("collect: %s: cannot start: %s", act[i].c->name, strerror(-err));
			failed++;
		}
	}
	if (interval_ms) {
		struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};

		cycle(act, n, &set);
		nanosleep(&ts, NULL);
	}
	getrusage(RUSAGE_SELF, &ru0);
	for (r = 0; r < repeat; r++) {
		int f = cycle(act, n, &set);

		am_strbuf_reset(&out);
		if (json) {
			am_metrics_json_render(&set, &out);
			am_strbuf_putc(&out, '\n');
		} else {
			am_prom_text_render(&set, &out);
		}
		if (r == repeat - 1)
			failed += f;
	}
	getrusage(RUSAGE_SELF, &ru1);
	if (stats)
		/* CPU per cycle (collection and rendering, not start-up) and the peak RSS, for
		 * bench/bench_collectors.sh. */
		fprintf(
		    stderr,
		    "collect-stats: cycles=%ld cpu_us_per_cycle=%.1f maxrss_kb=%ld samples=%zu\n",
		    repeat,
		    (tv_us(&ru1.ru_utime) + tv_us(&ru1.ru_stime) - tv_us(&ru0.ru_utime) -
		     tv_us(&ru0.ru_stime)) /
			(double)repeat,
		    ru1.ru_maxrss, set.n);
	if (set.oom || out.oom) {
		am_err("collect: out of memory");
		failed++;
	} else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
		am_err("collect: writing the output: %s", strerror(errno));
		failed++;
	}
	for (i = 0; i < n; i++)
		if (act[i].ok)
			act[i].c->destroy(act[i].state);
	am_metric_set_free(&set);
	am_strbuf_free(&out);
	if (fflush(stdout))
		failed++;
	return failed ? AM_EXIT_FAIL : AM_EXIT_OK;
}
