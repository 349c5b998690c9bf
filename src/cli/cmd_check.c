/* PLACEHOLDER while the check subcommand is being written: replace this whole file. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_check(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "antimetal-agent: 'check' is not built yet\n");
	return AM_EXIT_FAIL;
}
