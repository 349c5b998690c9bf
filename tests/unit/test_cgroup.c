/* cgroup: every cgroup metric with its exact value on the v1, v2 and hybrid fixture trees; the
 * default selection (containers, pods, units, root), the `all` option, the cap and its counter;
 * garbled files counted, not exported. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

#define D1	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D2	  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define V1_DOCKER "/docker/" D1
#define V2_POD                                                                                     \
	"/kubepods.slice/kubepods-burstable.slice/"                                                \
	"kubepods-burstable-pod1f2e3d4c_5b6a_4798_8a7b_6c5d4e3f2a1b.slice"
#define V2_CTR V2_POD "/cri-containerd-" D2 ".scope"
#define NGINX  "/system.slice/nginx.service"

/* One cycle over fixture TREE with the cgroup options ALL and MAX. */
static void collect_tree(const char *tree, bool all, unsigned max, struct am_metric_set *s)
{
	char proc[512], sys[512];
	struct am_collect_roots roots = {.cgroup_all = all, .cgroup_max = max};
	void *state = NULL;

	snprintf(proc, sizeof(proc), "%s/%s/proc", FIXTURES, tree);
	snprintf(sys, sizeof(sys), "%s/%s/sys", FIXTURES, tree);
	roots.procfs = proc;
	roots.sysfs = sys;
	cr_assert_eq(am_collector_cgroup.init(&state, &roots), 0);
	cr_assert_eq(am_collector_cgroup.collect(state, s), 0);
	am_collector_cgroup.destroy(state);
}

static bool exported(const struct am_metric_set *s, const char *cgroup)
{
	size_t i;
	int j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->items[i].nlabels; j++)
			if (!strcmp(s->items[i].labels[j].name, "cgroup") &&
			    !strcmp(s->items[i].labels[j].value, cgroup))
				return true;
	return false;
}

Test(cgroup, v1_container_every_metric_exact)
{
	struct am_metric_set s = {0};
	const char *c = V1_DOCKER;

	collect_tree("cgroup-v1", false, 0, &s);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_usage_seconds_total", "cgroup", c,
			   "container_id", D1, "runtime", "docker", "pod_uid", "", "qos", ""),
		     98.765432);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_user_seconds_total", "cgroup", c), 60);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_system_seconds_total", "cgroup", c),
		     38.765432);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_periods_total", "cgroup", c), 1000);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_throttled_periods_total", "cgroup", c), 250);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_throttled_seconds_total", "cgroup", c),
		     12.345678);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_quota_cores", "cgroup", c), 0.5);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_period_seconds", "cgroup", c), 0.1);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_shares", "cgroup", c), 512);
	cr_assert_null(find_metric(&s, "antimetal_cgroup_cpu_weight", "cgroup", c, NULL));
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_current_bytes", "cgroup", c), 30932992);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_limit_bytes", "cgroup", c), 33554432);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_peak_bytes", "cgroup", c), 33554432);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_failcnt_total", "cgroup", c), 41);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_swap_bytes", "cgroup", c),
		     31981568 - 30932992);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "anon"),
		     25000000);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "file"),
		     4096000);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "shmem"),
		     8192);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "file_dirty"),
	    12288);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "file_writeback"),
	    4096);
	cr_assert_null(find_metric(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type",
				   "kernel_stack", NULL));
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_major_page_faults_total", "cgroup", c), 7);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_memory_events_total", "cgroup", c, "event", "oom_kill"), 2);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_under_oom", "cgroup", c), 0);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pids", "cgroup", c), 7);
	cr_assert_null(find_metric(&s, "antimetal_cgroup_pids_limit", "cgroup", c, NULL),
		       "pids.max is max: no series");
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pids_events_total", "cgroup", c, "event", "max"),
		     3);
	cr_assert_null(find_metric(&s, "antimetal_cgroup_pids_events_total", "cgroup", c, "event",
				   "max.imposed", NULL));
	cr_assert_null(find_metric(&s, "antimetal_cgroup_memory_low_bytes", "cgroup", c, NULL));
	cr_assert_null(find_metric(&s, "antimetal_cgroup_memory_min_bytes", "cgroup", c, NULL));
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_io_read_bytes_total", "cgroup", c, "device", "8:0"), 4096);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_io_written_bytes_total", "cgroup", c, "device", "253:0"),
	    8192);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_io_reads_total", "cgroup", c, "device", "8:0"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_io_writes_total", "cgroup", c, "device", "8:0"),
		     2);
	/* No PSI on v1. */
	cr_assert_eq(count_metric(&s, "antimetal_cgroup_pressure_waiting_seconds_total"), 0);
	/* The root: usage, and the page-rounded LONG_MAX limit is no limit. */
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_current_bytes", "cgroup", "/"), 1073741824);
	cr_assert_null(find_metric(&s, "antimetal_cgroup_memory_limit_bytes", "cgroup", "/", NULL));
	am_metric_set_free(&s);
}

Test(cgroup, v1_default_selection_and_all)
{
	struct am_metric_set s = {0};

	collect_tree("cgroup-v1", false, 0, &s);
	cr_assert(exported(&s, "/"));
	cr_assert(exported(&s, V1_DOCKER));
	cr_assert(exported(&s, "/old.slice"), "a unit that only the cpu hierarchy has");
	cr_assert_not(exported(&s, "/garbled"), "a plain directory is not selected by default");
	/* /, /docker/ID and /old.slice (/docker is a plain directory). */
	cr_assert_eq(VALUE(&s, "antimetal_cgroups_exported"), 3);
	cr_assert_eq(VALUE(&s, "antimetal_cgroups_dropped_total"), 0);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_files_garbled_total"), 0);
	am_metric_set_free(&s);

	memset(&s, 0, sizeof(s));
	collect_tree("cgroup-v1", true, 0, &s);
	cr_assert(exported(&s, "/garbled"));
	/* And /docker, /empty, /garbled (directories without files export nothing). */
	cr_assert_eq(VALUE(&s, "antimetal_cgroups_exported"), 6);
	/* garbled: usage "12 34", memory.stat "cache" with no number, oom_control without its
	 * under_oom line, pids.events "max three": four files counted, the limit still
	 * exported. */
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_limit_bytes", "cgroup", "/garbled"), 4096);
	cr_assert_null(
	    find_metric(&s, "antimetal_cgroup_memory_current_bytes", "cgroup", "/garbled", NULL));
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_files_garbled_total"), 4);
	cr_assert_null(
	    find_metric(&s, "antimetal_cgroup_pids_events_total", "cgroup", "/garbled", NULL));
	am_metric_set_free(&s);
}

Test(cgroup, cap_exports_the_first_in_path_order_and_counts_the_rest)
{
	struct am_metric_set s = {0};

	collect_tree("cgroup-v1", true, 2, &s);
	cr_assert_eq(VALUE(&s, "antimetal_cgroups_exported"), 2);
	cr_assert_eq(VALUE(&s, "antimetal_cgroups_dropped_total"), 4);
	/* "/" and "/docker" come first; /docker has no files of its own. */
	cr_assert(exported(&s, "/"));
	cr_assert_not(exported(&s, V1_DOCKER));
	am_metric_set_free(&s);
}

Test(cgroup, v2_pod_container_every_metric_exact)
{
	struct am_metric_set s = {0};
	const char *c = V2_CTR;

	collect_tree("cgroup-v2", false, 0, &s);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_usage_seconds_total", "cgroup", c,
			   "container_id", D2, "runtime", "containerd", "pod_uid",
			   "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b", "qos", "burstable"),
		     5);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_user_seconds_total", "cgroup", c), 3);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_system_seconds_total", "cgroup", c), 2);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_throttled_periods_total", "cgroup", c), 100);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_throttled_seconds_total", "cgroup", c), 2.5);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_quota_cores", "cgroup", c), 0.2);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_weight", "cgroup", c), 39);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_current_bytes", "cgroup", c), 104857600);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_limit_bytes", "cgroup", c), 268435456);
	cr_assert_null(find_metric(&s, "antimetal_cgroup_memory_high_bytes", "cgroup", c, NULL));
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_peak_bytes", "cgroup", c), 201326592);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_swap_bytes", "cgroup", c), 0);
	cr_assert_null(
	    find_metric(&s, "antimetal_cgroup_memory_swap_limit_bytes", "cgroup", c, NULL));
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "kernel"),
		     4000000);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "slab"),
		     3000000);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "kernel_stack"),
	    65536);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "sock"),
		     8192);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "file_dirty"),
	    24576);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "file_writeback"),
	    16384);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_major_page_faults_total", "cgroup", c), 12);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_events_total", "cgroup", c, "event", "max"),
		     17);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_memory_events_total", "cgroup", c, "event", "oom_kill"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_events_total", "cgroup", c, "event",
			   "oom_group_kill"),
		     1);
	cr_assert_eq(count_metric(&s, "antimetal_cgroup_memory_events_total"), 6);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_low_bytes", "cgroup", c), 16777216);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_min_bytes", "cgroup", c), 8388608);
	/* The pod: memory.low "max" gives no series, memory.min 0 does. */
	cr_assert_null(
	    find_metric(&s, "antimetal_cgroup_memory_low_bytes", "cgroup", V2_POD, NULL));
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_min_bytes", "cgroup", V2_POD), 0);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pids_events_total", "cgroup", c, "event", "max"),
		     5);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_pids_events_total", "cgroup", c, "event", "max.imposed"),
	    7);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_pids_events_total", "cgroup", V2_POD, "event", "max"), 0);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pids", "cgroup", c), 12);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pids_limit", "cgroup", c), 4096);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_io_written_bytes_total", "cgroup", c, "device", "8:0"),
	    2097152);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_io_writes_total", "cgroup", c, "device", "8:0"),
		     32);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pressure_waiting_seconds_total", "cgroup", c,
			   "resource", "cpu"),
		     0.123456);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pressure_stalled_seconds_total", "cgroup", c,
			   "resource", "memory"),
		     0.000005);
	/* The root's io.stat, iocost's cost.vrate=100.00 among its keys, is not garbled. */
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_io_read_bytes_total", "cgroup", "/", "device", "8:0"),
	    1048576);
	cr_assert_eq(
	    VALUE(&s, "antimetal_cgroup_io_writes_total", "cgroup", "/", "device", "253:0"), 2);
	/* /, kubepods.slice, the burstable level, the pod, the container, empty.slice,
	 * garbled.slice. */
	cr_assert_eq(VALUE(&s, "antimetal_cgroups_exported"), 7);
	/* garbled.slice: memory.current is fine, cpu.max, io.stat, memory.events, memory.min and
	 * pids.events are not. */
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_current_bytes", "cgroup", "/garbled.slice"),
		     4096);
	cr_assert_null(
	    find_metric(&s, "antimetal_cgroup_cpu_quota_cores", "cgroup", "/garbled.slice", NULL));
	cr_assert_null(
	    find_metric(&s, "antimetal_cgroup_memory_min_bytes", "cgroup", "/garbled.slice", NULL));
	cr_assert_null(find_metric(&s, "antimetal_cgroup_pids_events_total", "cgroup",
				   "/garbled.slice", NULL));
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_files_garbled_total"), 5);
	am_metric_set_free(&s);
}

Test(cgroup, hybrid_v1_controllers_and_v2_pressure)
{
	struct am_metric_set s = {0};
	const char *c = NGINX;

	collect_tree("cgroup-hybrid", false, 0, &s);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_usage_seconds_total", "cgroup", c,
			   "container_id", "", "runtime", ""),
		     2.000123); /* the unified hierarchy's cpu.stat */
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_user_seconds_total", "cgroup", c), 1.5001);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_periods_total", "cgroup", c), 10);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_period_seconds", "cgroup", c), 0.1);
	cr_assert_null(find_metric(&s, "antimetal_cgroup_cpu_quota_cores", "cgroup", c, NULL),
		       "quota -1: no series");
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_shares", "cgroup", c), 1024);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_current_bytes", "cgroup", c), 52428800);
	cr_assert_null(find_metric(&s, "antimetal_cgroup_memory_limit_bytes", "cgroup", c, NULL));
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_peak_bytes", "cgroup", c), 60000000);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_memory_stat_bytes", "cgroup", c, "type", "anon"),
		     40000000);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pids", "cgroup", c), 3);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pids_limit", "cgroup", c), 4915);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pids_events_total", "cgroup", c, "event", "max"),
		     2);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pressure_waiting_seconds_total", "cgroup", c,
			   "resource", "cpu"),
		     0.000042);
	/* memory.pressure is garbage: counted, not exported. */
	cr_assert_null(find_metric(&s, "antimetal_cgroup_pressure_waiting_seconds_total", "cgroup",
				   c, "resource", "memory", NULL));
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_files_garbled_total"), 1);
	am_metric_set_free(&s);
}

Test(cgroup, v2_only_tree_with_docker_and_containerd)
{
	struct am_metric_set s = {0};
	const char *docker = "/system.slice/docker-" D1 ".scope";

	cr_assert_eq(collect_once(&am_collector_cgroup, FIXTURES "/cgroup/proc",
				  FIXTURES "/cgroup/sys", NULL, &s),
		     0);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_usage_seconds_total", "cgroup", "/"), 5);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_cpu_usage_seconds_total", "cgroup", docker,
			   "container_id", D1, "runtime", "docker"),
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
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pressure_waiting_seconds_total", "cgroup", docker,
			   "resource", "cpu"),
		     2);
	cr_assert_eq(VALUE(&s, "antimetal_cgroup_pressure_stalled_seconds_total", "cgroup", "/",
			   "resource", "io"),
		     0.25);
	/* user.slice's files are garbage: nothing from it but the count. */
	cr_assert_null(find_metric(&s, "antimetal_cgroup_cpu_usage_seconds_total", "cgroup",
				   "/user.slice", NULL));
	cr_assert_null(find_metric(&s, "antimetal_cgroup_memory_current_bytes", "cgroup",
				   "/user.slice", NULL));
	cr_assert_geq(VALUE(&s, "antimetal_cgroup_files_garbled_total"), 2);
	am_metric_set_free(&s);
}

Test(cgroup, no_cgroup_mount_disables_quietly)
{
	struct am_metric_set s = {0};

	cr_assert_eq(collect_once(&am_collector_cgroup, FIXTURES "/proc/processes", NULL, NULL, &s),
		     0);
	cr_assert_eq(s.n, 0);
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
}

Test(cgroup, flat_keyed)
{
	uint64_t v;

	cr_assert_eq(am_parse_flat_keyed("usage_usec 5\nuser_usec 7\n", "user_usec", &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(am_parse_flat_keyed("usage_usec 5\n", "usage", &v), -ENOENT);
	cr_assert_eq(am_parse_flat_keyed("usage_usec x\n", "usage_usec", &v), -EINVAL);
}
