/* The profiler's second job (profiler.c has the first, the BPF life cycle): build the profile
 * record from the kernel side's maps once sampling stopped: read the counts, capture the
 * mappings of every process counted (from /proc, or the side band's records for the ones gone),
 * and symbolize each distinct stack into frames and mappings. Internal to the profiler. */
#ifndef ANTIMETAL_COLLECTORS_PROFILE_BUILD_H
#define ANTIMETAL_COLLECTORS_PROFILE_BUILD_H

#include <stdbool.h>

#include "collectors/ebpf/profile_unwind.h"
#include "collectors/ebpf/sideband.h"
#include "core/cgroup_path.h"
#include "records/profile.h"
#include "symbolize/usym.h"

/* What the builder reads, and the side-band counters it adds to. */
struct am_profile_build_src {
	int counts_fd, stacks_fd;	 /* the BPF maps "counts" and "stacks" */
	bool kernel_stacks, user_stacks; /* as collected: an absent stack is a loss */
	bool demangle;			 /* demangle C++/Rust user symbols */
	bool lines;	    /* user frames' file:line and inlined functions, from DWARF */
	unsigned max_stack; /* frames the program keeps per stack: one that deep was cut */
	struct am_usym *usym;
	struct am_cgroup_paths *cgroups;    /* cgroup ids to paths; NULL: none resolved */
	struct am_sideband *sb;		    /* NULL: mappings from /proc only */
	unsigned *sb_captures;		    /* generations captured from the side band */
	struct am_usym_rec_stats *sb_files; /* their files */
	const struct am_punw *unwound;	    /* samples counted after unwinding, or NULL */
};

/* Fill OUT's stacks, mappings and total from SRC (the rest of OUT is left as it is). Returns 0
 * or -errno (logged); on error OUT's stacks and mappings may be partly filled: the caller
 * releases them with am_profile_free. */
int am_profile_build(const struct am_profile_build_src *src, struct am_profile *out);

#endif
