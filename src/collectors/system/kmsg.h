/* The kmsg collector's recent records, for the daemon's event stream. The state is the one
 * am_collector_kmsg.init returned; records are appended by its collect, so call this from the
 * thread that runs the collector. */
#ifndef ANTIMETAL_COLLECTORS_KMSG_H
#define ANTIMETAL_COLLECTORS_KMSG_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/parse/parsers.h"

/* Records kept for am_kmsg_recent. */
#define AM_KMSG_RECENT 64

/* Copy, oldest first, up to MAX of the kept records whose sequence number is above AFTER_SEQ
 * into OUT; return how many. Pass the last seq seen to get only new records. */
size_t am_kmsg_recent(void *state, uint64_t after_seq, struct am_kmsg_record *out, size_t max);

#endif
