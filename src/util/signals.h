/* Signals as an fd for the event loop, the one way every command takes them (the daemon:
 * SIGINT, SIGTERM, SIGHUP; execsnoop and profile: SIGINT, SIGTERM). The signals are blocked
 * and read from a signalfd, so a handler never interrupts anything and the loop sees them in
 * order with its other events. */
#ifndef ANTIMETAL_UTIL_SIGNALS_H
#define ANTIMETAL_UTIL_SIGNALS_H

#include <signal.h>
#include <stddef.h>

struct am_signals {
	int fd; /* the signalfd (non-blocking), -1 when closed */
	sigset_t set, old_mask;
};

/* Take the N signals of SIGNOS through S->fd: each gets its default disposition back (a shell
 * starts background jobs with SIGINT ignored, and an ignored signal never reaches a
 * signalfd), then they are blocked. Returns 0 or -errno (logged), with nothing changed. */
int am_signals_open(struct am_signals *s, const int *signos, size_t n);
/* The next pending signal, 0 when none is pending. */
int am_signals_next(struct am_signals *s);
/* Read what is still pending (left pending, a signal would act when the mask is restored),
 * close the fd and restore the mask. Safe on a closed S. */
void am_signals_close(struct am_signals *s);

#endif
