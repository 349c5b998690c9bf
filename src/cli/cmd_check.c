/* antimetal-agent check: what this kernel and this process can do for BPF and CO-RE, and what
 * each collector will therefore do. Exit 0 when CO-RE programs can run here, 1 when not. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_opts.h"
#include "cli/commands.h"
#include "core/check_report.h"
#include "export/check_render.h"
#include "util/log.h"

enum { O_JSON = AM_OPT_LONG, O_BTF, O_ROOT };

static const struct am_opt options[] = {
    {.name = "json", .key = O_JSON, .help = "one JSON object instead of the table"},
    {.name = "btf",
     .key = O_BTF,
     .type = AM_OPT_STRING,
     .arg = "FILE",
     .help = "use this BTF file instead of searching (as ANTIMETAL_BTF_PATH does)"},
    {.name = "verbose", .key = 'v', .help = "details of every probe, and libbpf's own messages"},
    /* read /sys, /proc and BTF files under DIR (tests, offline inspection) */
    {.name = "root",
     .key = O_ROOT,
     .type = AM_OPT_STRING,
     .arg = "DIR",
     .flags = AM_OPT_HIDDEN,
     .help = ""},
    {0},
};

static const struct am_cmd cmd = {
    .name = "check",
    .synopsis = "[--json] [--btf FILE] [-v]",
    .about = "Probe the kernel's BPF and CO-RE capabilities (program and map types, helpers,\n"
	     "perf links, kprobes, fentry, PMU, BTF, privileges) and say what each collector\n"
	     "will do on this host.",
    .opts = options,
    .footer = "Exit status: 0 CO-RE programs can run, 1 they cannot (reason printed),\n"
	      "2 bad usage or a bad --btf file.",
};

struct args {
	struct am_check_opts o;
	bool json, verbose;
};

static int set_option(void *ctx, const struct am_opt *opt, const struct am_opt_value *v)
{
	struct args *a = ctx;

	switch (opt->key) {
	case O_JSON:
		a->json = true;
		break;
	case O_BTF:
		if (!*v->str)
			return am_cli_usage_error(&cmd, "--btf needs a file name");
		a->o.btf_path = v->str;
		break;
	case 'v':
		a->verbose = true;
		break;
	case O_ROOT:
		a->o.root = v->str;
		break;
	}
	return 0;
}

static int report(const struct args *a, const struct am_check_report *r)
{
	struct am_check_record rec;
	struct am_strbuf out = {0};

	am_check_record_fill(r, &rec);
	if (a->json)
		am_check_render_json(&rec, &out);
	else
		am_check_render_text(&rec, a->verbose, &out);
	fwrite(out.data, 1, out.len, stdout);
	fflush(stdout);
	am_strbuf_free(&out);
	if (r->can_run)
		return AM_EXIT_OK;
	if (a->json)
		fprintf(stderr, "antimetal-agent check: %s\n", r->verdict);
	if (!a->verbose)
		fprintf(stderr, "antimetal-agent check: run with -v for every probe's details and "
				"libbpf's messages\n");
	return AM_EXIT_FAIL;
}

int cmd_check(int argc, char **argv)
{
	struct args a = {.o = {.mount_tracefs = true}};
	struct am_check_report *r;
	int first, rc;

	rc = am_cli_parse(&cmd, argc, argv, set_option, &a, &first);
	if (rc)
		return rc == AM_CLI_HELP ? AM_EXIT_OK : rc;
	if (a.verbose)
		am_log_init(AM_LOG_DEBUG);

	/* the report holds a few KiB of probe text: keep it off the stack */
	r = calloc(1, sizeof(*r));
	if (!r) {
		am_err("out of memory");
		return AM_EXIT_FAIL;
	}
	if (am_check_build(&a.o, r)) {
		/* only a named BTF file fails the build, and its message says why */
		fprintf(stderr, "antimetal-agent check: bad BTF file %s (see above)\n",
			a.o.btf_path ? a.o.btf_path : getenv("ANTIMETAL_BTF_PATH"));
		free(r);
		return AM_EXIT_USAGE;
	}
	rc = report(&a, r);
	free(r);
	return rc;
}
