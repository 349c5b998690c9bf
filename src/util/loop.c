#include "util/loop.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util/log.h"

struct am_loop_source {
	int fd;
	bool timer; /* the loop owns fd (a timerfd) */
	bool dead;
	am_loop_fn fn;
	void *ctx;
	struct am_loop_source *prev, *next; /* the loop's live list */
	struct am_loop_source *next_dead;
};

int am_loop_init(struct am_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = -errno;

		am_err("epoll_create1: %s", strerror(errno));
		return err;
	}
	return 0;
}

static struct am_loop_source *add(struct am_loop *l, int fd, bool timer, am_loop_fn fn, void *ctx)
{
	struct am_loop_source *s = calloc(1, sizeof(*s));
	struct epoll_event ev = {.events = EPOLLIN};

	if (!s) {
		am_err("event loop: out of memory");
		return NULL;
	}
	*s = (struct am_loop_source){.fd = fd, .timer = timer, .fn = fn, .ctx = ctx};
	ev.data.ptr = s;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		am_err("epoll_ctl(ADD, fd %d): %s", fd, strerror(errno));
		free(s);
		return NULL;
	}
	s->next = l->live;
	if (l->live)
		l->live->prev = s;
	l->live = s;
	return s;
}

struct am_loop_source *am_loop_add(struct am_loop *l, int fd, am_loop_fn fn, void *ctx)
{
	return add(l, fd, false, fn, ctx);
}

static int timer_set(int fd, uint64_t first_ns, uint64_t interval_ns)
{
	struct itimerspec its = {0};

	its.it_value.tv_sec = (time_t)(first_ns / 1000000000u);
	its.it_value.tv_nsec = (long)(first_ns % 1000000000u);
	its.it_interval.tv_sec = (time_t)(interval_ns / 1000000000u);
	its.it_interval.tv_nsec = (long)(interval_ns % 1000000000u);
	if (timerfd_settime(fd, 0, &its, NULL)) {
		int err = -errno;

		am_err("timerfd_settime: %s", strerror(errno));
		return err;
	}
	return 0;
}

struct am_loop_source *am_loop_add_timer_ns(struct am_loop *l, uint64_t first_ns,
					    uint64_t interval_ns, am_loop_fn fn, void *ctx)
{
	struct am_loop_source *s;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0) {
		am_err("timerfd_create: %s", strerror(errno));
		return NULL;
	}
	/* it_value 0 would disarm the timer: "at once" is the smallest nonzero delay. */
	if (timer_set(fd, first_ns ? first_ns : 1, interval_ns)) {
		close(fd);
		return NULL;
	}
	s = add(l, fd, true, fn, ctx);
	if (!s)
		close(fd);
	return s;
}

struct am_loop_source *am_loop_add_timer(struct am_loop *l, uint64_t first_ms, uint64_t interval_ms,
					 am_loop_fn fn, void *ctx)
{
	return am_loop_add_timer_ns(l, first_ms * 1000000u, interval_ms * 1000000u, fn, ctx);
}

int am_loop_timer_set(struct am_loop_source *s, uint64_t first_ns, uint64_t interval_ns)
{
	if (!s->timer)
		return -EINVAL;
	return timer_set(s->fd, first_ns, interval_ns);
}

static void on_deadline(void *ctx, uint32_t events, uint64_t expirations)
{
	(void)events;
	(void)expirations;
	am_loop_stop(ctx);
}

struct am_loop_source *am_loop_stop_after(struct am_loop *l, uint64_t ns)
{
	return am_loop_add_timer_ns(l, ns, 0, on_deadline, l);
}

uint64_t am_loop_ns_from_s(double s)
{
	double ns = s * 1e9;

	if (!(s > 0))
		return 0;
	if (ns >= 18e18) /* beyond uint64_t: about 570 years, "never" for a timer */
		return UINT64_MAX / 2;
	return ns < 1 ? 1 : (uint64_t)ceil(ns);
}

void am_loop_remove(struct am_loop *l, struct am_loop_source *s)
{
	if (!s || s->dead)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->timer)
		close(s->fd);
	s->dead = true;
	if (s->prev)
		s->prev->next = s->next;
	else
		l->live = s->next;
	if (s->next)
		s->next->prev = s->prev;
	/* An event for S may still sit in the current epoll batch: free it after the batch. */
	s->next_dead = l->dead;
	l->dead = s;
}

void am_loop_set_hook(struct am_loop *l, int (*timeout)(void *ctx), void (*run)(void *ctx),
		      void *ctx)
{
	l->hook_timeout = timeout;
	l->hook_run = run;
	l->hook_ctx = ctx;
}

static void reap(struct am_loop *l)
{
	while (l->dead) {
		struct am_loop_source *s = l->dead;

		l->dead = s->next_dead;
		free(s);
	}
}

int am_loop_run(struct am_loop *l)
{
	struct epoll_event evs[16];

	l->stopping = false;
	while (!l->stopping) {
		int timeout = l->hook_timeout ? l->hook_timeout(l->hook_ctx) : -1;
		int n = epoll_wait(l->epfd, evs, 16, timeout), i;

		if (n < 0) {
			int err = -errno;

			if (errno == EINTR)
				continue;
			am_err("epoll_wait: %s", strerror(errno));
			return err;
		}
		for (i = 0; i < n; i++) {
			struct am_loop_source *s = evs[i].data.ptr;
			uint64_t exp = 0;

			if (s->dead)
				continue;
			if (s->timer) {
				if (read(s->fd, &exp, sizeof(exp)) != sizeof(exp) || !exp)
					continue;
			}
			s->fn(s->ctx, evs[i].events, exp);
		}
		/* The hook's deadline passed (or it has work pending): it must run now. */
		if (timeout >= 0 && l->hook_run)
			l->hook_run(l->hook_ctx);
		reap(l);
	}
	return 0;
}

void am_loop_stop(struct am_loop *l)
{
	l->stopping = true;
}

void am_loop_close(struct am_loop *l)
{
	while (l->live)
		am_loop_remove(l, l->live);
	reap(l);
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}
