/* antimetal-agent execsnoop: stream every exec on the host as a table or JSON lines, until
 * Ctrl-C, SIGTERM or -d SECONDS; a summary with drops goes to stderr at the end. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/cli_loop.h"
#include "cli/commands.h"
#include "collectors/ebpf/execsnoop.h"
#include "core/btf_discovery.h"
#include "core/capabilities.h"
#include "core/cgroup_path.h"
#include "export/exec_render.h"
#include "util/clock.h"
#include "util/loop.h"
#include "util/log.h"

struct args {
	bool time, json, exits, failed, perf_buffer, verbose;
	bool filter_uid;
	uint32_t uid;
	const char *comm, *cgroup, *btf;
	uint32_t max_args, max_args_size;
	double duration;       /* seconds; 0: until a signal */
	double stats_interval; /* seconds between JSON stats lines; 0: only at exit */
	double batch_ms;       /* after a wakeup, let records gather this long before reading */
};

struct out_ctx {
	struct am_strbuf buf;
	bool json, time;
	bool write_failed;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: antimetal-agent execsnoop [OPTIONS]\n"
		"\n"
		"Trace every execve/execveat on the host, successful or failed.\n"
		"\n"
		"  -T, --time             include a TIME column (local wall-clock time)\n"
		"      --json             one JSON object per line, and {\"type\":\"stats\"} lines\n"
		"  -u, --uid UID          only this user id (number or name)\n"
		"  -c, --comm NAME        only processes with this comm (after the exec)\n"
		"  -x, --failed           only failed execs\n"
		"      --cgroup PATH      only processes in this cgroup v2 directory\n"
		"      --exits            also report process exits (code or signal, lifetime)\n"
		"      --max-args N       arguments kept per exec (default %d, at most %d)\n"
		"      --max-args-size B  bytes of arguments kept per exec (default %d, at most %d)\n"
		"  -d, --duration SECONDS stop after this long (default: until Ctrl-C / SIGTERM)\n"
		"      --stats-interval S seconds between JSON stats lines (default 10; 0: at exit only)\n"
		"      --batch-ms MS      after a wakeup, let records gather MS ms before reading them:\n"
		"                         fewer wakeups per record at a little latency (default 10)\n"
		"      --perf-buffer      use the perf buffer even where a ring buffer exists\n"
		"      --btf FILE         kernel BTF to use instead of the discovered one\n"
		"  -v, --verbose          debug logging (libbpf and the verifier)\n"
		"  -h, --help             this help\n",
		64, AM_EXECSNOOP_MAX_ARGS, 4096, AM_EXECSNOOP_MAX_ARGS_SIZE);
}

#define bad_usage(...) am_cli_usage_error("execsnoop", usage, __VA_ARGS__)

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (am_cli_parse_u64(s, max, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	return am_cli_parse_double(s, 1e9, out);
}

static int parse_args(int argc, char **argv, struct args *a)
{
	enum { O_JSON = 256, O_CGROUP, O_EXITS, O_MAX_ARGS, O_MAX_ARGS_SIZE, O_PERF, O_BTF, O_STATS,
	       O_BATCH };
	static const struct option opts[] = {
		{ "time", no_argument, NULL, 'T' },
		{ "json", no_argument, NULL, O_JSON },
		{ "uid", required_argument, NULL, 'u' },
		{ "comm", required_argument, NULL, 'c' },
		{ "failed", no_argument, NULL, 'x' },
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "exits", no_argument, NULL, O_EXITS },
		{ "max-args", required_argument, NULL, O_MAX_ARGS },
		{ "max-args-size", required_argument, NULL, O_MAX_ARGS_SIZE },
		{ "duration", required_argument, NULL, 'd' },
		{ "stats-interval", required_argument, NULL, O_STATS },
		{ "perf-buffer", no_argument, NULL, O_PERF },
		{ "batch-ms", required_argument, NULL, O_BATCH },
		{ "btf", required_argument, NULL, O_BTF },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct passwd *pw;
	int c;

	a->stats_interval = 10;
	a->batch_ms = 10;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":Tu:c:xd:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'T':
			a->time = true;
			break;
		case O_JSON:
			a->json = true;
			break;
		case 'u':
			a->filter_uid = true;
			if (parse_u32(optarg, UINT32_MAX - 1, &a->uid)) {
				pw = getpwnam(optarg);
				if (!pw)
					return bad_usage("--uid: '%s' is neither a number nor a user", optarg);
				a->uid = pw->pw_uid;
			}
			break;
		case 'c':
			if (!*optarg || strlen(optarg) > 15)
				return bad_usage("--comm: '%s' must be 1 to 15 bytes (the kernel's comm length)",
						 optarg);
			a->comm = optarg;
			break;
		case 'x':
			a->failed = true;
			break;
		case O_CGROUP:
			a->cgroup = optarg;
			break;
		case O_EXITS:
			a->exits = true;
			break;
		case O_MAX_ARGS:
			if (parse_u32(optarg, AM_EXECSNOOP_MAX_ARGS, &a->max_args) || !a->max_args)
				return bad_usage("--max-args: '%s' is not a number from 1 to "
						 "256", optarg);
			break;
		case O_MAX_ARGS_SIZE:
			if (parse_u32(optarg, AM_EXECSNOOP_MAX_ARGS_SIZE, &a->max_args_size) ||
			    !a->max_args_size)
				return bad_usage("--max-args-size: '%s' is not a number from 1 to 15360",
						 optarg);
			break;
		case 'd':
			if (parse_seconds(optarg, &a->duration) || a->duration <= 0)
				return bad_usage("--duration: '%s' is not a positive number of seconds",
						 optarg);
			break;
		case O_STATS:
			if (parse_seconds(optarg, &a->stats_interval))
				return bad_usage("--stats-interval: '%s' is not a number of seconds", optarg);
			break;
		case O_PERF:
			a->perf_buffer = true;
			break;
		case O_BATCH:
			if (parse_seconds(optarg, &a->batch_ms) || a->batch_ms > 1000)
				return bad_usage("--batch-ms: '%s' is not a number from 0 to 1000", optarg);
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
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Name what is missing rather than failing later inside libbpf with EPERM. */
static int check_privileges(void)
{
	struct am_caps caps;
	int err = am_caps_get(&caps);

	if (err) {
		am_err("execsnoop: cannot read this process's capabilities: %s", strerror(-err));
		return AM_EXIT_FAIL;
	}
	if (caps.sys_admin || (caps.bpf && caps.perfmon))
		return 0;
	am_err("execsnoop: missing capability %s%s%s: it needs CAP_BPF and CAP_PERFMON "
	       "(or CAP_SYS_ADMIN); run as root",
	       caps.bpf ? "" : "CAP_BPF", !caps.bpf && !caps.perfmon ? " and " : "",
	       caps.perfmon ? "" : "CAP_PERFMON");
	return AM_EXIT_FAIL;
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
	struct am_execsnoop_opts so = { 0 };
	struct out_ctx o = { 0 };
	struct am_execsnoop *s = NULL;
	struct args a = { 0 };
	char btf[4096];
	uint64_t cgid;
	struct am_cli_loop cl;
	int rc, err;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? AM_EXIT_OK : rc;
	if (a.verbose)
		am_log_init(AM_LOG_DEBUG);
	if (a.cgroup && (err = am_cgroup_id_of(a.cgroup, &cgid)))
		return bad_usage(err == -EINVAL ? "--cgroup: '%s' is not a cgroup v2 directory"
						: "--cgroup: '%s' cannot be read",
				 a.cgroup);
	if (am_btf_resolve(a.btf, btf, sizeof(btf)))
		return a.btf ? AM_EXIT_USAGE : AM_EXIT_FAIL;
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
	so.cgroup = a.cgroup;
	so.max_args = a.max_args;
	so.max_args_size = a.max_args_size;
	so.resolve_cgroups = a.json; /* the table has no cgroup column */
	err = am_execsnoop_open(&so, &s);
	if (err) {
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
