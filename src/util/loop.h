/* The one event loop every command runs on (epoll): the daemon, execsnoop and profile. Fds
 * with callbacks, timers (a timerfd each: periodic or one-shot, nanosecond resolution), and
 * one hook for a library that needs a bounded wait (libmicrohttpd's connection timeouts).
 * Signals come in as one more fd (util/signals.h). Nothing spins: with no event and no hook
 * deadline, epoll_wait blocks indefinitely. */
#ifndef ANTIMETAL_UTIL_LOOP_H
#define ANTIMETAL_UTIL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/* Called when a source's fd is ready (EVENTS: EPOLLIN...). For timers, EXPIRATIONS > 0 and
 * the timerfd has already been read. */
typedef void (*am_loop_fn)(void *ctx, uint32_t events, uint64_t expirations);

struct am_loop_source;

struct am_loop {
	int epfd;
	bool stopping;
	struct am_loop_source *live;	/* every source added and not removed */
	struct am_loop_source *dead;	/* removed during a dispatch; freed after it */
	int (*hook_timeout)(void *ctx); /* ms until hook_run must be called; -1 none */
	void (*hook_run)(void *ctx);
	void *hook_ctx;
};

/* Create the epoll instance. Returns 0 or -errno (logged). */
int am_loop_init(struct am_loop *l);
/* Watch FD for input; the loop does not own FD. Returns the source or NULL (logged). */
struct am_loop_source *am_loop_add(struct am_loop *l, int fd, am_loop_fn fn, void *ctx);
/* A periodic timer owned by the loop: first after FIRST_MS (0 = at once), then every
 * INTERVAL_MS. Returns the source or NULL (logged). */
struct am_loop_source *am_loop_add_timer(struct am_loop *l, uint64_t first_ms, uint64_t interval_ms,
					 am_loop_fn fn, void *ctx);
/* A timer owned by the loop, in nanoseconds: first after FIRST_NS (0 = at once), then every
 * INTERVAL_NS, or only once with INTERVAL_NS 0. Returns the source or NULL (logged). */
struct am_loop_source *am_loop_add_timer_ns(struct am_loop *l, uint64_t first_ns,
					    uint64_t interval_ns, am_loop_fn fn, void *ctx);
/* Re-arm timer SRC as am_loop_add_timer_ns would; FIRST_NS 0 disarms it (it stays added).
 * Returns 0 or -errno (logged). */
int am_loop_timer_set(struct am_loop_source *src, uint64_t first_ns, uint64_t interval_ns);
/* A one-shot timer that stops the loop after NS nanoseconds (a command's duration); NS must
 * be positive. Returns the source or NULL (logged). */
struct am_loop_source *am_loop_stop_after(struct am_loop *l, uint64_t ns);
/* Stop watching SRC (closing its timerfd); safe from inside any callback. NULL is ignored. */
void am_loop_remove(struct am_loop *l, struct am_loop_source *src);
/* Install (or, with NULL functions, clear) the bounded-wait hook. */
void am_loop_set_hook(struct am_loop *l, int (*timeout)(void *ctx), void (*run)(void *ctx),
		      void *ctx);
/* Dispatch events until am_loop_stop(). Returns 0 or -errno from epoll_wait (logged). */
int am_loop_run(struct am_loop *l);
/* Make am_loop_run return after the current dispatch. */
void am_loop_stop(struct am_loop *l);
/* Remove every source and close the epoll fd. */
void am_loop_close(struct am_loop *l);

/* Nanoseconds in S seconds for a timer: rounded up, so a positive duration never becomes 0
 * (which means "no timer" / "at once" to the callers); 0 for S <= 0. */
uint64_t am_loop_ns_from_s(double s);

#endif
