/* time: the system clock, its time zone and clock sources. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collectors/parse/parse_util.h"
#include "collectors/system/simple.h"
#include "util/clock.h"
#include "util/log.h"

static const struct am_metric_desc time_seconds = {
    .name = "antimetal_time_seconds",
    .prom = "node_time_seconds",
    .help = "System time in seconds since epoch (1970).",
    .unit = "s",
    .type = AM_METRIC_GAUGE,
};
static const struct am_metric_desc zone_offset = {
    .name = "antimetal_time_zone_offset_seconds",
    .prom = "node_time_zone_offset_seconds",
    .help = "System time zone offset in seconds.",
    .unit = "s",
    .type = AM_METRIC_GAUGE,
    .labels = {"time_zone"},
};
static const struct am_metric_desc clocksource[2] = {
    {.name = "antimetal_time_clocksource_available_info",
     .prom = "node_time_clocksource_available_info",
     .help = "Available clocksources read from '/sys/devices/system/clocksource'.",
     .type = AM_METRIC_INFO,
     .labels = {"clocksource", "device"}},
    {.name = "antimetal_time_clocksource_current_info",
     .prom = "node_time_clocksource_current_info",
     .help = "Current clocksource read from '/sys/devices/system/clocksource'.",
     .type = AM_METRIC_INFO,
     .labels = {"clocksource", "device"}},
};

static void clocksources(struct am_simple_state *st, struct am_metric_set *out)
{
	static const char *const files[2] = {"available_clocksource", "current_clocksource"};
	char rel[96], dev[16], line[512];
	int d, i;

	for (d = 0; d < 64; d++) {
		for (i = 0; i < 2; i++) {
			const char *p = line;
			char tok[64];

			snprintf(rel, sizeof(rel), "devices/system/clocksource/clocksource%d/%s", d,
				 files[i]);
			if (am_procfs_read_line(st->roots.sysfs, rel, line, sizeof(line)))
				return;
			snprintf(dev, sizeof(dev), "%d", d);
			while (am_next_token(&p, tok, sizeof(tok)))
				am_metric_add(out, &clocksource[i], 1, "clocksource", tok, "device",
					      dev, NULL);
		}
	}
}

static int time_collect(void *state, struct am_metric_set *out)
{
	uint64_t now = am_clock_ns(CLOCK_REALTIME);
	time_t secs = (time_t)(now / 1000000000ull);
	struct tm tm;

	am_metric_add(out, &time_seconds, (double)now / 1e9, NULL);
	if (localtime_r(&secs, &tm))
		am_metric_add(out, &zone_offset, (double)tm.tm_gmtoff, "time_zone",
			      tm.tm_zone ? tm.tm_zone : "", NULL);
	clocksources(state, out);
	return 0;
}

const struct am_collector am_collector_time = {
    .name = "time",
    .init = am_simple_init,
    .collect = time_collect,
    .destroy = am_simple_destroy,
    .node = {"time"},
};
