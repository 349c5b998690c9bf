#include "profile_run.h"

#include <errno.h>

#include "util/loop.h"

static void on_notices(void *ctx, uint32_t events, uint64_t expirations)
{
	(void)events;
	(void)expirations;
	am_profiler_handle_notices(ctx);
}

int am_test_profile_for(struct am_profiler *p, uint64_t ms)
{
	struct am_loop loop;
	int err = am_loop_init(&loop);

	if (err)
		return err;
	if (!am_loop_add(&loop, am_profiler_notify_fd(p), on_notices, p) ||
	    !am_loop_add_timer(&loop, 1000, 1000, on_notices, p) ||
	    !am_loop_stop_after(&loop, ms * 1000000u))
		err = -ENOMEM;
	else
		err = am_loop_run(&loop);
	am_loop_close(&loop);
	return err;
}
