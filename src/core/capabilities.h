/* The process's effective capabilities that matter for BPF, read with capget(2). */
#ifndef ANTIMETAL_CORE_CAPABILITIES_H
#define ANTIMETAL_CORE_CAPABILITIES_H

#include <linux/capability.h>
#include <stdbool.h>

/* Older uapi headers lack the 5.8 capabilities; their numbers are ABI. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct am_caps {
	bool bpf;	/* CAP_BPF (5.8+): load programs, create maps */
	bool perfmon;	/* CAP_PERFMON (5.8+): tracing programs, perf events */
	bool sys_admin; /* CAP_SYS_ADMIN: everything, and all that older kernels know */
};

/* Read the effective set of this process. Returns 0 or -errno. */
int am_caps_get(struct am_caps *c);

/* The capabilities loading tracing BPF programs needs that this process lacks, in words
 * ("CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)"); NULL when none is missing or the set cannot be
 * read. What a message about -EPERM from the kernel should say first. */
const char *am_caps_missing_for_tracing(void);

/* Whether capability number CAP is in the effective set. Returns 1, 0, or -errno. */
int am_cap_effective(unsigned int cap);

/* What to say after "cannot open /dev/kmsg: <strerror>" when the open failed with ERR, given
 * SYSLOG_HELD (am_cap_effective(CAP_SYSLOG): 1, 0 or -errno): "" unless ERR is -EPERM or
 * -EACCES; " (needs CAP_SYSLOG)" when the capability is missing; when it is held, the device
 * cgroup (a container's, not privileged) is what refused, and the text says what would allow
 * it. */
const char *am_kmsg_refusal_hint(int err, int syslog_held);

/* am_kmsg_refusal_hint for this process (asks capget). */
const char *am_kmsg_refusal_hint_self(int err);

#endif
