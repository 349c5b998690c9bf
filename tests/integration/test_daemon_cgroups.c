/* The daemon's profiler.cgroups, against the real kernel: `antimetal-agent run` with the key set
 * to one cgroup v2 directory (named relative to the cgroup2 mount, as systemd names units)
 * writes pprof windows holding samples of a workload in a cgroup below it and none of the same
 * workload in a sibling cgroup, nor of anything else on the host. A path that is not a cgroup
 * is refused at start with its file, line and column. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cgroup_path.h"
#include "gunzip.h"
#include "pprof_labels.h"
#include "profile.pb-c.h"
#include "spawn.h"
#include "testutil.h"

#define AGENT AM_TEST_BUILD_DIR "/antimetal-agent"
#define HOT   AM_TEST_BUILD_DIR "/tests/workloads/hot"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__Sample Sample;

/* The test's top cgroup: MOUNT/antimetal-daemon-PID, with in/deeper and out below it. */
static char mount_dir[4096], top[4300], *dir;
static pid_t agent = -1, inside = -1, outside = -1;

static void setup(void)
{
	dir = am_test_mkdtemp("daemon-cgroups");
	cr_assert_not_null(dir);
}

/* Runs after failed assertions too: no process or cgroup outlives the test. */
static void teardown(void)
{
	char cmd[8400];

	am_test_reap(agent);
	am_test_reap(inside);
	am_test_reap(outside);
	agent = inside = outside = -1;
	if (*top) {
		/* deepest first; the cgroups are empty once their processes are reaped */
		snprintf(cmd, sizeof(cmd), "find '%s' -depth -type d -exec rmdir {} +", top);
		if (system(cmd))
			cr_log_warn("cgroups left under %s", top);
		*top = '\0';
	}
	if (dir)
		am_test_rmtree(dir);
	free(dir);
	dir = NULL;
}

TestSuite(daemon_cgroups, .init = setup, .fini = teardown, .timeout = 90);

static void make_cgroup(const char *rel)
{
	char path[8400];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	cr_assert(!mkdir(path, 0755) || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

static void move_to(const char *rel, pid_t pid)
{
	char path[8400], buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", pid);

	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", top, rel);
	cr_assert_eq(am_test_write_file(path, buf, (size_t)n), 0, "moving %d into %s", pid, path);
}

/* Write CONFIG to DIR/config.yaml and start the daemon on it, output to DIR/agent.log. */
static void start_agent(const char *config)
{
	char path[600];
	char *argv[] = {AGENT, "run", "--config", path, NULL};

	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	cr_assert_eq(am_test_write_file(path, config, strlen(config)), 0);
	agent = am_test_spawn_log(argv, dir, "agent");
}

/* Finished pprof windows in DIR/profiles (the daemon renames a file into place whole). */
static int count_profiles(void)
{
	char path[600];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/profiles", dir);
	d = opendir(path);
	while (d && (e = readdir(d)) != NULL)
		n += !strncmp(e->d_name, "cpu-", 4) && strstr(e->d_name, ".pb.gz") &&
		     !strstr(e->d_name, ".tmp");
	if (d)
		closedir(d);
	return n;
}

/* Samples per pid over every window in DIR/profiles: of IN, of OUT and of any other pid. */
struct counts {
	int64_t in, out, others, files;
};

static void add_file(const char *file, struct counts *c)
{
	struct am_strbuf gz = {0}, raw = {0};
	Profile *pb;
	size_t i;

	cr_assert_eq(am_test_read_file(file, &gz), 0, "cannot read %s", file);
	am_test_gunzip(gz.data, gz.len, &raw);
	pb = perftools__profiles__profile__unpack(NULL, raw.len, (uint8_t *)raw.data);
	cr_assert_not_null(pb, "%s: profile.proto decode failed", file);
	for (i = 0; i < pb->n_sample; i++) {
		int64_t pid = am_test_pprof_label_num(pb, pb->sample[i], "pid"),
			v = pb->sample[i]->value[0];

		if (pid == inside)
			c->in += v;
		else if (pid == outside)
			c->out += v;
		else if (pid >= 0) /* "[lost: ...]" samples carry no pid */
			c->others += v;
	}
	c->files++;
	perftools__profiles__profile__free_unpacked(pb, NULL);
	am_strbuf_free(&gz);
	am_strbuf_free(&raw);
}

static struct counts read_profiles(void)
{
	struct counts c = {0};
	char path[600], file[1000];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/profiles", dir);
	d = opendir(path);
	cr_assert_not_null(d, "no %s", path);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "cpu-", 4) || strstr(e->d_name, ".tmp"))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		add_file(file, &c);
	}
	closedir(d);
	return c;
}

Test(daemon_cgroups, profiles_only_the_subtree_of_the_configured_cgroup)
{
	char *hot[] = {HOT, "0", NULL}, config[2048];
	struct am_strbuf log = {0};
	long long deadline;
	struct counts c;
	int status;

	AM_REQUIRE_BPF();
	if (access(HOT, X_OK))
		cr_skip_test("skipped: build the workloads first (make tests)");
	if (am_cgroup2_mount(NULL, mount_dir, sizeof(mount_dir)))
		cr_skip_test("skipped: no cgroup2 mount");
	snprintf(top, sizeof(top), "%s/antimetal-daemon-%d", mount_dir, getpid());
	if (mkdir(top, 0755)) {
		*top = '\0';
		cr_skip_test("skipped: cannot create a cgroup under %s: %s", mount_dir,
			     strerror(errno));
	}
	make_cgroup("in");
	make_cgroup("in/deeper");
	make_cgroup("out");
	/* The same program on both sides: only the cgroup tells them apart. */
	inside = am_test_start_quiet(hot);
	outside = am_test_start_quiet(hot);
	move_to("in/deeper", inside);
	move_to("out", outside);
	/* The cgroup named relative to the mount, as `profile --cgroup` takes it too. */
	snprintf(config, sizeof(config),
		 "http:\n  enabled: false\nexecsnoop:\n  enabled: false\noom:\n  enabled: false\n"
		 "collectors:\n  enabled: false\n"
		 "profiler:\n  enabled: true\n  frequency: 199\n  window: 1s\n"
		 "  output_dir: %s/profiles\n  cgroups:\n    - %s/in\n",
		 dir, top + strlen(mount_dir));
	start_agent(config);
	deadline = am_test_now_ms() + 30000;
	while (count_profiles() < 3 && am_test_now_ms() < deadline &&
	       waitpid(agent, &status, WNOHANG) == 0)
		am_test_sleep_ms(100); /* the poll period of a wait for the window's file */
	cr_assert_geq(count_profiles(), 3, "no three windows written; agent log:\n%s",
		      am_test_log_of(dir, "agent", &log));
	cr_assert_eq(kill(agent, SIGTERM), 0);
	cr_assert_eq(am_test_wait_exit(agent, 10000, &status), 0);
	agent = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d; log:\n%s", status,
		  am_test_log_of(dir, "agent", &log));
	c = read_profiles();
	cr_log_info("%lld windows: %lld samples inside the cgroup, %lld of the same workload "
		    "outside, %lld of other processes",
		    (long long)c.files, (long long)c.in, (long long)c.out, (long long)c.others);
	cr_assert_gt(c.in, 50, "too few samples of the workload inside the cgroup");
	cr_assert_eq(c.out, 0, "samples of the workload outside the cgroup");
	cr_assert_eq(c.others, 0, "samples of processes outside the cgroup");
	am_strbuf_free(&log);
}

Test(daemon_cgroups, a_path_that_is_no_cgroup_is_refused_with_its_position)
{
	char path[600];
	char *argv[] = {AGENT, "run", "--check-config", "--config", path, NULL};
	const char *config = "profiler:\n  cgroups: [/, /no/such/cgroup]\n";
	struct am_strbuf out = {0}, err = {0};
	char want[900];
	int status;

	if (am_cgroup2_mount(NULL, mount_dir, sizeof(mount_dir)))
		cr_skip_test("skipped: no cgroup2 mount ('/' names its root)");
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	cr_assert_eq(am_test_write_file(path, config, strlen(config)), 0);
	status = am_test_run(argv, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d: %s", status, err.data);
	snprintf(want, sizeof(want),
		 "%s:2:16: profiler.cgroups: '/no/such/cgroup' is not a cgroup v2 directory", path);
	cr_assert_not_null(strstr(err.data, want), "%s", err.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}
