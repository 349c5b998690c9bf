/* One kernel log (/dev/kmsg) record as the kmsg follower delivers it and exporters render it.
 * It points into the follower's buffer: valid only during the callback; copy what you keep. */
#ifndef ANTIMETAL_RECORDS_KMSG_EVENT_H
#define ANTIMETAL_RECORDS_KMSG_EVENT_H

#include <stddef.h>
#include <stdint.h>

struct am_kmsg_event {
	uint64_t seq;	     /* the kernel's sequence number */
	uint64_t ts_boot_us; /* the kernel's timestamp: microseconds of local_clock since boot */
	uint64_t ts_real_ns; /* ts_boot_us as wall-clock time (CLOCK_REALTIME) */
	int severity;	     /* syslog level: 0 emerg .. 7 debug */
	int facility;	     /* syslog facility: 0 kern, 1 user, 3 daemon, ... */
	/* The whole message, the kernel's \xNN escapes undone (so any byte but NUL may occur);
	 * not NUL-terminated. */
	const char *text;
	size_t len;
};

#endif
