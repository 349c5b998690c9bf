#include "cli/cli_loop.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static void on_signal(void *ctx, uint32_t events, uint64_t expirations)
{
	struct am_cli_loop *c = ctx;
	int signo;

	(void)events;
	(void)expirations;
	while ((signo = am_signals_next(&c->sig)) != 0) {
		c->stop_signal = signo;
		am_loop_stop(&c->loop);
	}
}

int am_cli_loop_open(struct am_cli_loop *c)
{
	static const int stop[] = {SIGINT, SIGTERM};
	int err;

	memset(c, 0, sizeof(*c));
	c->sig.fd = -1;
	err = am_loop_init(&c->loop);
	if (err)
		return err;
	err = am_signals_open(&c->sig, stop, sizeof(stop) / sizeof(stop[0]));
	if (!err && !am_loop_add(&c->loop, c->sig.fd, on_signal, c))
		err = -ENOMEM;
	if (err)
		am_cli_loop_close(c);
	return err;
}

int am_cli_loop_run(struct am_cli_loop *c, double duration_s)
{
	uint64_t ns = am_loop_ns_from_s(duration_s);

	if (ns && !am_loop_stop_after(&c->loop, ns))
		return -ENOMEM;
	return am_loop_run(&c->loop);
}

void am_cli_loop_close(struct am_cli_loop *c)
{
	am_loop_close(&c->loop);
	am_signals_close(&c->sig);
}
