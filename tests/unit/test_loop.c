/* The daemon's event loop: fd sources, periodic timers, removal from inside a callback (the
 * reload path does it) and the bounded-wait hook libmicrohttpd needs. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <unistd.h>

#include "agent/loop.h"

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
