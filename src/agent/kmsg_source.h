/* The kernel log as a stream in the daemon: /dev/kmsg followed from its end (records written
 * before the agent started are the kmsg collector's business, not re-sent at each restart),
 * each record handed to OTLP logs; records the kernel overwrote before they were read are
 * counted. */
#ifndef ANTIMETAL_AGENT_KMSG_SOURCE_H
#define ANTIMETAL_AGENT_KMSG_SOURCE_H

#include "agent/otlp_logs_source.h"
#include "collectors/system/kmsg_follow.h"
#include "records/metric.h"
#include "util/loop.h"

struct am_kmsg_source {
	struct am_kmsg_follow *follow; /* NULL when not running */
	struct am_loop_source *src;
	struct am_loop *loop;
	struct am_otlp_logs_source *logs;
	char devfs[1024]; /* what it was opened under ("" = /dev) */
	int start_error;
};

/* Follow DEVFS/kmsg ("" or NULL: /dev) in LOOP, records to LOGS. Returns 0 or -errno (logged;
 * the daemon goes on without it). */
int am_kmsg_source_start(struct am_kmsg_source *x, struct am_loop *loop, const char *devfs,
			 struct am_otlp_logs_source *logs);
/* antimetal_kmsg_stream_{records,lost_records,overwritten,malformed_records}_total. */
void am_kmsg_source_metrics(struct am_kmsg_source *x, struct am_metric_set *set);
/* Read what is waiting, then close. Safe when not running. */
void am_kmsg_source_stop(struct am_kmsg_source *x);

#endif
