#include "core/memlock.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/kversion.h"
#include "util/log.h"

/* libbpf's own test: bpf_ktime_get_coarse_ns came in 5.11 together with memory cgroup
 * accounting of BPF memory, so a kernel that has the helper does not charge RLIMIT_MEMLOCK. */
static int probe_memcg_accounting(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_SOCKET_FILTER, BPF_FUNC_ktime_get_coarse_ns,
				       NULL);
}

void am_memlock_get(struct am_memlock *m)
{
	struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
	struct am_kver kv;
	int ret;

	memset(m, 0, sizeof(*m));
	getrlimit(RLIMIT_MEMLOCK, &m->before);
	ret = probe_memcg_accounting();
	if (ret < 0) {
		/* bpf() refused, or the limit is too low for even the probe: the version decides */
		m->by_version = true;
		m->probe_err = ret;
		m->charged = am_kver_host(&kv) == 0 && !am_kver_at_least(&kv, 5, 11, 0);
	} else {
		m->charged = ret == 0;
	}
	getrlimit(RLIMIT_MEMLOCK, &m->now);
	if (m->charged && m->now.rlim_cur != RLIM_INFINITY) {
		/* What libbpf tried, for its errno (libbpf only warns, and only once). */
		if (setrlimit(RLIMIT_MEMLOCK, &inf))
			m->raise_err = -errno;
		getrlimit(RLIMIT_MEMLOCK, &m->now);
	}
}

static const char *limit_text(rlim_t v, char *buf, size_t len)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, len, "unlimited");
	else if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)v >> 20);
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(buf, len, "%llu KiB", (unsigned long long)v >> 10);
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
	return buf;
}

bool am_memlock_limiting(const struct am_memlock *m)
{
	return m->charged && m->now.rlim_cur != RLIM_INFINITY && m->raise_err;
}

const char *am_memlock_describe(const struct am_memlock *m, char *buf, size_t len)
{
	char a[32], b[32], how[96] = "";
	int n;

	if (m->by_version)
		snprintf(how, sizeof(how), " (by kernel version: the probe failed: %s)",
			 strerror(-m->probe_err));
	if (!m->charged)
		n = snprintf(buf, len,
			     "not charged: BPF memory counts in the memory cgroup (5.11+); "
			     "RLIMIT_MEMLOCK %s left as it is",
			     limit_text(m->now.rlim_cur, a, sizeof(a)));
	else if (m->before.rlim_cur == RLIM_INFINITY)
		n = snprintf(buf, len,
			     "charged (kernel before 5.11): RLIMIT_MEMLOCK unlimited already");
	else if (m->now.rlim_cur == RLIM_INFINITY)
		n = snprintf(buf, len,
			     "charged (kernel before 5.11): RLIMIT_MEMLOCK raised from %s to "
			     "unlimited by libbpf",
			     limit_text(m->before.rlim_cur, a, sizeof(a)));
	else
		n = snprintf(buf, len,
			     "charged (kernel before 5.11): RLIMIT_MEMLOCK %s (hard %s) cannot be "
			     "raised (%s; needs CAP_SYS_RESOURCE): maps beyond it fail with EPERM",
			     limit_text(m->now.rlim_cur, a, sizeof(a)),
			     limit_text(m->now.rlim_max, b, sizeof(b)), strerror(-m->raise_err));
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%s", how);
	return buf;
}

bool am_memlock_explain(const char *what, int err)
{
	struct am_memlock m;
	char a[32], b[32];

	if (err != -EPERM)
		return false;
	am_memlock_get(&m);
	if (!am_memlock_limiting(&m))
		return false;
	am_err("loading %s: the kernel refused BPF memory (EPERM): before 5.11 it charges BPF maps "
	       "to RLIMIT_MEMLOCK, here %s (hard %s), and raising it failed (%s; needs "
	       "CAP_SYS_RESOURCE): raise it for the agent (ulimit -l unlimited, or "
	       "LimitMEMLOCK=infinity in its systemd unit)",
	       what, limit_text(m.now.rlim_cur, a, sizeof(a)),
	       limit_text(m.now.rlim_max, b, sizeof(b)), strerror(-m.raise_err));
	return true;
}
