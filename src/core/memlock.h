/* RLIMIT_MEMLOCK and BPF: kernels before 5.11 charge BPF maps and programs against the locked
 * memory limit (later ones account them to the memory cgroup instead). libbpf 1.x raises the
 * limit to unlimited by itself on such kernels, at its first bpf() call; where it cannot (a
 * hard limit set lower and no CAP_SYS_RESOURCE), map creation fails with a bare EPERM. This
 * finds out which case a process is in, for `check` and for the error of a failed load. */
#ifndef ANTIMETAL_CORE_MEMLOCK_H
#define ANTIMETAL_CORE_MEMLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>

struct am_memlock {
	bool charged;	      /* BPF memory counts against RLIMIT_MEMLOCK (kernel before 5.11) */
	bool by_version;      /* charged was inferred from the kernel version: the probe failed */
	int probe_err;	      /* why the probe failed (-errno), when by_version */
	struct rlimit before; /* the limit when am_memlock_get was called */
	struct rlimit now;    /* after libbpf's raise, if it made one */
	int raise_err;	      /* charged and still limited: -errno of raising it to unlimited */
};

/* Fill M. The probe is a bpf() call, so libbpf raises the limit inside it when it does at all:
 * called before any other libbpf call of the process, M shows that raise (check does this). */
void am_memlock_get(struct am_memlock *m);

/* One line for reports ("charged (kernel before 5.11): raised from 64 KiB to unlimited by
 * libbpf"). Returns BUF. */
const char *am_memlock_describe(const struct am_memlock *m, char *buf, size_t len);

/* Whether M is a limit that BPF maps may hit: charged, finite and not raisable. */
bool am_memlock_limiting(const struct am_memlock *m);

/* ERR is the -errno of loading BPF object WHAT. When it is -EPERM and RLIMIT_MEMLOCK is the
 * cause (charged, and could not be raised), log that, naming the limit and the way out, and
 * return true; otherwise log nothing and return false (the caller reports ERR). */
bool am_memlock_explain(const char *what, int err);

#endif
