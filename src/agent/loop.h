/* The daemon's one event loop (epoll): fds with callbacks, periodic timers (a timerfd each),
 * and one hook for a library that needs a bounded wait (libmicrohttpd's connection timeouts).
 * Nothing spins: with no event and no hook deadline, epoll_wait blocks indefinitely. */
#ifndef ANTIMETAL_AGENT_LOOP_H
#define ANTIMETAL_AGENT_LOOP_H

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

#endif
