/* filefd: /proc/sys/fs/file-nr, system-wide file handles. */
#include <errno.h>

#include "collectors/parse/kept_file.h"
#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/log.h"

static const struct am_metric_desc filefd[2] = {
    {.name = "antimetal_filefd_allocated",
     .prom = "node_filefd_allocated",
     .otel = "system.linux.file_descriptor.usage",
     .help = "File descriptor statistics: allocated.",
     .unit = "{file_descriptor}",
     .type = AM_METRIC_GAUGE},
    {.name = "antimetal_filefd_maximum",
     .prom = "node_filefd_maximum",
     .otel = "system.linux.file_descriptor.limit",
     .help = "File descriptor statistics: maximum.",
     .unit = "{file_descriptor}",
     .type = AM_METRIC_GAUGE},
};

static int filefd_collect(void *state, struct am_metric_set *out)
{
	struct am_simple_state *st = state;
	const char *why = "";
	uint64_t allocated, maximum;
	int err;

	err = am_kept_paths_read_logged(&st->kept, st->roots.procfs, "sys/fs/file-nr", &st->buf,
					"filefd", &st->warned);
	if (err)
		return err;
	err = am_parse_file_nr(st->buf.data, &allocated, &maximum, &why);
	if (err) {
		am_warn("filefd: %s/sys/fs/file-nr: %s", st->roots.procfs, why);
		return err;
	}
	am_metric_add(out, &filefd[0], (double)allocated, NULL);
	am_metric_add(out, &filefd[1], (double)maximum, NULL);
	return 0;
}

const struct am_collector am_collector_filefd = {
    .name = "filefd",
    .init = am_simple_init,
    .collect = filefd_collect,
    .destroy = am_simple_destroy,
    .node = {"filefd"},
};
