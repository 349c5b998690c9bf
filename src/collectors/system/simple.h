/* The state most small collectors need: their roots and one read buffer. */
#ifndef ANTIMETAL_COLLECTORS_SIMPLE_H
#define ANTIMETAL_COLLECTORS_SIMPLE_H

#include "collectors/parse/kept_file.h"
#include "collectors/parse/procfs_read.h"
#include "collectors/system/collector.h"
#include "util/strbuf.h"

struct am_simple_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_kept_paths kept; /* files read every cycle, kept open */
	bool warned;
};

/* am_collector.init for collectors whose state is a struct am_simple_state. */
int am_simple_init(void **state, const struct am_collect_roots *roots);
/* am_collector.destroy for those. */
void am_simple_destroy(void *state);

#endif
