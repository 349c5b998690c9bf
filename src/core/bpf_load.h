/* Opening embedded BPF skeletons: ANTIMETAL_BPF_PATH overrides the embedded object, and an
 * external BTF file (kernels without native BTF, or --btf) is passed as btf_custom_path. */
#ifndef ANTIMETAL_CORE_BPF_LOAD_H
#define ANTIMETAL_CORE_BPF_LOAD_H

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>

/* What must outlive the bpf_object until it is destroyed. */
struct am_bpf_open_state {
	void *obj_buf; /* object read from ANTIMETAL_BPF_PATH; libbpf keeps pointing into it */
	char path[4096];
};

/* Open skeleton S of object NAME ("execsnoop" -> execsnoop.bpf.o). BTF_PATH NULL means native
 * BTF. Logs the reason on failure and returns a negative errno. */
int am_skel_open(struct bpf_object_skeleton *s, const char *name, const char *btf_path,
		 struct am_bpf_open_state *st);
/* Free what am_skel_open kept; call after the skeleton is destroyed. */
void am_bpf_open_state_release(struct am_bpf_open_state *st);

/* Log why loading WHAT ("the profiler's BPF program") failed with ERR, once: RLIMIT_MEMLOCK
 * where the kernel charges it (before 5.11) and it could not be raised, a missing capability,
 * or else the verifier, whose messages libbpf logs at debug level. */
void am_bpf_report_load_error(const char *what, int err);

/* Allocate, create and open skeleton TYPE (bpftool's "name TYPE") for object NAME.
 * Evaluates to the skeleton, or to NULL with errno set to the reason (logged when the open
 * failed), as libbpf's own TYPE__open does: callers return -errno. */
#define AM_SKEL_OPEN(type, name, btf_path, st)                                                     \
	({                                                                                         \
		struct type *am__o = calloc(1, sizeof(*am__o));                                    \
		int am__err = am__o ? type##__create_skeleton(am__o) : -ENOMEM;                    \
		if (!am__err)                                                                      \
			am__err = am_skel_open(am__o->skeleton, name, btf_path, st);               \
		if (am__err) {                                                                     \
			type##__destroy(am__o);                                                    \
			am__o = NULL;                                                              \
			errno = -am__err;                                                          \
		}                                                                                  \
		am__o;                                                                             \
	})

#endif
