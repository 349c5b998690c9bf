/* os: the distribution (/etc/os-release, else /usr/lib/os-release), read once: it changes only
 * with an upgrade, which restarts the agent. */
#include <errno.h>
#include <string.h>

#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/file.h"
#include "util/log.h"

static const struct am_metric_desc os_info = {
    .name = "antimetal_os_info",
    .prom = "node_os_info",
    .help = "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, "
	    "image_version, name, pretty_name, variant, variant_id, version, version_codename, "
	    "version_id.",
    .type = AM_METRIC_INFO,
    .labels = {"build_id", "id", "id_like", "image_id", "image_version", "name", "pretty_name",
	       "variant"},
};
static const struct am_metric_desc os_version = {
    .name = "antimetal_os_version",
    .prom = "node_os_version",
    .help = "Metric containing the major.minor part of the OS version.",
    .type = AM_METRIC_GAUGE,
    .labels = {"id", "id_like", "name"},
};

static int os_collect(void *state, struct am_metric_set *out)
{
	static const char *const paths[2] = {"/etc/os-release", "/usr/lib/os-release"};
	struct am_simple_state *st = state;
	struct am_os_release r;
	const char *why = "";
	int i, err = -ENOENT;
	double version;

	for (i = 0; i < 2 && err; i++)
		err = am_file_read(paths[i], 1 << 16, &st->buf);
	if (err) {
		if (!st->warned)
			am_warn("os: cannot read /etc/os-release or /usr/lib/os-release: %s",
				strerror(-err));
		st->warned = 1;
		return err;
	}
	st->warned = 0;
	if (am_parse_os_release(st->buf.data ? st->buf.data : "", &r, &why)) {
		am_warn("os: %s: %s", paths[i - 1], why);
		return -EINVAL;
	}
#define F(i) am_os_release_labels[i], r.field[i]
	am_metric_add(out, &os_info, 1, F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7), F(8), F(9),
		      F(10), F(11), NULL);
#undef F
	version = am_os_release_version(&r);
	if (version >= 0)
		am_metric_add(out, &os_version, version, "id", r.field[AM_OS_ID], "id_like",
			      r.field[AM_OS_ID_LIKE], "name", r.field[AM_OS_NAME], NULL);
	return 0;
}

const struct am_collector am_collector_os = {
    .name = "os",
    .init = am_simple_init,
    .collect = os_collect,
    .destroy = am_simple_destroy,
    .node = {"os"},
};
