/* perf events for BPF programs: perf_event_open, the event names users know from perf, and the
 * two ways to attach a perf_event program (BPF link on 5.15+, legacy ioctls otherwise). */
#ifndef ANTIMETAL_CORE_PERF_ATTACH_H
#define ANTIMETAL_CORE_PERF_ATTACH_H

#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum am_attach_mode { AM_ATTACH_AUTO, AM_ATTACH_LINK, AM_ATTACH_IOCTL };

/* The largest sample period: perf_event_open refuses one with bit 63 set (EINVAL). */
#define AM_PERF_MAX_PERIOD ((uint64_t)INT64_MAX)

/* A perf event name as perf spells it ("cpu-clock", "cycles", ...). */
struct am_perf_event_desc {
	const char *name;
	uint32_t type; /* PERF_TYPE_SOFTWARE or PERF_TYPE_HARDWARE */
	uint64_t config;
};

/* The event named NAME, or NULL when unknown. */
const struct am_perf_event_desc *am_perf_event_find(const char *name);
/* Comma-separated list of the supported event names, for usage messages. */
const char *am_perf_event_names(void);
/* Whether the event counts in hardware (needs a PMU). */
bool am_perf_event_is_hw(const struct am_perf_event_desc *d);

/* perf_event_open(2). Returns the fd, or -errno. */
int am_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
		       unsigned long flags);

/* Parse "auto", "link" or "ioctl". Returns 0 or -EINVAL. */
int am_attach_mode_parse(const char *s, enum am_attach_mode *out);
/* "auto", "link" or "ioctl". */
const char *am_attach_mode_name(enum am_attach_mode mode);

/* Whether this kernel attaches BPF programs to perf events through BPF links (5.15+), probed
 * with the loaded program PROG_FD. */
bool am_perf_link_supported(int prog_fd);
/* AUTO resolved against this kernel: LINK when links work, IOCTL otherwise. A forced LINK on a
 * kernel without link support is an error: -EOPNOTSUPP (logged). */
int am_attach_mode_resolve(enum am_attach_mode want, int prog_fd, enum am_attach_mode *out);

/* One perf event with the program attached. */
struct am_perf_attachment {
	int pfd;	       /* owned: closed by am_perf_detach */
	struct bpf_link *link; /* LINK mode */
	bool ioctl_attached;   /* IOCTL mode */
};

/* Attach PROG to the (disabled) perf event PFD with MODE (LINK or IOCTL) and enable it. Takes
 * ownership of PFD on success and on failure. Returns 0 or -errno (not logged: the caller
 * knows which CPU and event). */
int am_perf_attach(const struct bpf_program *prog, int pfd, enum am_attach_mode mode,
		   struct am_perf_attachment *out);
/* Disable, detach and close; safe on a zeroed or already detached attachment with pfd -1. */
void am_perf_detach(struct am_perf_attachment *a);

#endif
