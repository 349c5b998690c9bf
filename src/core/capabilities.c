#include "core/capabilities.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

int am_cap_effective(unsigned int cap)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0}};

	if (cap >= 32 * _LINUX_CAPABILITY_U32S_3)
		return -EINVAL;
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	return !!(data[cap / 32].effective & (1u << (cap % 32)));
}

int am_caps_get(struct am_caps *c)
{
	int b = am_cap_effective(CAP_BPF), p = am_cap_effective(CAP_PERFMON),
	    a = am_cap_effective(CAP_SYS_ADMIN);

	if (b < 0)
		return b;
	if (p < 0)
		return p;
	if (a < 0)
		return a;
	c->bpf = b;
	c->perfmon = p;
	c->sys_admin = a;
	return 0;
}

const char *am_caps_missing_for_tracing(void)
{
	struct am_caps c;

	if (am_caps_get(&c) || c.sys_admin || (c.bpf && c.perfmon))
		return NULL;
	if (!c.bpf && !c.perfmon)
		return "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)";
	return c.bpf ? "CAP_PERFMON (or CAP_SYS_ADMIN)" : "CAP_BPF (or CAP_SYS_ADMIN)";
}

const char *am_kmsg_refusal_hint(int err, int syslog_held)
{
	if (err != -EPERM && err != -EACCES)
		return "";
	if (syslog_held == 0)
		return " (needs CAP_SYSLOG)";
	if (syslog_held < 0)
		return " (needs CAP_SYSLOG, and a device cgroup that allows reading char device "
		       "1:11)";
	/* The capability is there, so the refusal is the device cgroup's: container runtimes
	 * allow /dev/kmsg only to privileged containers. */
	return " (CAP_SYSLOG is held: the device cgroup refuses /dev/kmsg, as container runtimes "
	       "do for containers that are not privileged; a privileged container or a device "
	       "rule allowing read of char 1:11 would open it)";
}

const char *am_kmsg_refusal_hint_self(int err)
{
	if (err != -EPERM && err != -EACCES)
		return "";
	return am_kmsg_refusal_hint(err, am_cap_effective(CAP_SYSLOG));
}
