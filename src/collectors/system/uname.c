/* uname: node_uname_info, the labels dashboards pick hosts by. */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "collectors/system/simple.h"
#include "util/log.h"

static const struct am_metric_desc uname_info = {
    .name = "antimetal_uname_info",
    .prom = "node_uname_info",
    .help = "Labeled system information as provided by the uname system call.",
    .type = AM_METRIC_INFO,
    .labels = {"domainname", "machine", "nodename", "release", "sysname", "version"},
};

static int uname_collect(void *state, struct am_metric_set *out)
{
	struct utsname u;

	(void)state;
	if (uname(&u)) {
		int err = -errno;

		am_warn("uname: uname(): %s", strerror(-err));
		return err;
	}
	am_metric_add(out, &uname_info, 1, "domainname", u.domainname, "machine", u.machine,
		      "nodename", u.nodename, "release", u.release, "sysname", u.sysname, "version",
		      u.version, NULL);
	return 0;
}

const struct am_collector am_collector_uname = {
    .name = "uname",
    .init = am_simple_init,
    .collect = uname_collect,
    .destroy = am_simple_destroy,
    .node = {"uname"},
};
