/* antimetal-agent collect NAME...|--all: one snapshot of system collectors, in the Prometheus
 * text format or as one JSON object. Rate-based figures need two samples: --interval MS takes
 * a first one, waits, and prints the second. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_opts.h"
#include "cli/commands.h"
#include "collectors/system/collector.h"
#include "export/metrics_json.h"
#include "export/prom_text.h"
#include "util/clock.h"
#include "util/log.h"

#define MAX_ACTIVE	64
#define MAX_INTERVAL_MS 3600000
#define MAX_REPEAT	100000000

enum {
	O_ALL = AM_OPT_LONG,
	O_PROCFS,
	O_SYSFS,
	O_DEVFS,
	O_FORMAT,
	O_INTERVAL,
	O_REPEAT,
	O_STATS,
	O_CGROUP_KEEP_OPEN,
	O_FS_MP_EXCLUDE,
	O_FS_TYPES_EXCLUDE,
	O_FS_TIMEOUT
};

struct active {
	const struct am_collector *c;
	void *state;
	int ok; /* init succeeded */
};

struct args {
	struct am_collect_roots roots;
	uint64_t interval_ms, repeat;
	bool all, json, stats;
	struct active act[MAX_ACTIVE];
	size_t n;
};

static void names(FILE *out)
{
	size_t i;

	for (i = 0; am_collectors[i]; i++)
		fprintf(out, "%s%s", i ? ", " : "", am_collectors[i]->name);
	fputc('\n', out);
}

static void more_help(FILE *out)
{
	fputs("\ncollectors: ", out);
	names(out);
}

static const struct am_opt options[] = {
    {.name = "all", .key = O_ALL, .help = "every collector"},
    {.name = "procfs",
     .key = O_PROCFS,
     .type = AM_OPT_STRING,
     .arg = "DIR",
     .help = "procfs root",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = "/proc"},
    {.name = "sysfs",
     .key = O_SYSFS,
     .type = AM_OPT_STRING,
     .arg = "DIR",
     .help = "sysfs root",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = "/sys"},
    {.name = "devfs",
     .key = O_DEVFS,
     .type = AM_OPT_STRING,
     .arg = "DIR",
     .help = "device root for kmsg",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = "/dev"},
    {.name = "format",
     .key = O_FORMAT,
     .type = AM_OPT_STRING,
     .arg = "prom|json",
     .help = "Prometheus text exposition or one JSON object",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = "prom"},
    {.name = "interval",
     .key = O_INTERVAL,
     .type = AM_OPT_UINT,
     .arg = "MS",
     .help = "take a first sample, wait MS, print the second (rates)",
     .flags = AM_OPT_SHOW_RANGE,
     .max = MAX_INTERVAL_MS},
    {.name = "filesystem-mount-points-exclude",
     .key = O_FS_MP_EXCLUDE,
     .type = AM_OPT_STRING,
     .arg = "RE",
     .help = "mount points the filesystem collector leaves out (POSIX extended regex; default "
	     "node_exporter 1.5's)"},
    {.name = "filesystem-fs-types-exclude",
     .key = O_FS_TYPES_EXCLUDE,
     .type = AM_OPT_STRING,
     .arg = "RE",
     .help = "file system types it leaves out (default node_exporter 1.5's)"},
    {.name = "filesystem-timeout",
     .key = O_FS_TIMEOUT,
     .type = AM_OPT_UINT,
     .arg = "MS",
     .help = "how long a cycle waits for statfs; a mount still blocked is skipped until it "
	     "answers",
     .flags = AM_OPT_SHOW_RANGE,
     .min = 10,
     .max = 60000},
    /* cycles in one process and their cost, for bench/bench_collectors.sh */
    {.name = "repeat",
     .key = O_REPEAT,
     .type = AM_OPT_UINT,
     .flags = AM_OPT_HIDDEN,
     .min = 1,
     .max = MAX_REPEAT,
     .help = ""},
    {.name = "bench-stats", .key = O_STATS, .flags = AM_OPT_HIDDEN, .help = ""},
    /* collectors.cgroup.keep_open, for bench/bench_cgroup.sh */
    {.name = "cgroup-keep-open",
     .key = O_CGROUP_KEEP_OPEN,
     .type = AM_OPT_UINT,
     .flags = AM_OPT_HIDDEN,
     .max = 1000000,
     .help = ""},
    {0},
};

static const struct am_cmd cmd = {
    .name = "collect",
    .synopsis = "NAME...|--all [OPTIONS]",
    .about = "Print one snapshot of system collectors.",
    .opts = options,
    .more = more_help,
    .operands = true,
};

static int set_option(void *ctx, const struct am_opt *opt, const struct am_opt_value *v)
{
	struct args *a = ctx;

	switch (opt->key) {
	case O_ALL:
		a->all = true;
		break;
	case O_PROCFS:
		a->roots.procfs = v->str;
		break;
	case O_SYSFS:
		a->roots.sysfs = v->str;
		break;
	case O_DEVFS:
		a->roots.devfs = v->str;
		break;
	case O_FORMAT:
		if (strcmp(v->str, "json") && strcmp(v->str, "prom"))
			return am_cli_usage_error(&cmd, "--format: '%s' is not one of prom, json",
						  v->str);
		a->json = !strcmp(v->str, "json");
		break;
	case O_INTERVAL:
		a->interval_ms = v->u;
		break;
	case O_REPEAT:
		a->repeat = v->u;
		break;
	case O_STATS:
		a->stats = true;
		break;
	case O_FS_MP_EXCLUDE:
		a->roots.fs_mount_points_exclude = v->str;
		break;
	case O_FS_TYPES_EXCLUDE:
		a->roots.fs_types_exclude = v->str;
		break;
	case O_FS_TIMEOUT:
		a->roots.fs_timeout_ms = (unsigned)v->u;
		break;
	case O_CGROUP_KEEP_OPEN:
		a->roots.cgroup_keep_open = (unsigned)v->u;
		break;
	}
	return 0;
}

/* The collectors named by the operands from FIRST on, or all of them with --all. */
static int select_collectors(struct args *a, int first, int argc, char **argv)
{
	size_t i;

	if (a->all && first < argc)
		return am_cli_usage_error(
		    &cmd, "give collector names or --all, not both (got '%s')", argv[first]);
	if (!a->all && first == argc)
		return am_cli_usage_error(&cmd, "name a collector, or --all");
	for (i = 0; am_collectors[i] && a->all; i++)
		a->act[a->n++] = (struct active){.c = am_collectors[i]};
	for (; first < argc; first++) {
		const struct am_collector *c = am_collector_find(argv[first]);

		if (!c) {
			char valid[1024];
			FILE *f = fmemopen(valid, sizeof(valid), "w");

			valid[0] = '\0';
			if (f) {
				names(f);
				fclose(f);
			}
			valid[strcspn(valid, "\n")] = '\0';
			return am_cli_usage_error(&cmd, "unknown collector '%s'; valid: %s",
						  argv[first], valid);
		}
		if (a->n == MAX_ACTIVE)
			return am_cli_usage_error(&cmd, "more than %d collector names", MAX_ACTIVE);
		a->act[a->n++] = (struct active){.c = c};
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	int first, rc;

	a->roots = (struct am_collect_roots){.procfs = "/proc",
					     .sysfs = "/sys",
					     .devfs = "/dev",
					     .cgroup_keep_open = AM_CGROUP_DEFAULT_KEEP_OPEN};
	a->repeat = 1;
	rc = am_cli_parse(&cmd, argc, argv, set_option, a, &first);
	return rc ? rc : select_collectors(a, first, argc, argv);
}

static double tv_us(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

/* One cycle: every started collector appends to SET. Returns how many failed. */
static int cycle(const struct active *act, size_t n, struct am_metric_set *set)
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

/* Start every selected collector; one that cannot start is reported and the others run.
 * Returns how many failed. */
static int start(struct args *a)
{
	int failed = 0;
	size_t i;

	for (i = 0; i < a->n; i++) {
		int err = a->act[i].c->init(&a->act[i].state, &a->roots);

		a->act[i].ok = !err;
		if (err) {
			am_err("collect: %s: cannot start: %s", a->act[i].c->name, strerror(-err));
			failed++;
		}
	}
	return failed;
}

/* CPU per cycle (collection and rendering, not start-up) and the peak RSS, for
 * bench/bench_collectors.sh. */
static void print_stats(const struct args *a, const struct rusage *ru0, const struct rusage *ru1,
			size_t samples)
{
	double us = tv_us(&ru1->ru_utime) + tv_us(&ru1->ru_stime) - tv_us(&ru0->ru_utime) -
		    tv_us(&ru0->ru_stime);

	fprintf(stderr,
		"collect-stats: cycles=%llu cpu_us_per_cycle=%.1f maxrss_kb=%ld samples=%zu\n",
		(unsigned long long)a->repeat, us / (double)a->repeat, ru1->ru_maxrss, samples);
}

/* The cycles (one, or --repeat), each rendered into OUT. Returns how many collectors failed in
 * the last one. */
static int collect(const struct args *a, struct am_metric_set *set, struct am_strbuf *out)
{
	struct rusage ru0, ru1;
	uint64_t r;
	int failed = 0;

	if (a->interval_ms) {
		struct timespec ts = {(time_t)(a->interval_ms / 1000),
				      (long)(a->interval_ms % 1000) * 1000000L};

		cycle(a->act, a->n, set);
		nanosleep(&ts, NULL);
	}
	getrusage(RUSAGE_SELF, &ru0);
	for (r = 0; r < a->repeat; r++) {
		failed = cycle(a->act, a->n, set);
		am_strbuf_reset(out);
		if (a->json) {
			am_metrics_json_render(set, out);
			am_strbuf_putc(out, '\n');
		} else {
			am_prom_text_render(set, out);
		}
	}
	getrusage(RUSAGE_SELF, &ru1);
	if (a->stats)
		print_stats(a, &ru0, &ru1, set->n);
	return failed;
}

int cmd_collect(int argc, char **argv)
{
	struct am_metric_set set = {0};
	struct am_strbuf out = {0};
	struct args a = {0};
	int failed, rc;
	size_t i;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc == AM_CLI_HELP ? AM_EXIT_OK : rc;
	failed = start(&a);
	failed += collect(&a, &set, &out);
	if (set.oom || out.oom) {
		am_err("collect: out of memory");
		failed++;
	} else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
		am_err("collect: writing the output: %s", strerror(errno));
		failed++;
	}
	for (i = 0; i < a.n; i++)
		if (a.act[i].ok)
			a.act[i].c->destroy(a.act[i].state);
	am_metric_set_free(&set);
	am_strbuf_free(&out);
	if (fflush(stdout))
		failed++;
	return failed ? AM_EXIT_FAIL : AM_EXIT_OK;
}
