/* antimetal-agent execsnoop: stream every exec on the host as a table or JSON lines, until
 * Ctrl-C, SIGTERM or -d SECONDS; a summary with drops goes to stderr at the end. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/cli_loop.h"
#include "cli/cli_opts.h"
#include "cli/cli_resolve.h"
#include "cli/commands.h"
#include "collectors/ebpf/execsnoop.h"
#include "core/capabilities.h"
#include "export/exec_render.h"
#include "util/clock.h"
#include "util/loop.h"
#include "util/log.h"

struct args {
	bool time, json, exits, failed, perf_buffer, verbose;
	bool filter_uid;
	uint32_t uid;
	const char *comm, *cgroup, *btf;
	char cgroup_dir[PATH_MAX]; /* --cgroup resolved */
	uint64_t cgroup_id;
	uint32_t max_args, max_args_size;
	double duration;       /* seconds; 0: until a signal */
	double stats_interval; /* seconds between JSON stats lines; 0: only at exit */
	double batch_ms;       /* after a wakeup, let records gather this long before reading */
};

/* Defaults and limits, printed in the help from the option table. */
#define DEFAULT_STATS_INTERVAL 10.0
#define DEFAULT_BATCH_MS       10.0
#define MAX_BATCH_MS	       1000.0
#define MAX_SECONDS	       1e9
/* The kernel's comm is TASK_COMM_LEN (16) bytes with its NUL. */
#define AM_COMM_MAX 15

struct out_ctx {
	struct am_strbuf buf;
	bool json, time;
	bool write_failed;
};

enum {
	O_JSON = AM_OPT_LONG,
	O_FAILED,
	O_CGROUP,
	O_EXITS,
	O_MAX_ARGS,
	O_MAX_ARGS_SIZE,
	O_STATS,
	O_BATCH,
	O_PERF,
	O_BTF,
};

/* Short letters as in bcc's execsnoop (-T, -u, -n, -x); what bcc lacks is long-only. */
static const struct am_opt options[] = {
    {.name = "time", .key = 'T', .help = "include a TIME column (local wall-clock time)"},
    {.name = "json",
     .key = O_JSON,
     .help = "one JSON object per line, and {\"type\":\"stats\"} lines"},
    {.name = "uid",
     .key = 'u',
     .type = AM_OPT_STRING,
     .arg = "UID",
     .help = "only this user id (number or name)"},
    {.name = "comm",
     .key = 'n',
     .type = AM_OPT_STRING,
     .arg = "NAME",
     .alias = "name",
     .help = "only processes whose comm is NAME after the exec (exactly,\n"
	     "1 to 15 bytes; --name as in bcc)"},
    {.name = "fails", .key = 'x', .help = "include failed execs (bcc's flag; they always are)"},
    {.name = "failed", .key = O_FAILED, .help = "only failed execs"},
    {.name = "cgroup",
     .key = O_CGROUP,
     .type = AM_OPT_STRING,
     .arg = "PATH",
     .help = "only processes in this cgroup v2 directory (absolute,\n"
	     "or relative to the cgroup2 mount)"},
    {.name = "exits",
     .key = O_EXITS,
     .help = "also report process exits (code or signal, lifetime)"},
    {.name = "max-args",
     .key = O_MAX_ARGS,
     .type = AM_OPT_UINT,
     .arg = "N",
     .help = "arguments kept per exec",
     .flags = AM_OPT_SHOW_RANGE | AM_OPT_SHOW_DEFAULT,
     .min = 1,
     .max = AM_EXECSNOOP_MAX_ARGS,
     .dflt = AM_EXECSNOOP_DEFAULT_MAX_ARGS},
    {.name = "max-args-size",
     .key = O_MAX_ARGS_SIZE,
     .type = AM_OPT_UINT,
     .arg = "BYTES",
     .help = "bytes of arguments kept per exec",
     .flags = AM_OPT_SHOW_RANGE | AM_OPT_SHOW_DEFAULT,
     .min = 1,
     .max = AM_EXECSNOOP_MAX_ARGS_SIZE,
     .dflt = AM_EXECSNOOP_DEFAULT_ARGS_SIZE},
    {.name = "duration",
     .key = 'd',
     .type = AM_OPT_REAL,
     .arg = "SECONDS",
     .help = "stop after this long (default: until Ctrl-C / SIGTERM)",
     .flags = AM_OPT_POSITIVE,
     .fmax = MAX_SECONDS},
    {.name = "stats-interval",
     .key = O_STATS,
     .type = AM_OPT_REAL,
     .arg = "SECONDS",
     .help = "seconds between JSON stats lines; 0: at exit only",
     .flags = AM_OPT_SHOW_DEFAULT,
     .fmax = MAX_SECONDS,
     .fdflt = DEFAULT_STATS_INTERVAL},
    {.name = "batch-ms",
     .key = O_BATCH,
     .type = AM_OPT_REAL,
     .arg = "MS",
     .help = "after a wakeup, let records gather MS ms before reading\n"
	     "them: fewer wakeups per record at a little latency",
     .flags = AM_OPT_SHOW_RANGE | AM_OPT_SHOW_DEFAULT,
     .fmax = MAX_BATCH_MS,
     .unit = "milliseconds",
     .fdflt = DEFAULT_BATCH_MS},
    {.name = "perf-buffer",
     .key = O_PERF,
     .help = "use the perf buffer even where a ring buffer exists"},
    {.name = "btf",
     .key = O_BTF,
     .type = AM_OPT_STRING,
     .arg = "FILE",
     .help = "kernel BTF to use instead of the discovered one"},
    {.name = "verbose", .key = 'v', .help = "debug logging (libbpf and the verifier)"},
    {0},
};

static const struct am_cmd cmd = {
    .name = "execsnoop",
    .synopsis = "[OPTIONS]",
    .about = "Trace every execve/execveat on the host, successful or failed.",
    .opts = options,
};

static int set_uid(struct args *a, const char *arg)
{
	struct passwd *pw;
	uint64_t v;

	a->filter_uid = true;
	if (!am_cli_parse_u64(arg, UINT32_MAX - 1, &v)) {
		a->uid = (uint32_t)v;
		return 0;
	}
	pw = getpwnam(arg);
	if (!pw)
		return am_cli_usage_error(&cmd, "--uid: '%s' is neither a number nor a user", arg);
	a->uid = pw->pw_uid;
	return 0;
}

static int set_option(void *ctx, const struct am_opt *opt, const struct am_opt_value *v)
{
	struct args *a = ctx;

	switch (opt->key) {
	case 'T':
		a->time = true;
		break;
	case O_JSON:
		a->json = true;
		break;
	case 'u':
		return set_uid(a, v->str);
	case 'n':
		if (!*v->str || strlen(v->str) > AM_COMM_MAX)
			return am_cli_usage_error(&cmd,
						  "--comm: '%s' must be 1 to %d bytes (the "
						  "kernel's comm length)",
						  v->str, AM_COMM_MAX);
		a->comm = v->str;
		break;
	case 'x':
		break; /* failed execs are always reported */
	case O_FAILED:
		a->failed = true;
		break;
	case O_CGROUP:
		a->cgroup = v->str;
		break;
	case O_EXITS:
		a->exits = true;
		break;
	case O_MAX_ARGS:
		a->max_args = (uint32_t)v->u;
		break;
	case O_MAX_ARGS_SIZE:
		a->max_args_size = (uint32_t)v->u;
		break;
	case 'd':
		a->duration = v->f;
		break;
	case O_STATS:
		a->stats_interval = v->f;
		break;
	case O_BATCH:
		a->batch_ms = v->f;
		break;
	case O_PERF:
		a->perf_buffer = true;
		break;
	case O_BTF:
		a->btf = v->str;
		break;
	case 'v':
		a->verbose = true;
		break;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	int first, rc;

	a->stats_interval = DEFAULT_STATS_INTERVAL;
	a->batch_ms = DEFAULT_BATCH_MS;
	rc = am_cli_parse(&cmd, argc, argv, set_option, a, &first);
	if (rc || !a->cgroup)
		return rc;
	rc = am_cli_cgroup(a->cgroup, a->cgroup_dir, sizeof(a->cgroup_dir), &a->cgroup_id);
	if (rc)
		return am_cli_usage_error(&cmd, "--cgroup: '%s' %s", a->cgroup,
					  rc == -EINVAL || rc == -ENOENT
					      ? "is not a cgroup v2 directory"
					      : strerror(-rc));
	return 0;
}

/* Name what is missing rather than failing later inside libbpf with EPERM. */
static int check_privileges(void)
{
	const char *missing = am_caps_missing_for_tracing();

	if (!missing)
		return 0;
	am_err("execsnoop: missing capability %s: run as root", missing);
	return AM_EXIT_FAIL;
}

/* The collector logs libbpf's and the verifier's messages at debug level: say how to see them. */
static void hint_verbose(const struct args *a, int err)
{
	if (!a->verbose && err != -EPERM && err != -EACCES)
		fprintf(stderr, "antimetal-agent execsnoop: run with -v for libbpf's and the "
				"verifier's messages\n");
}

static void flush_out(struct out_ctx *o)
{
	if (!o->buf.len || o->write_failed)
		goto out;
	if (fwrite(o->buf.data, 1, o->buf.len, stdout) != o->buf.len || fflush(stdout))
		o->write_failed = true; /* reader went away (EPIPE): stop quietly */
out:
	am_strbuf_reset(&o->buf);
}

static void on_record(const struct am_exec_record *r, void *ctx)
{
	struct out_ctx *o = ctx;

	if (o->json)
		am_exec_render_json(&o->buf, r);
	else
		am_exec_render_text(&o->buf, r, o->time);
	if (o->buf.len > 65536)
		flush_out(o);
}

static void emit_stats(struct am_execsnoop *s, struct out_ctx *o, bool final)
{
	struct am_execsnoop_stats st;

	am_execsnoop_stats(s, &st);
	am_exec_render_stats_json(&o->buf, &st, am_clock_ns(CLOCK_REALTIME), final);
	flush_out(o);
}

static void summary(struct am_execsnoop *s)
{
	struct am_execsnoop_stats st;

	am_execsnoop_stats(s, &st);
	fprintf(stderr,
		"execsnoop: %llu events (%llu execs, %llu exits); %llu dropped (%llu %s full, "
		"%llu stash failures, %llu malformed); %llu read failures; %llu execs in flight "
		"at attach\n",
		(unsigned long long)(st.execs + st.exits), (unsigned long long)st.execs,
		(unsigned long long)st.exits, (unsigned long long)st.drops,
		(unsigned long long)(st.drops - st.stash_failures - st.malformed),
		am_execsnoop_uses_ringbuf(s) ? "ring buffer" : "perf buffer",
		(unsigned long long)st.stash_failures, (unsigned long long)st.malformed,
		(unsigned long long)st.read_failures, (unsigned long long)st.unmatched);
}

/* The run: records, the stats interval and the batch pause as sources of the command's loop,
 * which the signals and the duration end. */
struct run {
	struct am_cli_loop *cl;
	struct am_execsnoop *s;
	struct out_ctx *o;
	const struct args *a;
	struct am_loop_source *ready, *batch;
	int rc;
};

#define SWEEP_NS 1000000000u

/* Read what is waiting; then, while records keep coming, pause a little so the next read finds
 * a batch (one wakeup per record costs more than the record). Returns records read, or -1
 * with the run stopped. */
static int consume(struct run *r)
{
	int n = am_execsnoop_consume(r->s);

	flush_out(r->o);
	if (n < 0) {
		am_err("execsnoop: reading records failed: %s", strerror(-n));
		r->rc = AM_EXIT_FAIL;
	}
	if (n < 0 || r->o->write_failed) {
		am_loop_stop(&r->cl->loop);
		return -1;
	}
	if (n > 0 && r->a->batch_ms > 0) {
		/* While batching, records do not wake us, and the fd is not watched. */
		am_execsnoop_set_batching(r->s, true);
		am_loop_remove(&r->cl->loop, r->ready);
		r->ready = NULL;
		if (am_loop_timer_set(r->batch, am_loop_ns_from_s(r->a->batch_ms / 1000), 0)) {
			r->rc = AM_EXIT_FAIL;
			am_loop_stop(&r->cl->loop);
		}
	}
	return n;
}

static void on_ready(void *ctx, uint32_t events, uint64_t expirations)
{
	(void)events;
	(void)expirations;
	consume(ctx);
}

static void on_batch_end(void *ctx, uint32_t events, uint64_t expirations)
{
	struct run *r = ctx;

	(void)events;
	(void)expirations;
	/* Read at once: records written meanwhile woke nobody and do not make the fd readable. */
	am_execsnoop_set_batching(r->s, false);
	if (consume(r) != 0 || r->ready)
		return; /* batching again, stopped, or this was the sweep below */
	r->ready = am_loop_add(&r->cl->loop, am_execsnoop_fd(r->s), on_ready, r);
	/* A record whose program read the flag just before it was cleared can commit after this
	 * read, without a wakeup: one more read a second later (the sweep) picks it up. */
	if (!r->ready || am_loop_timer_set(r->batch, SWEEP_NS, 0)) {
		r->rc = AM_EXIT_FAIL;
		am_loop_stop(&r->cl->loop);
	}
}

static void on_stats(void *ctx, uint32_t events, uint64_t expirations)
{
	struct run *r = ctx;

	(void)events;
	(void)expirations;
	emit_stats(r->s, r->o, false);
	if (r->o->write_failed)
		am_loop_stop(&r->cl->loop);
}

static int run(struct am_cli_loop *cl, struct am_execsnoop *s, const struct args *a,
	       struct out_ctx *o)
{
	struct run r = {.cl = cl, .s = s, .o = o, .a = a, .rc = AM_EXIT_OK};
	uint64_t stats_ns = am_loop_ns_from_s(a->stats_interval);

	r.ready = am_loop_add(&cl->loop, am_execsnoop_fd(s), on_ready, &r);
	/* Added disarmed: armed for each batch pause. */
	r.batch = am_loop_add_timer_ns(&cl->loop, 1, 0, on_batch_end, &r);
	if (!r.ready || !r.batch || am_loop_timer_set(r.batch, 0, 0) ||
	    (a->json && stats_ns &&
	     !am_loop_add_timer_ns(&cl->loop, stats_ns, stats_ns, on_stats, &r)))
		return AM_EXIT_FAIL;
	if (am_cli_loop_run(cl, a->duration))
		return AM_EXIT_FAIL;
	/* What arrived before the stop still counts. */
	am_execsnoop_set_batching(s, false);
	if (r.rc == AM_EXIT_OK && !o->write_failed) {
		am_execsnoop_consume(s);
		flush_out(o);
	}
	return r.rc;
}

int cmd_execsnoop(int argc, char **argv)
{
	struct am_execsnoop_opts so = {0};
	struct out_ctx o = {0};
	struct am_execsnoop *s = NULL;
	struct args a = {0};
	char btf[4096];
	struct am_cli_loop cl;
	int rc, err;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc == AM_CLI_HELP ? AM_EXIT_OK : rc;
	if (a.verbose)
		am_log_init(AM_LOG_DEBUG);
	rc = am_cli_btf(&cmd, a.btf, btf, sizeof(btf));
	if (rc)
		return rc;
	rc = check_privileges();
	if (rc)
		return rc;

	/* Signals first: a Ctrl-C while the program loads ends the run, not the process. */
	if (am_cli_loop_open(&cl))
		return AM_EXIT_FAIL;
	signal(SIGPIPE, SIG_IGN);

	o.json = a.json;
	o.time = a.time;
	so.cb = on_record;
	so.ctx = &o;
	so.btf_path = *btf ? btf : NULL;
	so.buffer = a.perf_buffer ? AM_EXECSNOOP_BUF_PERFBUF : AM_EXECSNOOP_BUF_AUTO;
	so.exits = a.exits;
	so.failed_only = a.failed;
	so.filter_uid = a.filter_uid;
	so.uid = a.uid;
	so.comm = a.comm;
	so.cgroup = a.cgroup ? a.cgroup_dir : NULL;
	so.max_args = a.max_args;
	so.max_args_size = a.max_args_size;
	so.resolve_cgroups = a.json; /* the table has no cgroup column */
	err = am_execsnoop_open(&so, &s);
	if (err) {
		hint_verbose(&a, err);
		am_cli_loop_close(&cl);
		return AM_EXIT_FAIL;
	}
	fprintf(stderr, "execsnoop: tracing execs (%s); Ctrl-C to stop\n",
		am_execsnoop_uses_ringbuf(s) ? "ring buffer" : "perf buffer");
	if (!a.json) {
		am_exec_render_text_header(&o.buf, a.time);
		flush_out(&o);
	}
	rc = run(&cl, s, &a, &o);
	if (a.json)
		emit_stats(s, &o, true);
	summary(s);
	am_execsnoop_close(s);
	am_strbuf_free(&o.buf);
	am_cli_loop_close(&cl);
	return rc;
}
