/* cgroup: cgroup2 found through mountinfo (hybrid mount), per-cgroup CPU/memory/pressure on a
 * fixture tree, container ids from the path. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"


#define D1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

Test(cgroup, captured_mountinfo_finds_the_hybrid_mount)
{
	char *t = fixture("proc/real/self/mountinfo");
	char mnt[256];

	cr_assert_eq(am_parse_mountinfo_cgroup2(t, mnt, sizeof(mnt), NULL), 0);
	cr_assert_str_eq(mnt, "/sys/fs/cgroup/unified");
	free(t);
}

Test(cgroup, mountinfo_cases)
{
	char mnt[256];
	const char *why = NULL;

	cr_assert_eq(am_parse_mountinfo_cgroup2("1 0 0:1 / / rw - ext4 /dev/vda rw\n", mnt,
						sizeof(mnt), NULL),
		     -ENOENT);
	cr_assert_eq(
	    am_parse_mountinfo_cgroup2("5 1 0:9 / /my\\040cg rw shared:1 - cgroup2 none rw\n", mnt,
				       sizeof(mnt), NULL),
	    0);
	cr_assert_str_eq(mnt, "/my cg");
	cr_assert_eq(am_parse_mountinfo_cgroup2("garbage\n", mnt, sizeof(mnt), &why), -EINVAL);
	cr_assert_not_null(why);
	cr_assert_eq(am_parse_mountinfo_cgroup2("1 2 0:1 / /x rw\n3 4 0:2 / /y - cgroup2 c rw\n",
						mnt, sizeof(mnt), NULL),
		     -EINVAL);
}

Test(cgroup, fixture_tree_exact)
{
	struct am_metric_set s = {0};
	const char *docker = "/system.slice/docker-" D1 ".scope";
	const char *pod = "/kubepods.slice/kubepods-burstable.slice/"
			  "kubepods-burstable-pod1234.slice/cri-containerd-" D2 ".scope";

	cr_assert_eq(collect_once(&am_collector_cgroup, FIXTURES "/cgroup/proc",
				  FIXTURES "/cgroup/sys", NULL, &s),
		     0);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_usage_seconds_total", "cgroup", "/"), 5);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_usage_seconds_total", "cgroup", docker,
			   "container_id", D1),
		     1.234567);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_throttled_periods_total", "cgroup", docker),
		     2);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_throttled_seconds_total", "cgroup", docker),
		     0.005);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_current_bytes", "cgroup", docker),
		     104857600);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", docker, "type", "anon"),
	    52428800);
	cr_assert_eq(count_metric(&s, "antimetal_cgroup_memory_stat_bytes"), 10);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pressure_waiting_seconds_total", "cgroup", docker,
			   "resource", "cpu"),
		     2);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pressure_stalled_seconds_total", "cgroup", "/",
			   "resource", "io"),
		     0.25);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_usage_seconds_total", "cgroup", pod,
			   "container_id", D2),
		     0.000042);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_current_bytes", "cgroup", pod), 8192);
	/* user.slice's files are garbage: nothing from it, and no error for the others. */
	cr_assert_null(find_metric(&s, "antimetal_cgroup_cpu_usage_seconds_total", "cgroup",
				   "/user.slice", NULL));
	cr_assert_null(find_metric(&s, "antimetal_cgroup_memory_current_bytes", "cgroup",
				   "/user.slice", NULL));
	am_metric_set_free(&s);
}

Test(cgroup, no_cgroup2_mount_disables_quietly)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_cgroup, FIXTURES "/proc/processes", NULL, NULL, &s),
		     0);
	cr_assert_eq(s.n, 0);
}

Test(cgroup, flat_keyed)
{
	uint64_t v;

	cr_assert_eq(am_parse_flat_keyed("usage_usec 5\nuser_usec 7\n", "user_usec", &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(am_parse_flat_keyed("usage_usec 5\n", "usage", &v), -ENOENT);
	cr_assert_eq(am_parse_flat_keyed("usage_usec x\n", "usage_usec", &v), -EINVAL);
}
