/* The event loop of a CLI command (execsnoop, profile): util/loop with SIGINT and SIGTERM
 * through a signalfd, and the -d duration as a one-shot timer. Either ends am_cli_loop_run;
 * the command adds its own sources (records, stats, progress) to LOOP. */
#ifndef ANTIMETAL_CLI_CLI_LOOP_H
#define ANTIMETAL_CLI_CLI_LOOP_H

#include "util/loop.h"
#include "util/signals.h"

struct am_cli_loop {
	struct am_loop loop;
	struct am_signals sig;
	int stop_signal; /* the signal that ended the run, 0 if none did */
};

/* Create the loop and take SIGINT/SIGTERM (before the collector loads, so a Ctrl-C during the
 * load ends the run at once instead of killing the process). Returns 0 or -errno (logged). */
int am_cli_loop_open(struct am_cli_loop *c);
/* Run until a signal, am_loop_stop, or DURATION_S seconds from now (0: no limit; any positive
 * duration, however short, is a limit). Returns 0 or -errno (logged). */
int am_cli_loop_run(struct am_cli_loop *c, double duration_s);
/* Close the loop and give the signals back (pending ones are consumed). */
void am_cli_loop_close(struct am_cli_loop *c);

#endif
