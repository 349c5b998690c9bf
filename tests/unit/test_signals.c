/* The one signal path: signals taken through a signalfd, even when they were ignored (a shell
 * starts background jobs with SIGINT ignored), and given back on close. */
#include <criterion/criterion.h>
#include <signal.h>
#include <unistd.h>

#include "util/signals.h"

static bool blocked(int signo)
{
	sigset_t cur;

	cr_assert_eq(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
	return sigismember(&cur, signo) == 1;
}

Test(signals, an_ignored_signal_still_reaches_the_fd_in_order)
{
	static const int taken[] = {SIGUSR1, SIGUSR2};
	struct am_signals s;

	signal(SIGUSR1, SIG_IGN);
	cr_assert(!blocked(SIGUSR1));
	cr_assert_eq(am_signals_open(&s, taken, 2), 0);
	cr_assert(blocked(SIGUSR1) && blocked(SIGUSR2));
	cr_assert_eq(am_signals_next(&s), 0, "nothing was sent yet");
	cr_assert_eq(kill(getpid(), SIGUSR2), 0);
	cr_assert_eq(kill(getpid(), SIGUSR1), 0);
	/* Standard signals come out lowest number first. */
	cr_assert_eq(am_signals_next(&s), SIGUSR1);
	cr_assert_eq(am_signals_next(&s), SIGUSR2);
	cr_assert_eq(am_signals_next(&s), 0);
	am_signals_close(&s);
	cr_assert(!blocked(SIGUSR1) && !blocked(SIGUSR2), "the old mask was not restored");
	cr_assert_eq(s.fd, -1);
	am_signals_close(&s); /* a second close is harmless */
}

Test(signals, close_consumes_what_is_pending)
{
	static const int taken[] = {SIGUSR1};
	struct am_signals s;

	cr_assert_eq(am_signals_open(&s, taken, 1), 0);
	cr_assert_eq(kill(getpid(), SIGUSR1), 0);
	/* Left pending, SIGUSR1's default action would end this process on the unblock. */
	am_signals_close(&s);
	cr_assert(!blocked(SIGUSR1));
}
