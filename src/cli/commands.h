/* Subcommands of antimetal-agent. Each parses its own options and returns the exit status:
 * 0 success, 1 runtime failure (kernel, permission), 2 bad usage or bad input. */
#ifndef ANTIMETAL_CLI_COMMANDS_H
#define ANTIMETAL_CLI_COMMANDS_H

/* Exit statuses shared by every subcommand. */
enum { AM_EXIT_OK = 0, AM_EXIT_FAIL = 1, AM_EXIT_USAGE = 2 };

int cmd_check(int argc, char **argv);
int cmd_execsnoop(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_collect(int argc, char **argv);

#endif
