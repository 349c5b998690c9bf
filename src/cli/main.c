/* antimetal-agent: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_opts.h"
#include "cli/commands.h"
#include "util/log.h"

#ifndef AM_VERSION
#define AM_VERSION "0.1.0"
#endif

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
    {"run", cmd_run, "the daemon: every enabled collector, Prometheus and JSON export"},
    {"execsnoop", cmd_execsnoop, "trace every exec on the host (table or --json lines)"},
    {"profile", cmd_profile, "sample CPU stacks; folded, pprof or SVG output"},
    {"check", cmd_check, "report the kernel's BPF/CO-RE capabilities"},
    {"collect", cmd_collect, "print one snapshot of a system collector"},
};

static void list_commands(FILE *out)
{
	size_t i;

	fprintf(out, "\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out,
		"\n'antimetal-agent COMMAND --help' describes a command's options.\n"
		"ANTIMETAL_BPF_PATH=DIR loads DIR/<name>.bpf.o instead of the embedded objects.\n");
}

static const struct am_opt no_options[] = {{0}};

static const struct am_cmd top = {
    .synopsis = "COMMAND [OPTIONS]",
    .opts = no_options,
    .more = list_commands,
};

int main(int argc, char **argv)
{
	size_t i;

	am_log_init(AM_LOG_INFO);
	if (argc < 2)
		return am_cli_usage_error(&top, "name a command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		am_cli_help(&top, stdout);
		return AM_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("antimetal-agent %s\n", AM_VERSION);
		return AM_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	return am_cli_usage_error(&top, "unknown command '%s'", argv[1]);
}
