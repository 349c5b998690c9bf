#include "util/signals.h"

#include <errno.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "util/log.h"

int am_signals_open(struct am_signals *s, const int *signos, size_t n)
{
	int err;
	size_t i;

	s->fd = -1;
	sigemptyset(&s->set);
	for (i = 0; i < n; i++)
		sigaddset(&s->set, signos[i]);
	if (sigprocmask(SIG_BLOCK, &s->set, &s->old_mask)) {
		err = -errno;
		am_err("sigprocmask: %s", strerror(errno));
		return err;
	}
	s->fd = signalfd(-1, &s->set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->fd < 0) {
		err = -errno;
		am_err("signalfd: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
		return err;
	}
	/* Blocked first: a signal arriving now waits in the fd instead of acting. */
	for (i = 0; i < n; i++)
		signal(signos[i], SIG_DFL);
	return 0;
}

int am_signals_next(struct am_signals *s)
{
	struct signalfd_siginfo si;

	if (s->fd < 0 || read(s->fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

void am_signals_close(struct am_signals *s)
{
	if (s->fd < 0)
		return;
	while (am_signals_next(s))
		;
	close(s->fd);
	s->fd = -1;
	sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
}
