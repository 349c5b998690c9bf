/* PLACEHOLDER while the profile subcommand is being written: replace this whole file. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_profile(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "antimetal-agent: 'profile' is not built yet\n");
	return AM_EXIT_FAIL;
}
