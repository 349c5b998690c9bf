/* cgroup v1, v2 and hybrid fixture trees: the layout found in mountinfo, every controller file
 * read into a sample (exact values), garbled and missing files, and the classification of
 * container, pod, QoS and unit paths. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "collector_testlib.h"
#include "collectors/parse/cgroup_read.h"
#include "collectors/parse/parsers.h"

#define D1  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D2  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b"
#define POD                                                                                        \
	"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f2e3d4c_5b6a_4798_"       \
	"8a7b_6c5d4e3f2a1b.slice"

static struct am_strbuf scratch;

static void layout_of(const char *tree, struct am_cgroup_layout *l)
{
	char rel[256], *t;

	snprintf(rel, sizeof(rel), "%s/proc/self/mountinfo", tree);
	t = fixture(rel);
	cr_assert_eq(am_parse_cgroup_layout(t, l, NULL), 0);
	free(t);
}

static void read_sample(const char *tree, const char *path, struct am_cgroup_sample *s)
{
	struct am_cgroup_layout l;
	char root[512];

	layout_of(tree, &l);
	snprintf(root, sizeof(root), "%s/%s", FIXTURES, tree);
	cr_assert_eq(am_cgroup_read(&l, root, path, 100, &scratch, s), 0, "%s", path);
}

static void fini(void)
{
	am_strbuf_free(&scratch);
}

TestSuite(cgroup_files, .fini = fini);

Test(cgroup_files, layouts_v1_v2_hybrid)
{
	struct am_cgroup_layout l;

	layout_of("cgroup-v1", &l);
	cr_assert_eq(l.mode, AM_CGROUP_V1);
	cr_assert_str_eq(am_cgroup_layout_v1(&l, "cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
	cr_assert_str_eq(am_cgroup_layout_v1(&l, "memory"), "/sys/fs/cgroup/memory");
	cr_assert_null(am_cgroup_layout_v1(&l, "cpuset"));
	cr_assert_str_eq(l.v2_mount, "");
	layout_of("cgroup-v2", &l);
	cr_assert_eq(l.mode, AM_CGROUP_V2);
	cr_assert_str_eq(l.v2_mount, "/sys/fs/cgroup");
	cr_assert_eq(l.nv1, 0);
	layout_of("cgroup-hybrid", &l);
	cr_assert_eq(l.mode, AM_CGROUP_HYBRID);
	cr_assert_str_eq(l.v2_mount, "/sys/fs/cgroup/unified");
	cr_assert_str_eq(am_cgroup_layout_v1(&l, "memory"), "/sys/fs/cgroup/memory");
	cr_assert_str_eq(am_cgroup_layout_v1(&l, "name=systemd"), "/sys/fs/cgroup/systemd");
}

Test(cgroup_files, layout_of_this_machine_and_garbled_mountinfo)
{
	struct am_cgroup_layout l;
	const char *why = NULL;
	char *t = fixture("proc/real/self/mountinfo");

	cr_assert_eq(am_parse_cgroup_layout(t, &l, NULL), 0);
	cr_assert_neq(l.mode, AM_CGROUP_NONE);
	free(t);
	cr_assert_eq(am_parse_cgroup_layout("1 2 0:1 / - cgroup cgroup rw,memory\n", &l, &why),
		     -EINVAL);
	cr_assert_not_null(why);
	cr_assert_eq(am_parse_cgroup_layout("1 0 0:1 / / rw - ext4 /dev/vda rw\n", &l, NULL), 0);
	cr_assert_eq(l.mode, AM_CGROUP_NONE);
}

Test(cgroup_files, v1_docker_container_every_file)
{
	struct am_cgroup_sample s;

	read_sample("cgroup-v1", "/docker/" D1, &s);
	cr_assert_eq(s.garbled, 0, "%s", s.first_garbled);
	cr_assert_eq(s.cpu.nr_periods, 1000);
	cr_assert_eq(s.cpu.nr_throttled, 250);
	cr_assert_eq(s.cpu.throttled_usec, 12345678); /* ns -> us */
	cr_assert_eq(s.cpu.quota_usec, 50000);
	cr_assert_eq(s.cpu.period_usec, 100000);
	cr_assert_eq(s.cpu.shares, 512);
	cr_assert_eq(s.cpu.usage_usec, 98765432);
	cr_assert_eq(s.cpu.user_usec, 60000000);
	cr_assert_eq(s.cpu.system_usec, 38765432);
	cr_assert_eq(s.cpu.have, AM_CG_CPU_USAGE | AM_CG_CPU_USER_SYSTEM | AM_CG_CPU_THROTTLING |
				     AM_CG_CPU_QUOTA | AM_CG_CPU_SHARES);
	cr_assert_eq(s.mem_usage, 30932992);
	cr_assert_eq(s.mem_limit, 33554432);
	cr_assert_eq(s.mem_peak, 33554432);
	cr_assert_eq(s.mem_failcnt, 41);
	cr_assert_eq(s.swap_usage, 31981568 - 30932992);
	cr_assert(!(s.have & AM_CG_MEM_HIGH));
	cr_assert_eq(s.memstat.anon, 25000000);
	cr_assert_eq(s.memstat.file, 4096000);
	cr_assert_eq(s.memstat.shmem, 8192);
	cr_assert_eq(s.memstat.file_mapped, 1048576);
	cr_assert_eq(s.memstat.pgmajfault, 7);
	cr_assert(!(s.memstat.have & AM_CG_MS_KERNEL));
	/* v1's dirty and writeback are v2's file_dirty and file_writeback; no kernel_stack, sock */
	cr_assert_eq(s.memstat.file_dirty, 12288);
	cr_assert_eq(s.memstat.file_writeback, 4096);
	cr_assert(!(s.memstat.have & (AM_CG_MS_KERNEL_STACK | AM_CG_MS_SOCK)));
	cr_assert_eq(s.events.oom_kill, 2);
	cr_assert_eq(s.events.under_oom, 0);
	cr_assert(s.events.have & AM_CG_ME_OOM_KILL_DISABLE);
	cr_assert_eq(s.pids, 7);
	cr_assert_eq(s.pids_limit, AM_CGROUP_UNLIMITED);
	cr_assert_eq(s.pids_events.have, AM_CG_PE_MAX, "v1 pids.events has max alone");
	cr_assert_eq(s.pids_events.max, 3);
	cr_assert(!(s.have & (AM_CG_MEM_LOW | AM_CG_MEM_MIN)), "no memory.low/min on v1");
	cr_assert_eq(s.io.n, 2);
	cr_assert_eq(s.io.dev[0].major, 8);
	cr_assert_eq(s.io.dev[0].rbytes, 4096);
	cr_assert_eq(s.io.dev[0].wbytes, 8192);
	cr_assert_eq(s.io.dev[0].rios, 1);
	cr_assert_eq(s.io.dev[0].wios, 2);
	cr_assert_eq(s.io.dev[1].major, 253);
	cr_assert(!(s.have & (AM_CG_PSI_CPU | AM_CG_PSI_MEMORY)), "no PSI on v1");
}

Test(cgroup_files, v1_root_unlimited_and_old_cpuacct_stat)
{
	struct am_cgroup_sample s;

	read_sample("cgroup-v1", "/", &s);
	cr_assert_eq(s.mem_limit, AM_CGROUP_UNLIMITED);
	cr_assert_eq(s.cpu.quota_usec, AM_CGROUP_UNLIMITED);
	read_sample("cgroup-v1", "/old.slice", &s);
	cr_assert_eq(s.cpu.usage_usec, 5000000);
	cr_assert_eq(s.cpu.user_usec, 3000000); /* 300 ticks at 100 Hz */
	cr_assert_eq(s.cpu.system_usec, 2000000);
}

Test(cgroup_files, v1_garbled_files_are_counted_and_named_missing_ones_absent)
{
	struct am_cgroup_sample s;

	read_sample("cgroup-v1", "/garbled", &s);
	cr_assert_eq(s.garbled, 4); /* usage, stat, oom_control, pids.events */
	cr_assert_eq(s.pids_events.have, 0);
	cr_assert_not_null(strstr(s.first_garbled, "memory.usage_in_bytes"), "%s", s.first_garbled);
	cr_assert(!(s.have & AM_CG_MEM_USAGE));
	cr_assert_eq(s.mem_limit, 4096);
	read_sample("cgroup-v1", "/empty", &s);
	cr_assert_eq(s.garbled, 0);
	cr_assert_eq(s.have, 0);
	cr_assert_eq(s.cpu.have, 0);
	cr_assert_eq(am_cgroup_read(&(struct am_cgroup_layout){0}, FIXTURES "/cgroup-v1", "/x", 100,
				    &scratch, &s),
		     -ENOENT);
}

Test(cgroup_files, v2_kubernetes_container_every_file)
{
	struct am_cgroup_sample s;

	read_sample("cgroup-v2", POD "/cri-containerd-" D2 ".scope", &s);
	cr_assert_eq(s.garbled, 0, "%s", s.first_garbled);
	cr_assert_eq(s.cpu.usage_usec, 5000000);
	cr_assert_eq(s.cpu.user_usec, 3000000);
	cr_assert_eq(s.cpu.system_usec, 2000000);
	cr_assert_eq(s.cpu.nr_periods, 400);
	cr_assert_eq(s.cpu.nr_throttled, 100);
	cr_assert_eq(s.cpu.throttled_usec, 2500000);
	cr_assert_eq(s.cpu.quota_usec, 20000);
	cr_assert_eq(s.cpu.period_usec, 100000);
	cr_assert_eq(s.cpu.weight, 39);
	cr_assert_eq(s.mem_usage, 104857600);
	cr_assert_eq(s.mem_limit, 268435456);
	cr_assert_eq(s.mem_high, AM_CGROUP_UNLIMITED);
	cr_assert_eq(s.mem_peak, 201326592);
	cr_assert_eq(s.swap_limit, AM_CGROUP_UNLIMITED);
	cr_assert_eq(s.memstat.anon, 80000000);
	cr_assert_eq(s.memstat.file, 20000000);
	cr_assert_eq(s.memstat.kernel, 4000000);
	cr_assert_eq(s.memstat.shmem, 4096);
	cr_assert_eq(s.memstat.pgmajfault, 12);
	cr_assert_eq(s.memstat.kernel_stack, 65536);
	cr_assert_eq(s.memstat.sock, 8192);
	cr_assert_eq(s.memstat.file_dirty, 24576);
	cr_assert_eq(s.memstat.file_writeback, 16384);
	cr_assert_eq(s.events.low, 0);
	cr_assert_eq(s.events.high, 3);
	cr_assert_eq(s.events.max, 17);
	cr_assert_eq(s.events.oom, 1);
	cr_assert_eq(s.events.oom_kill, 1);
	cr_assert_eq(s.events.oom_group_kill, 1);
	cr_assert(s.events.have & AM_CG_ME_OOM_GROUP_KILL);
	cr_assert_eq(s.mem_low, 16777216);
	cr_assert_eq(s.mem_min, 8388608);
	cr_assert(s.have & AM_CG_MEM_LOW && s.have & AM_CG_MEM_MIN);
	cr_assert_eq(s.pids, 12);
	cr_assert_eq(s.pids_limit, 4096);
	cr_assert_eq(s.pids_events.have, AM_CG_PE_MAX | AM_CG_PE_MAX_IMPOSED);
	cr_assert_eq(s.pids_events.max, 5);
	cr_assert_eq(s.pids_events.max_imposed, 7);
	cr_assert_eq(s.io.n, 2);
	cr_assert_eq(s.io.dev[0].rbytes, 1048576);
	cr_assert_eq(s.io.dev[0].wios, 32);
	cr_assert_eq(s.io.dev[1].minor, 0);
	cr_assert(s.have & AM_CG_PSI_CPU);
	cr_assert_eq(s.psi_cpu.some_total_us, 123456);
	cr_assert_eq(s.psi_cpu.full_total_us, 65432);
	cr_assert(s.have & AM_CG_PSI_IO);
}

Test(cgroup_files, v2_garbled_files)
{
	struct am_cgroup_sample s;

	read_sample("cgroup-v2", "/garbled.slice", &s);
	/* cpu.max, memory.min, memory.events, pids.events (no max line), io.stat */
	cr_assert_eq(s.garbled, 5);
	cr_assert_not_null(strstr(s.first_garbled, "cpu.max"), "%s", s.first_garbled);
	cr_assert_eq(s.mem_usage, 4096);
	cr_assert(!(s.have & AM_CG_MEM_MIN));
	cr_assert_eq(s.pids_events.have, 0);
	/* The pod: memory.low "max" is there and unlimited, memory.min 0 is a value. */
	read_sample("cgroup-v2", POD, &s);
	cr_assert_eq(s.garbled, 0, "%s", s.first_garbled);
	cr_assert(s.have & AM_CG_MEM_LOW && s.have & AM_CG_MEM_MIN);
	cr_assert_eq(s.mem_low, AM_CGROUP_UNLIMITED);
	cr_assert_eq(s.mem_min, 0);
	cr_assert_eq(s.pids_events.max, 0);
	cr_assert_eq(s.pids_events.have, AM_CG_PE_MAX);
	cr_assert(!(s.cpu.have & AM_CG_CPU_QUOTA));
	cr_assert(!(s.have & AM_CG_IO));
}

Test(cgroup_files, hybrid_reads_v1_controllers_and_v2_pressure)
{
	struct am_cgroup_sample s;

	read_sample("cgroup-hybrid", "/system.slice/nginx.service", &s);
	cr_assert_eq(s.garbled, 1); /* memory.pressure */
	cr_assert_not_null(strstr(s.first_garbled, "memory.pressure"));
	/* The unit is in the unified hierarchy: its core cpu.stat in µs, not cpuacct's files
	 * (usage 2000000000 ns, user 1500000000 ns there). */
	cr_assert_eq(s.cpu.usage_usec, 2000123);
	cr_assert_eq(s.cpu.user_usec, 1500100);
	cr_assert_eq(s.cpu.system_usec, 500023);
	cr_assert_eq(s.cpu.nr_periods, 10, "throttling still from v1 cpu.stat");
	cr_assert_eq(s.cpu.shares, 1024);
	cr_assert_eq(s.cpu.quota_usec, AM_CGROUP_UNLIMITED);
	cr_assert_eq(s.mem_usage, 52428800);
	cr_assert_eq(s.mem_limit, AM_CGROUP_UNLIMITED);
	cr_assert_eq(s.memstat.anon, 40000000);
	cr_assert_eq(s.memstat.file_dirty, 8192);
	cr_assert(s.memstat.have & AM_CG_MS_FILE_WRITEBACK);
	cr_assert_eq(s.memstat.file_writeback, 0);
	cr_assert(!(s.events.have & AM_CG_ME_OOM_KILL), "kernel without oom_kill in oom_control");
	cr_assert_eq(s.pids_limit, 4915);
	/* "max2": the legacy file as some v1 kernels of 6.12+ wrote it, without the space */
	cr_assert_eq(s.pids_events.have, AM_CG_PE_MAX);
	cr_assert_eq(s.pids_events.max, 2);
	cr_assert(!(s.have & AM_CG_IO), "blkio has no such cgroup");
	cr_assert(s.have & AM_CG_PSI_CPU);
	cr_assert_eq(s.psi_cpu.some_total_us, 42);
}

Test(cgroup_files, single_file_parsers_refuse_garbage)
{
	struct am_cgroup_cpu c = {0};
	struct am_cgroup_io io = {0};
	const char *why = NULL;
	uint64_t v;

	cr_assert_eq(am_parse_cgroup_value("max\n", &v, NULL), 0);
	cr_assert_eq(v, AM_CGROUP_UNLIMITED);
	cr_assert_eq(am_parse_cgroup_value("-5\n", &v, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_value("", &v, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_cpu_max("max 100000\n", &c, NULL), 0);
	cr_assert_eq(c.quota_usec, AM_CGROUP_UNLIMITED);
	cr_assert_eq(am_parse_cgroup_cpu_max("5000 0\n", &c, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_cfs("-2\n", "100000\n", &c, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_cpuacct_stat("user 1\n", 100, &c, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_cpu_stat("usage_usec\n", &c, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_io_stat("8:0 rbytes=1 wbytes\n", &io, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_io_stat("x rbytes=1\n", &io, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_blkio("8:0 Read\n", true, &io, &why), -EINVAL);
	cr_assert_not_null(why);
}

Test(cgroup_files, pids_events_every_form)
{
	struct am_cgroup_pidsevents e = {0};
	const char *why = NULL;

	cr_assert_eq(am_parse_cgroup_pids_events("max 4\n", &e, NULL), 0);
	cr_assert_eq(e.have, AM_CG_PE_MAX);
	cr_assert_eq(e.max, 4);
	cr_assert_eq(am_parse_cgroup_pids_events("max 0\nmax.imposed 9\n", &e, NULL), 0);
	cr_assert_eq(e.have, AM_CG_PE_MAX | AM_CG_PE_MAX_IMPOSED);
	cr_assert_eq(e.max_imposed, 9);
	cr_assert_eq(am_parse_cgroup_pids_events("max12\n", &e, NULL), 0);
	cr_assert_eq(e.max, 12);
	cr_assert_eq(e.have, AM_CG_PE_MAX);
	/* Garbled: each leaves E as it was. */
	cr_assert_eq(am_parse_cgroup_pids_events("", &e, &why), -EINVAL);
	cr_assert_not_null(strstr(why, "'max'"), "%s", why);
	cr_assert_eq(am_parse_cgroup_pids_events("max.imposed 1\n", &e, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_pids_events("max -1\n", &e, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_pids_events("max12x\n", &e, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_pids_events("max 1 2\n", &e, &why), -EINVAL);
	cr_assert_eq(e.max, 12);
}

/* Keys the agent does not keep may carry anything but a number: iocost's cost.vrate on the root
 * (with a decimal point), iolatency's debug depth=max. Such a line is not garbled; the counters
 * beside them are kept. A key that is kept must still be a number. */
Test(cgroup_files, io_stat_keys_not_kept_may_hold_any_value)
{
	struct am_cgroup_io io;
	const char *why = NULL;

	cr_assert_eq(am_parse_cgroup_io_stat("8:0 rbytes=1048576 wbytes=4194304 rios=256 wios=64 "
					     "dbytes=0 dios=0 cost.vrate=100.00 cost.usage=1234\n"
					     "8:16 rbytes=0 wbytes=0 rios=0 wios=3 dbytes=0 dios=0 "
					     "missed=0 total=12 depth=max\n",
					     &io, &why),
		     0, "%s", why);
	cr_assert_eq(io.n, 2);
	cr_assert_eq(io.dev[0].rbytes, 1048576);
	cr_assert_eq(io.dev[0].wbytes, 4194304);
	cr_assert_eq(io.dev[0].rios, 256);
	cr_assert_eq(io.dev[0].wios, 64);
	cr_assert_eq(io.dev[1].minor, 16);
	cr_assert_eq(io.dev[1].wios, 3);
	cr_assert_eq(am_parse_cgroup_io_stat("8:0 rbytes=1.5 wbytes=0\n", &io, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_io_stat("8:0 rbytes=1 cost.vrate=\n", &io, &why), -EINVAL);
	cr_assert_eq(am_parse_cgroup_io_stat("8:0 rbytes=1 depth=max  wbytes=2\n", &io, &why),
		     -EINVAL);
}

Test(cgroup_files, io_devices_past_the_cap_are_counted)
{
	struct am_strbuf b = {0};
	struct am_cgroup_io *io = calloc(1, sizeof(*io));
	int i;

	for (i = 0; i < AM_CGROUP_IO_MAX_DEVICES + 3; i++)
		am_strbuf_printf(&b, "8:%d rbytes=%d wbytes=0 rios=1 wios=0\n", i, i);
	cr_assert_eq(am_parse_cgroup_io_stat(b.data, io, NULL), 0);
	cr_assert_eq(io->n, AM_CGROUP_IO_MAX_DEVICES);
	cr_assert_eq(io->dropped, 3);
	free(io);
	am_strbuf_free(&b);
}

Test(cgroup_files, proc_pid_cgroup_lines)
{
	char out[256];
	const char *t =
	    "9:name=systemd:/\n4:memory:/process_api/7f\n1:cpu,cpuacct:/a\n0::/user.slice\n";

	cr_assert_eq(am_parse_proc_cgroup(t, "memory", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/process_api/7f");
	cr_assert_eq(am_parse_proc_cgroup(t, "cpuacct", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/a");
	cr_assert_eq(am_parse_proc_cgroup(t, NULL, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/user.slice");
	cr_assert_eq(am_parse_proc_cgroup(t, "pids", out, sizeof(out)), -ENOENT);
	cr_assert_eq(am_parse_proc_cgroup("garbage\n", "pids", out, sizeof(out)), -EINVAL);
}

static void classify(const char *path, enum am_cgroup_kind kind, const char *runtime,
		     const char *id, const char *pod, const char *qos, const char *unit)
{
	struct am_cgroup_class c;

	am_cgroup_classify(path, &c);
	cr_assert_eq(c.kind, kind, "%s: kind %d", path, c.kind);
	if (runtime)
		cr_assert_str_eq(c.runtime, runtime, "%s", path);
	cr_assert_str_eq(c.container_id, id ? id : "", "%s", path);
	cr_assert_str_eq(c.pod_uid, pod ? pod : "", "%s", path);
	if (qos)
		cr_assert_str_eq(c.qos, qos, "%s", path);
	else
		cr_assert_null(c.qos, "%s: %s", path, c.qos);
	if (unit)
		cr_assert_str_eq(c.unit, unit, "%s", path);
}

Test(cgroup_files, classifier)
{
	classify("/docker/" D1, AM_CGROUP_CONTAINER, "docker", D1, NULL, NULL, NULL);
	classify("/system.slice/docker-" D1 ".scope", AM_CGROUP_CONTAINER, "docker", D1, NULL, NULL,
		 NULL);
	classify("/machine.slice/libpod-" D2 ".scope", AM_CGROUP_CONTAINER, "podman", D2, NULL,
		 NULL, NULL);
	classify("/machine.slice/libpod-conmon-" D2 ".scope", AM_CGROUP_UNIT, NULL, NULL, NULL,
		 NULL, "libpod-conmon-" D2 ".scope");
	classify(POD "/cri-containerd-" D2 ".scope", AM_CGROUP_CONTAINER, "containerd", D2, UID,
		 "burstable", NULL);
	classify(POD, AM_CGROUP_POD, NULL, NULL, UID, "burstable", NULL);
	classify("/kubepods.slice/kubepods-burstable.slice", AM_CGROUP_QOS, NULL, NULL, NULL,
		 "burstable", NULL);
	classify("/kubepods.slice/kubepods-pod"
		 "1f2e3d4c_5b6a_4798_8a7b_6c5d4e3f2a1b.slice/crio-" D1 ".scope",
		 AM_CGROUP_CONTAINER, "cri-o", D1, UID, "guaranteed", NULL);
	classify("/kubepods/besteffort/pod" UID "/" D1, AM_CGROUP_CONTAINER, NULL, D1, UID,
		 "besteffort", NULL);
	classify("/kubepods/pod" UID, AM_CGROUP_POD, NULL, NULL, UID, "guaranteed", NULL);
	classify("/kubepods/besteffort", AM_CGROUP_QOS, NULL, NULL, NULL, "besteffort", NULL);
	classify("/system.slice/nginx.service", AM_CGROUP_UNIT, NULL, NULL, NULL, NULL,
		 "nginx.service");
	classify("/user.slice/user-1000.slice/session-3.scope", AM_CGROUP_UNIT, NULL, NULL, NULL,
		 NULL, "session-3.scope");
	classify("/", AM_CGROUP_OTHER, NULL, NULL, NULL, NULL, NULL);
	classify("/process_api/7f7a", AM_CGROUP_OTHER, NULL, NULL, NULL, NULL, NULL);
	classify("/kubepods/burstable/podnot-a-uid", AM_CGROUP_OTHER, NULL, NULL, NULL, NULL, NULL);
}

/* DIR/NAME holding TEXT. */
static void put(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(am_test_write_file(path, text, strlen(text)), 0, "%s", path);
}

/* The reader's side of reading limits only after a write: while the caller vouches that no limit
 * file was written (limits_unchanged), the limits held from the last read stand and the files
 * are not read; otherwise they are read again. A garbled limit file is never held. */
Test(cgroup_files, held_limits_stand_until_the_caller_says_a_file_was_written)
{
	struct am_cgroup_layout l = {.mode = AM_CGROUP_V2, .v2_mount = "/cg"};
	struct am_cgroup_sample s;
	struct am_cgroup_kept k;
	char *root = am_test_mkdtemp("cglimits"), dir[512];

	snprintf(dir, sizeof(dir), "%s/cg/x.scope", root); /* put() makes it */
	put(dir, "memory.current", "4096\n");
	put(dir, "memory.max", "1048576\n");
	put(dir, "cpu.max", "50000 100000\n");
	put(dir, "pids.max", "64\n");
	put(dir, "memory.low", "262144\n");
	put(dir, "memory.min", "131072\n");
	am_cgroup_kept_init(&k);
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert(k.lim_held);
	cr_assert_eq(s.mem_limit, 1048576);
	put(dir, "memory.max", "2097152\n");
	put(dir, "cpu.max", "max 100000\n");
	put(dir, "pids.max", "max\n");
	put(dir, "memory.low", "max\n");
	put(dir, "memory.min", "0\n");
	put(dir, "memory.current", "8192\n");
	k.limits_unchanged = true;
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.mem_usage, 8192, "usage is read every time");
	cr_assert_eq(s.mem_limit, 1048576, "the held limit stands: the file is not read");
	cr_assert_eq(s.cpu.quota_usec, 50000);
	cr_assert_eq(s.pids_limit, 64);
	cr_assert_eq(s.mem_low, 262144);
	cr_assert_eq(s.mem_min, 131072);
	cr_assert(s.have & AM_CG_MEM_LIMIT && s.have & AM_CG_PIDS_LIMIT &&
		  s.cpu.have & AM_CG_CPU_QUOTA && s.have & AM_CG_MEM_LOW && s.have & AM_CG_MEM_MIN);
	k.limits_unchanged = false;
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.mem_limit, 2097152);
	cr_assert_eq(s.cpu.quota_usec, AM_CGROUP_UNLIMITED);
	cr_assert_eq(s.pids_limit, AM_CGROUP_UNLIMITED);
	cr_assert_eq(s.mem_low, AM_CGROUP_UNLIMITED);
	cr_assert_eq(s.mem_min, 0);
	put(dir, "memory.min", "some\n");
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.garbled, 1);
	cr_assert(!(s.have & AM_CG_MEM_MIN));
	cr_assert(!k.lim_held, "a garbled memory.min is read again next time");
	put(dir, "memory.min", "0\n");
	put(dir, "memory.max", "lots\n");
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.garbled, 1);
	cr_assert(!k.lim_held, "a garbled limit is read again next time");
	k.limits_unchanged = true;
	put(dir, "memory.max", "4194304\n");
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.mem_limit, 4194304);
	am_cgroup_kept_close(&k, NULL);
	am_test_rmtree(root);
	free(root);
}

/* A cycle that cannot open the cgroup's directory (descriptors short: EMFILE) reads no limit;
 * that must not be held as "no limit", or it would stand until someone writes a limit file. */
Test(cgroup_files, limits_not_read_for_want_of_descriptors_are_not_held)
{
	struct am_cgroup_layout l = {.mode = AM_CGROUP_V2, .v2_mount = "/cg"};
	struct am_cgroup_sample s;
	struct am_cgroup_kept k;
	struct rlimit saved, low;
	char *root = am_test_mkdtemp("cgemfile"), dir[512];
	int next;

	snprintf(dir, sizeof(dir), "%s/cg/x.scope", root); /* put() makes it */
	put(dir, "memory.current", "4096\n");
	put(dir, "memory.max", "1048576\n");
	am_cgroup_kept_init(&k);
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.mem_limit, 1048576);
	/* The lowest free descriptor becomes the limit: the next open fails with EMFILE. */
	next = dup(0);
	cr_assert_geq(next, 0);
	close(next);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)next;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	cr_assert(!(s.have & AM_CG_MEM_LIMIT), "no limit could be read");
	cr_assert(!k.lim_held, "limits not read are not held");
	/* No write since: the limits are read again, not taken from the failed cycle. */
	k.limits_unchanged = true;
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.mem_limit, 1048576);
	am_cgroup_kept_close(&k, NULL);
	am_test_rmtree(root);
	free(root);
}

Test(cgroup_files, limit_files_are_named)
{
	cr_assert(am_cgroup_limit_file("memory.limit_in_bytes"));
	cr_assert(am_cgroup_limit_file("cpu.cfs_period_us"));
	cr_assert(am_cgroup_limit_file("cpu.weight.nice"));
	cr_assert(am_cgroup_limit_file("cgroup.subtree_control"));
	cr_assert(am_cgroup_limit_file("memory.failcnt"));
	cr_assert(am_cgroup_limit_file("memory.low"));
	cr_assert(am_cgroup_limit_file("memory.min"));
	cr_assert(!am_cgroup_limit_file("pids.events"));
	cr_assert(!am_cgroup_limit_file("memory.events"));
	cr_assert(!am_cgroup_limit_file("cgroup.procs"));
}

/* v1: memory.failcnt counts hits of the cgroup's own limit, so without a limit it is held with
 * the limits (read again after a write); with one it is read every time. Swap comes from
 * memory.stat's total_swap where it is there, without the memsw file. */
Test(cgroup_files, v1_failcnt_is_held_only_without_a_limit)
{
	struct am_cgroup_layout l = {.mode = AM_CGROUP_V1, .nv1 = 1};
	struct am_cgroup_sample s;
	struct am_cgroup_kept k;
	char *root = am_test_mkdtemp("cgfailcnt"), dir[512];

	snprintf(l.v1[0].controllers, sizeof(l.v1[0].controllers), "memory");
	snprintf(l.v1[0].mount, sizeof(l.v1[0].mount), "/mem");
	snprintf(dir, sizeof(dir), "%s/mem/x.scope", root);
	put(dir, "memory.usage_in_bytes", "4096\n");
	put(dir, "memory.limit_in_bytes", "9223372036854771712\n");
	put(dir, "memory.failcnt", "3\n");
	put(dir, "memory.stat", "rss 4096\ntotal_swap 8192\n");
	put(dir, "memory.memsw.usage_in_bytes", "1\n"); /* garbage: must not be used */
	am_cgroup_kept_init(&k);
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.mem_failcnt, 3);
	cr_assert_eq(s.swap_usage, 8192);
	cr_assert(s.have & AM_CG_MEM_SWAP);
	put(dir, "memory.failcnt", "5\n");
	k.limits_unchanged = true;
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.mem_failcnt, 3, "no limit: held");
	cr_assert(s.have & AM_CG_MEM_FAILCNT);
	put(dir, "memory.limit_in_bytes", "1048576\n");
	k.limits_unchanged = false;
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.mem_failcnt, 5);
	put(dir, "memory.failcnt", "6\n");
	k.limits_unchanged = true;
	cr_assert_eq(am_cgroup_read_kept(&l, root, "/x.scope", 100, &scratch, &k, NULL, &s), 0);
	cr_assert_eq(s.mem_failcnt, 6, "a limit: read every time");
	cr_assert_eq(s.mem_limit, 1048576);
	am_cgroup_kept_close(&k, NULL);
	am_test_rmtree(root);
	free(root);
}
