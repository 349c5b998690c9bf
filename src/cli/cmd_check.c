/* antimetal-agent check: what this kernel and this process can do for BPF and CO-RE, and what
 * each collector will therefore do. Exit 0 when CO-RE programs can run here, 1 when not. */
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/check_report.h"
#include "export/check_render.h"
#include "util/log.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: antimetal-agent check [--json] [--btf FILE] [-v]\n"
		"\n"
		"Probe the kernel's BPF and CO-RE capabilities (program and map types, helpers,\n"
		"perf links, kprobes, fentry, PMU, BTF, privileges) and say what each collector\n"
		"will do on this host.\n"
		"\n"
		"  --json        one JSON object instead of the table\n"
		"  --btf FILE    use this BTF file instead of searching (as ANTIMETAL_BTF_PATH does)\n"
		"  -v, --verbose details of every probe, and libbpf's own messages\n"
		"  -h, --help    this text\n"
		"\n"
		"Exit status: 0 CO-RE programs can run, 1 they cannot (reason printed),\n"
		"2 bad usage or a bad --btf file.\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "btf", required_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		/* hidden: read /sys, /proc and BTF files under DIR (tests, offline inspection) */
		{ "root", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_check_opts o = { .mount_tracefs = true };
	struct am_check_report *r;
	struct am_strbuf out = { 0 };
	bool json = false, verbose = false;
	int c, err, ret;

	optind = 0; /* re-initialise getopt: main may have used it */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'b': o.btf_path = optarg; break;
		case 'v': verbose = true; break;
		case 'r': o.root = optarg; break;
		case 'h': usage(stdout); return AM_EXIT_OK;
		case ':':
			fprintf(stderr, "antimetal-agent check: option '%s' needs an argument\n",
				argv[optind - 1]);
			usage(stderr);
			return AM_EXIT_USAGE;
		default:
			fprintf(stderr, "antimetal-agent check: unknown option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return AM_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "antimetal-agent check: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return AM_EXIT_USAGE;
	}
	if (o.btf_path && !*o.btf_path) {
		fprintf(stderr, "antimetal-agent check: --btf needs a file name\n");
		return AM_EXIT_USAGE;
	}
	if (verbose)
		am_log_init(AM_LOG_DEBUG);

	/* the report holds a few KiB of probe text: keep it off the stack */
	r = calloc(1, sizeof(*r));
	if (!r) {
		am_err("out of memory");
		return AM_EXIT_FAIL;
	}
	err = am_check_build(&o, r);
	if (err) {
		fprintf(stderr, "antimetal-agent check: bad BTF file %s (see above)\n",
			o.btf_path ? o.btf_path : getenv("ANTIMETAL_BTF_PATH"));
		free(r);
		return AM_EXIT_USAGE;
	}
	if (json)
		am_check_render_json(r, &out);
	else
		am_check_render_text(r, verbose, &out);
	fwrite(out.data, 1, out.len, stdout);
	fflush(stdout);
	ret = r->can_run ? AM_EXIT_OK : AM_EXIT_FAIL;
	if (!r->can_run && json)
		fprintf(stderr, "antimetal-agent check: %s\n", r->verdict);
	am_strbuf_free(&out);
	free(r);
	return ret;
}
