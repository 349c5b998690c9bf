/* timex: the kernel's NTP discipline state (adjtimex(2) read-only), as node_exporter's timex. */
#include <errno.h>
#include <string.h>
#include <sys/timex.h>

#include "collectors/system/simple.h"
#include "util/log.h"

enum {
	T_OFFSET,
	T_FREQ,
	T_MAXERROR,
	T_ESTERROR,
	T_STATUS,
	T_CONSTANT,
	T_TICK,
	T_PPSFREQ,
	T_JITTER,
	T_SHIFT,
	T_STABIL,
	T_JITCNT,
	T_CALCNT,
	T_ERRCNT,
	T_STBCNT,
	T_TAI,
	T_SYNC,
	T_N
};

#define G(n, h, u)                                                                                 \
	{                                                                                          \
		.prom = "node_timex_" n, .help = h, .unit = u, .type = AM_METRIC_GAUGE             \
	}
#define C(n, h)                                                                                    \
	{                                                                                          \
		.prom = "node_timex_" n, .help = h, .type = AM_METRIC_COUNTER                      \
	}
static const struct am_metric_desc timex[T_N] = {
    [T_OFFSET] =
	G("offset_seconds", "Time offset in between local system and reference clock.", "s"),
    [T_FREQ] = G("frequency_adjustment_ratio", "Local clock frequency adjustment.", "1"),
    [T_MAXERROR] = G("maxerror_seconds", "Maximum error in seconds.", "s"),
    [T_ESTERROR] = G("estimated_error_seconds", "Estimated error in seconds.", "s"),
    [T_STATUS] = G("status", "Value of the status array bits.", NULL),
    [T_CONSTANT] = G("loop_time_constant", "Phase-locked loop time constant.", NULL),
    [T_TICK] = G("tick_seconds", "Seconds between clock ticks.", "s"),
    [T_PPSFREQ] = G("pps_frequency_hertz", "Pulse per second frequency.", "Hz"),
    [T_JITTER] = G("pps_jitter_seconds", "Pulse per second jitter.", "s"),
    [T_SHIFT] = G("pps_shift_seconds", "Pulse per second interval duration.", "s"),
    [T_STABIL] = G("pps_stability_hertz",
		   "Pulse per second stability, average of recent frequency changes.", "Hz"),
    [T_JITCNT] = C("pps_jitter_total", "Pulse per second count of jitter limit exceeded events."),
    [T_CALCNT] = C("pps_calibration_total", "Pulse per second count of calibration intervals."),
    [T_ERRCNT] = C("pps_error_total", "Pulse per second count of calibration errors."),
    [T_STBCNT] = C("pps_stability_exceeded_total",
		   "Pulse per second count of stability limit exceeded events."),
    [T_TAI] = G("tai_offset_seconds", "International Atomic Time (TAI) offset.", "s"),
    [T_SYNC] =
	G("sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no).", NULL),
};
#undef G
#undef C

/* freq, ppsfreq and stabil are parts per million with a 16-bit binary fraction. */
#define PPM16 65536000000.0

static int timex_collect(void *state, struct am_metric_set *out)
{
	struct timex t;
	double v[T_N], div;
	int rc, i;

	(void)state;
	memset(&t, 0, sizeof(t)); /* modes 0: read only */
	rc = adjtimex(&t);
	if (rc < 0) {
		rc = -errno;
		am_warn("timex: adjtimex(): %s", strerror(-rc));
		return rc;
	}
	div = (t.status & STA_NANO) ? 1e9 : 1e6;
	v[T_OFFSET] = (double)t.offset / div;
	v[T_FREQ] = 1 + (double)t.freq / PPM16;
	v[T_MAXERROR] = (double)t.maxerror / 1e6;
	v[T_ESTERROR] = (double)t.esterror / 1e6;
	v[T_STATUS] = t.status;
	v[T_CONSTANT] = (double)t.constant;
	v[T_TICK] = (double)t.tick / 1e6;
	v[T_PPSFREQ] = (double)t.ppsfreq / PPM16;
	v[T_JITTER] = (double)t.jitter / div;
	v[T_SHIFT] = t.shift;
	v[T_STABIL] = (double)t.stabil / PPM16;
	v[T_JITCNT] = (double)t.jitcnt;
	v[T_CALCNT] = (double)t.calcnt;
	v[T_ERRCNT] = (double)t.errcnt;
	v[T_STBCNT] = (double)t.stbcnt;
	v[T_TAI] = t.tai;
	v[T_SYNC] = rc != TIME_ERROR;
	for (i = 0; i < T_N; i++)
		am_metric_add(out, &timex[i], v[i], NULL);
	return 0;
}

const struct am_collector am_collector_timex = {
    .name = "timex",
    .init = am_simple_init,
    .collect = timex_collect,
    .destroy = am_simple_destroy,
    .node = {"timex"},
};
