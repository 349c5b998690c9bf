/* The event loop every command runs on: fd sources, periodic and one-shot timers (the CLI's
 * duration), removal from inside a callback (the reload path does it) and the bounded-wait
 * hook libmicrohttpd needs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "util/loop.h"

struct pipe_src {
	struct am_loop *loop;
	int fds[2];
	int calls;
	struct am_loop_source *self, *victim; /* removed by this source's callback */
	int stop_after;
};

static void on_pipe(void *ctx, uint32_t events, uint64_t expirations)
{
	struct pipe_src *p = ctx;
	char c;

	cr_assert(events & 1 /* EPOLLIN */);
	cr_assert_eq(expirations, 0u, "fd sources have no expirations");
	cr_assert_eq(read(p->fds[0], &c, 1), 1);
	p->calls++;
	if (p->victim) {
		am_loop_remove(p->loop, p->victim);
		p->victim = NULL;
	}
	if (p->stop_after && p->calls >= p->stop_after)
		am_loop_stop(p->loop);
}

Test(loop, removing_a_ready_source_from_a_callback_skips_it)
{
	struct am_loop loop;
	struct pipe_src a = {0}, b = {0};

	cr_assert_eq(am_loop_init(&loop), 0);
	cr_assert_eq(pipe(a.fds), 0);
	cr_assert_eq(pipe(b.fds), 0);
	a.loop = b.loop = &loop;
	a.self = am_loop_add(&loop, a.fds[0], on_pipe, &a);
	b.self = am_loop_add(&loop, b.fds[0], on_pipe, &b);
	cr_assert(a.self && b.self);
	/* Both ready in the same epoll batch; whichever runs first removes the other. */
	a.victim = b.self;
	b.victim = a.self;
	a.stop_after = b.stop_after = 1;
	cr_assert_eq(write(a.fds[1], "x", 1), 1);
	cr_assert_eq(write(b.fds[1], "x", 1), 1);
	cr_assert_eq(am_loop_run(&loop), 0);
	cr_assert_eq(a.calls + b.calls, 1, "a removed source was still dispatched");
	am_loop_close(&loop);
	close(a.fds[0]);
	close(a.fds[1]);
	close(b.fds[0]);
	close(b.fds[1]);
}

struct tick {
	struct am_loop *loop;
	uint64_t expirations;
	int calls;
};

static void on_tick(void *ctx, uint32_t events, uint64_t expirations)
{
	struct tick *t = ctx;

	(void)events;
	cr_assert_gt(expirations, 0u);
	t->expirations += expirations;
	if (++t->calls == 3)
		am_loop_stop(t->loop);
}

Test(loop, periodic_timer_fires_and_reports_expirations)
{
	struct am_loop loop;
	struct tick t = {&loop, 0, 0};
	struct am_loop_source *s;

	cr_assert_eq(am_loop_init(&loop), 0);
	/* First at once, then every 20 ms. */
	s = am_loop_add_timer(&loop, 0, 20, on_tick, &t);
	cr_assert_not_null(s);
	cr_assert_eq(am_loop_run(&loop), 0);
	cr_assert_eq(t.calls, 3);
	cr_assert_geq(t.expirations, 3u);
	am_loop_remove(&loop, s);
	am_loop_remove(&loop, NULL);
	am_loop_close(&loop);
}

struct hook {
	int timeouts, runs;
	struct am_loop *loop;
};

static int hook_timeout(void *ctx)
{
	struct hook *h = ctx;

	h->timeouts++;
	return 5;
}

static void hook_run(void *ctx)
{
	struct hook *h = ctx;

	if (++h->runs == 4)
		am_loop_stop(h->loop);
}

Test(loop, hook_deadline_bounds_the_wait_and_runs_the_hook)
{
	struct am_loop loop;
	struct hook h = {0, 0, &loop};

	cr_assert_eq(am_loop_init(&loop), 0);
	/* No source at all: only the hook's 5 ms deadline can wake the loop. */
	am_loop_set_hook(&loop, hook_timeout, hook_run, &h);
	cr_assert_eq(am_loop_run(&loop), 0);
	cr_assert_eq(h.runs, 4);
	cr_assert_eq(h.timeouts, 4);
	am_loop_close(&loop);
}

Test(loop, close_releases_sources_still_registered)
{
	struct am_loop loop;
	struct tick t = {&loop, 0, 0};
	int fds[2];

	cr_assert_eq(am_loop_init(&loop), 0);
	cr_assert_eq(pipe(fds), 0);
	cr_assert_not_null(am_loop_add_timer(&loop, 1000, 1000, on_tick, &t));
	cr_assert_not_null(am_loop_add(&loop, fds[0], on_tick, &t));
	/* ASan's leak check fails this test if close forgets a source. */
	am_loop_close(&loop);
	close(fds[0]);
	close(fds[1]);
}

Test(loop, seconds_to_timer_ns_never_round_a_positive_duration_to_zero)
{
	cr_assert_eq(am_loop_ns_from_s(0), 0u);
	cr_assert_eq(am_loop_ns_from_s(-1), 0u);
	cr_assert_eq(am_loop_ns_from_s(0.0005), 500000u);
	cr_assert_eq(am_loop_ns_from_s(1e-12), 1u, "a positive duration became 0 (forever)");
	cr_assert_eq(am_loop_ns_from_s(1.5), 1500000000u);
	cr_assert_gt(am_loop_ns_from_s(1e12), 1000000000u * 1000000000ull / 2);
}

/* The CLI's -d: a sub-millisecond deadline stops a loop that has nothing else to wake it. */
Test(loop, stop_after_a_submillisecond_deadline_ends_the_run)
{
	struct am_loop loop;
	struct timespec t0, t1;

	cr_assert_eq(am_loop_init(&loop), 0);
	cr_assert_not_null(am_loop_stop_after(&loop, am_loop_ns_from_s(0.0005)));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(am_loop_run(&loop), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_geq((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec), 400000,
		      "stopped before the deadline");
	am_loop_close(&loop);
}

struct oneshot {
	struct am_loop *loop;
	struct am_loop_source *timer;
	int calls;
};

/* Fires twice: re-arms itself once, then stops the loop from a later tick. */
static void on_oneshot(void *ctx, uint32_t events, uint64_t expirations)
{
	struct oneshot *o = ctx;

	(void)events;
	cr_assert_eq(expirations, 1u, "a one-shot timer expired more than once");
	if (++o->calls == 1)
		cr_assert_eq(am_loop_timer_set(o->timer, 1000000, 0), 0);
	else
		am_loop_stop(o->loop);
}

Test(loop, one_shot_timer_fires_once_until_rearmed)
{
	struct am_loop loop;
	struct oneshot o = {&loop, NULL, 0};
	struct tick t = {&loop, 0, 0};

	cr_assert_eq(am_loop_init(&loop), 0);
	o.timer = am_loop_add_timer_ns(&loop, 100000, 0, on_oneshot, &o);
	cr_assert_not_null(o.timer);
	cr_assert_eq(am_loop_run(&loop), 0);
	cr_assert_eq(o.calls, 2);
	/* Disarmed, it stays quiet: only the 20 ms ticker wakes the loop, 3 times. */
	cr_assert_eq(am_loop_timer_set(o.timer, 5000000, 0), 0);
	cr_assert_eq(am_loop_timer_set(o.timer, 0, 0), 0);
	cr_assert_not_null(am_loop_add_timer(&loop, 20, 20, on_tick, &t));
	cr_assert_eq(am_loop_run(&loop), 0);
	cr_assert_eq(t.calls, 3);
	cr_assert_eq(o.calls, 2, "a disarmed timer fired");
	am_loop_close(&loop);
}

Test(loop, only_timers_can_be_rearmed)
{
	struct am_loop loop;
	struct tick t = {&loop, 0, 0};
	struct am_loop_source *s;
	int fds[2];

	cr_assert_eq(am_loop_init(&loop), 0);
	cr_assert_eq(pipe(fds), 0);
	s = am_loop_add(&loop, fds[0], on_tick, &t);
	cr_assert_not_null(s);
	cr_assert_eq(am_loop_timer_set(s, 1000, 0), -EINVAL);
	am_loop_close(&loop);
	close(fds[0]);
	close(fds[1]);
}
