/* netclass keeps each interface's attribute files open between cycles: in a private network
 * namespace (with its own sysfs), a veth pair's MTU changed between cycles is read anew, and an
 * interface deleted and made again under its name (its kept files now dead) is read afresh:
 * new MTU, new ifindex, equal to what sysfs says; a carrier refused while the link is down is
 * read once it is up. */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "collectors/parse/procfs_read.h"
#include "collectors/system/collector.h"
#include "testutil.h"

static double value(void *state, const char *metric, const char *dev)
{
	struct am_metric_set s = {0};
	double v = -1;
	size_t i;

	cr_assert_eq(am_collector_netclass.collect(state, &s), 0);
	for (i = 0; i < s.n; i++)
		if (!strcmp(am_metric_name(&s.items[i]), metric) && s.items[i].nlabels == 1 &&
		    !strcmp(s.items[i].labels[0].value, dev))
			v = s.items[i].value;
	am_metric_set_free(&s);
	cr_assert_geq(v, 0, "%s{device=\"%s\"} not collected", metric, dev);
	return v;
}

static bool has(void *state, const char *metric, const char *dev)
{
	struct am_metric_set s = {0};
	bool found = false;
	size_t i;

	cr_assert_eq(am_collector_netclass.collect(state, &s), 0);
	for (i = 0; i < s.n; i++)
		if (!strcmp(am_metric_name(&s.items[i]), metric) && s.items[i].nlabels == 1 &&
		    !strcmp(s.items[i].labels[0].value, dev))
			found = true;
	am_metric_set_free(&s);
	return found;
}

static void sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(netclass_kept, changed_and_remade_interfaces_are_read_anew, .timeout = 60)
{
	struct am_collect_roots roots = {.procfs = "/proc", .sysfs = "/sys"};
	void *state = NULL;
	uint64_t ifindex;

	if (geteuid() != 0)
		cr_skip_test("skipped: needs root for a network namespace");
	if (access("/usr/sbin/ip", X_OK) && access("/sbin/ip", X_OK))
		cr_skip_test("skipped: needs ip (iproute2)");
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("sysfs", "/sys", "sysfs", 0, NULL))
		cr_skip_test("skipped: no private network and mount namespace (%m)");
	if (system("ip link add am-k0 type veth peer name am-k1 2>/dev/null"))
		cr_skip_test("skipped: no veth support");
	sh("ip link set am-k0 mtu 1400");
	cr_assert_eq(am_collector_netclass.init(&state, &roots), 0);
	cr_assert_eq(value(state, "node_network_mtu_bytes", "am-k0"), 1400);
	sh("ip link set am-k0 mtu 1300");
	cr_assert_eq(value(state, "node_network_mtu_bytes", "am-k0"), 1300,
		     "a kept attribute must be read anew");
	sh("ip link del am-k0 && ip link add am-k0 type veth peer name am-k1 && "
	   "ip link set am-k0 mtu 1200");
	cr_assert_eq(value(state, "node_network_mtu_bytes", "am-k0"), 1200,
		     "the remade interface must be read afresh");
	cr_assert_eq(am_procfs_read_u64("/sys", "class/net/am-k0/ifindex", &ifindex), 0);
	cr_assert_eq(value(state, "node_network_iface_id", "am-k0"), (double)ifindex);
	/* Down, a veth refuses its carrier (EINVAL): that file is kept all the same, and says 1
	 * once the pair is up. */
	cr_assert(!has(state, "node_network_carrier", "am-k0"), "no carrier while down");
	sh("ip link set am-k1 up && ip link set am-k0 up");
	cr_assert_eq(value(state, "node_network_carrier", "am-k0"), 1);
	am_collector_netclass.destroy(state);
}
