/* Who samples and execs belong to, against the real kernel: processes started in PID namespaces
 * of their own (clone(CLONE_NEWPID), as a container runtime does) and in cgroup v2 directories
 * named as docker and the kubelet name theirs. Exec events carry the host pid the parent saw
 * from clone and the pid inside the namespace; profiles carry the pid there, the cgroup path,
 * the container id and the pod UID as pprof labels; `profile --cgroup` keeps whole subtrees
 * and may be repeated; folded output can start with the container. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/ebpf/execsnoop.h"
#include "core/cgroup_path.h"
#include "gunzip.h"
#include "pprof_labels.h"
#include "profile.pb-c.h"
#include "testutil.h"

#define AGENT AM_TEST_BUILD_DIR "/antimetal-agent"
#define HOT   AM_TEST_BUILD_DIR "/tests/workloads/hot"

#define CID_A "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define CID_B "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a4938271605f4e3d2c1b0a"
#define POD   "5c3e6b9a-1d2f-4e8a-9b7c-0d1e2f3a4b5c"
#define POD_U "5c3e6b9a_1d2f_4e8a_9b7c_0d1e2f3a4b5c"

/* Below the test's own top cgroup (mount/antimetal-ns-PID): */
#define DOCKER "system.slice/docker-" CID_A ".scope"
#define KUBE                                                                                       \
	"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_U                     \
	".slice/cri-containerd-" CID_B ".scope"
#define SIBLING "other.slice"

static char mount_dir[4096], top[4300];

static void mkdirs(const char *rel)
{
	char path[8192], *p;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	for (p = path + strlen(top) + 1; (p = strchr(p, '/')); *p++ = '/') {
		*p = '\0';
		cr_assert(!mkdir(path, 0755) || errno == EEXIST, "mkdir %s: %s", path,
			  strerror(errno));
	}
	cr_assert(!mkdir(path, 0755) || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

/* rmdir every directory under DIR, deepest first (the cgroups are empty by then). */
static void rmtree_cgroups(const char *dir)
{
	char cmd[8400];

	snprintf(cmd, sizeof(cmd), "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null", dir);
	if (system(cmd)) {
		/* leftover cgroups are harmless; the next run uses another pid */
	}
}

/* The test's top cgroup under the cgroup2 mount, or a skip saying why there is none. */
static void setup_cgroups(void)
{
	AM_REQUIRE_BPF();
	if (am_cgroup2_mount(NULL, mount_dir, sizeof(mount_dir)))
		cr_skip_test("skipped: no cgroup2 mount");
	snprintf(top, sizeof(top), "%s/antimetal-ns-%d", mount_dir, getpid());
	if (mkdir(top, 0755))
		cr_skip_test("skipped: cannot create a cgroup under %s: %s", mount_dir,
			     strerror(errno));
}

static void teardown(void)
{
	if (*top)
		rmtree_cgroups(top);
	*top = '\0';
}

TestSuite(ns_labels, .fini = teardown, .timeout = 120);

static void move_to(const char *rel, pid_t pid)
{
	char path[8400], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", top, rel);
	n = snprintf(buf, sizeof(buf), "%d", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, buf, (size_t)n), n, "moving %d into %s: %s", pid, path,
		     strerror(errno));
	close(fd);
}

/* clone() a child into a new PID namespace (where it is pid 1), move it into cgroup REL (when
 * not NULL) while it waits, then let it exec ARGV. Returns its pid in this namespace. */
static pid_t start_in_pidns(const char *rel, char *const argv[])
{
	char *const envp[] = {NULL};
	int gate[2];
	pid_t pid;
	char c;

	cr_assert_eq(pipe2(gate, O_CLOEXEC), 0);
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0 && (errno == EPERM || errno == EINVAL))
		cr_skip_test("skipped: cannot create a PID namespace: %s", strerror(errno));
	cr_assert_geq(pid, 0, "clone: %s", strerror(errno));
	if (pid == 0) {
		close(gate[1]);
		if (read(gate[0], &c, 1) != 0)
			_exit(126);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(gate[0]);
	if (rel)
		move_to(rel, pid);
	close(gate[1]); /* EOF: go */
	return pid;
}

static void kill_and_reap(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* ---- exec events ---- */

struct exec_seen {
	pid_t want_ppid; /* records whose parent is this (host) pid */
	int n;
	struct {
		pid_t pid, ppid, ns_pid, ns_ppid;
		char comm[17], cgroup[512], container[65];
	} r[16];
};

static void on_exec(const struct am_exec_record *r, void *ctx)
{
	struct exec_seen *s = ctx;

	if (r->kind != AM_EXEC_EVENT || r->ppid != s->want_ppid || s->n == 16)
		return;
	s->r[s->n].pid = r->pid;
	s->r[s->n].ppid = r->ppid;
	s->r[s->n].ns_pid = r->ns_pid;
	s->r[s->n].ns_ppid = r->ns_ppid;
	memcpy(s->r[s->n].comm, r->comm, sizeof(s->r[s->n].comm));
	snprintf(s->r[s->n].cgroup, sizeof(s->r[s->n].cgroup), "%s",
		 r->cgroup_path ? r->cgroup_path : "");
	snprintf(s->r[s->n].container, sizeof(s->r[s->n].container), "%s",
		 r->container_id ? r->container_id : "");
	s->n++;
}

static int find_exec(const struct exec_seen *s, pid_t pid, const char *comm)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->r[i].pid == pid && (!comm || !strcmp(s->r[i].comm, comm)))
			return i;
	return -1;
}

static void poll_until(struct am_execsnoop *es, struct exec_seen *s, pid_t pid, const char *comm)
{
	double deadline = am_test_now_s() + 5;

	while (find_exec(s, pid, comm) < 0 && am_test_now_s() < deadline)
		cr_assert_geq(am_execsnoop_poll(es, 100), 0);
}

/* A process started in a new PID namespace is pid 1 there: its exec event has the host pid
 * clone() returned, ns_pid 1 and ns_ppid 0 (its parent is outside); a child it forks there has
 * ns_ppid 1. A process of the host's namespace has ns_pid == pid. */
Test(ns_labels, exec_events_carry_the_pid_inside_the_namespace)
{
	/* On the stack, not literals: a fresh child has not mapped the file pages literals live
	 * in, which BPF cannot read at syscall entry. */
	char sh0[] = "/bin/sh", sh1[] = "-c", sh2[] = "/bin/true; exec /bin/sleep 0";
	char true0[] = "/bin/true";
	char *sh[] = {sh0, sh1, sh2, NULL};
	char *hostargv[] = {true0, NULL};
	struct am_execsnoop_opts o = {0};
	struct am_execsnoop *es = NULL;
	struct exec_seen seen = {0}, inner = {0};
	pid_t pid, host;
	int i, err, st;

	setup_cgroups();
	mkdirs(DOCKER);
	seen.want_ppid = getpid();
	o.cb = on_exec;
	o.ctx = &seen;
	o.resolve_cgroups = true;
	err = am_execsnoop_open(&o, &es);
	cr_assert_eq(err, 0, "am_execsnoop_open: %s", strerror(-err));

	pid = start_in_pidns(DOCKER, sh);
	poll_until(es, &seen, pid, "sh");
	i = find_exec(&seen, pid, "sh");
	cr_assert_geq(i, 0, "no exec event for pid %d", pid);
	cr_expect_eq(seen.r[i].ns_pid, 1, "pid %d inside its namespace: %d", pid, seen.r[i].ns_pid);
	cr_expect_eq(seen.r[i].ns_ppid, 0, "the parent is outside the namespace");
	cr_expect(strstr(seen.r[i].cgroup, "/antimetal-ns-") &&
		      strstr(seen.r[i].cgroup, "/" DOCKER),
		  "cgroup %s", seen.r[i].cgroup);
	cr_expect_str_eq(seen.r[i].container, CID_A);

	/* /bin/true, forked by the namespace's pid 1: pid 2 there (nothing else runs in it). */
	o.ctx = &inner;
	inner.want_ppid = pid;
	am_execsnoop_close(es);
	es = NULL;
	cr_assert_eq(waitpid(pid, &st, 0), pid);

	err = am_execsnoop_open(&o, &es);
	cr_assert_eq(err, 0);
	pid = start_in_pidns(NULL, sh);
	inner.want_ppid = pid;
	/* the child's exec of /bin/true */
	{
		double deadline = am_test_now_s() + 5;

		while (!inner.n && am_test_now_s() < deadline)
			cr_assert_geq(am_execsnoop_poll(es, 100), 0);
	}
	cr_assert_geq(inner.n, 1, "no exec event from the namespace's child");
	cr_expect_eq(inner.r[0].ns_ppid, 1, "its parent is the namespace's pid 1");
	cr_expect_eq(inner.r[0].ns_pid, 2);
	cr_expect_neq(inner.r[0].pid, inner.r[0].ns_pid, "host pid %d", inner.r[0].pid);
	cr_assert_eq(waitpid(pid, &st, 0), pid);

	/* The host's namespace: both the same. */
	inner.want_ppid = getpid();
	inner.n = 0;
	host = fork();
	cr_assert_geq(host, 0);
	if (host == 0) {
		execve(hostargv[0], hostargv, (char *[]){NULL});
		_exit(127);
	}
	poll_until(es, &inner, host, NULL);
	i = find_exec(&inner, host, NULL);
	cr_assert_geq(i, 0);
	cr_expect_eq(inner.r[i].ns_pid, host);
	cr_expect_eq(inner.r[i].ns_ppid, getpid());
	waitpid(host, &st, 0);
	am_execsnoop_close(es);
}

/* ---- profiles ---- */

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__Sample Sample;

static const char *label_str(const Profile *pb, const Sample *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n_label; i++)
		if (!strcmp(pb->string_table[s->label[i]->key], key) && s->label[i]->str)
			return pb->string_table[s->label[i]->str];
	return NULL;
}

/* What the samples of one process said about it. */
struct owner {
	pid_t pid;
	int64_t samples, ns_pid;
	char cgroup[1024], container[65], pod[37];
	bool mixed; /* two samples disagreed */
};

/* FIELD takes the first sample's value V; a later sample with another marks O mixed. */
static void note(struct owner *o, char *field, size_t len, const char *v)
{
	if (!*field && v)
		snprintf(field, len, "%s", v);
	else if (v ? strcmp(field, v) : *field != '\0')
		o->mixed = true;
}

static void read_owners(const char *file, struct owner *owners, int n, int64_t *others)
{
	struct am_strbuf gz = {0}, raw = {0};
	Profile *pb;
	size_t i;
	int k;

	cr_assert_eq(am_test_read_file(file, &gz), 0, "no pprof file %s", file);
	am_test_gunzip(gz.data, gz.len, &raw);
	pb = perftools__profiles__profile__unpack(NULL, raw.len, (uint8_t *)raw.data);
	cr_assert_not_null(pb, "profile.proto decode failed");
	*others = 0;
	for (i = 0; i < pb->n_sample; i++) {
		const Sample *s = pb->sample[i];
		int64_t pid = am_test_pprof_label_num(pb, s, "pid");

		for (k = 0; k < n && owners[k].pid != pid; k++)
			;
		if (k == n) {
			if (pid >= 0) /* "[lost: ...]" samples have no pid */
				*others += s->value[0];
			continue;
		}
		owners[k].samples += s->value[0];
		if (owners[k].ns_pid &&
		    owners[k].ns_pid != am_test_pprof_label_num(pb, s, "ns_pid"))
			owners[k].mixed = true;
		owners[k].ns_pid = am_test_pprof_label_num(pb, s, "ns_pid");
		note(&owners[k], owners[k].cgroup, sizeof(owners[k].cgroup),
		     label_str(pb, s, "cgroup"));
		note(&owners[k], owners[k].container, sizeof(owners[k].container),
		     label_str(pb, s, "container_id"));
		note(&owners[k], owners[k].pod, sizeof(owners[k].pod), label_str(pb, s, "pod_uid"));
	}
	perftools__profiles__profile__free_unpacked(pb, NULL);
	am_strbuf_free(&gz);
	am_strbuf_free(&raw);
}

/* Three spinners in new PID namespaces: one in a docker scope, one in a kubelet pod's
 * container, one in a sibling slice. `profile --cgroup <top>/system.slice --cgroup
 * <top>/kubepods.slice` keeps the first two (each nested levels below the cgroup named) and
 * none of the third; their samples carry ns_pid 1, the cgroup path, the container id and
 * (the pod's) the pod UID; folded lines start with the container id. */
static void subtree_profile(const char *walk_env)
{
	char hot0[] = HOT, hot1[] = "0";
	char *hot[] = {hot0, hot1, NULL};
	char dir[4096], pprof[4200], folded[4200], arg1[4400], arg2[4400];
	struct owner owners[3] = {{0}};
	struct am_strbuf out = {0}, err = {0}, text = {0};
	int64_t others;
	pid_t pids[3];
	int st, k;

	setup_cgroups();
	cr_assert_eq(access(HOT, X_OK), 0, "workload %s not built", HOT);
	mkdirs(DOCKER);
	mkdirs(KUBE);
	mkdirs(SIBLING);
	pids[0] = start_in_pidns(DOCKER, hot);
	pids[1] = start_in_pidns(KUBE, hot);
	pids[2] = start_in_pidns(SIBLING, hot);
	for (k = 0; k < 3; k++)
		owners[k].pid = pids[k];

	snprintf(dir, sizeof(dir), "%s", "/tmp/am-ns-labels-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(pprof, sizeof(pprof), "%s/p.pb.gz", dir);
	snprintf(folded, sizeof(folded), "%s/p.folded", dir);
	snprintf(arg1, sizeof(arg1), "%s/system.slice", top);
	/* relative to the cgroup2 mount, as the flag also takes it */
	snprintf(arg2, sizeof(arg2), "%s/kubepods.slice", top + strlen(mount_dir));
	setenv("ANTIMETAL_PROFILER_CGROUP_WALK", walk_env, 1);
	st = am_test_run(
	    (char *[]){AGENT,	   "profile",	      "-F",	   "199",      "-d",
		       "2",	   "--cgroup",	      arg1,	   "--cgroup", arg2,
		       "--format", "pprof",	      "-o",	   pprof,      "--format",
		       "folded",   "--folded-prefix", "container", "-o",       folded,
		       NULL},
	    &out, &err);
	unsetenv("ANTIMETAL_PROFILER_CGROUP_WALK");
	for (k = 0; k < 3; k++)
		kill_and_reap(pids[k]);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "profile failed (%d):\n%s", st,
		  err.data ? err.data : "");

	read_owners(pprof, owners, 3, &others);
	for (k = 0; k < 2; k++) {
		cr_expect_gt(owners[k].samples, 0, "no samples of pid %d (cgroup %s)", pids[k],
			     k ? KUBE : DOCKER);
		cr_expect(!owners[k].mixed, "the samples of pid %d disagree on their labels",
			  pids[k]);
		cr_expect_eq(owners[k].ns_pid, 1, "ns_pid of %d: %lld", pids[k],
			     (long long)owners[k].ns_pid);
		cr_expect(strstr(owners[k].cgroup, top + strlen(mount_dir)) == owners[k].cgroup &&
			      strstr(owners[k].cgroup, k ? "/" KUBE : "/" DOCKER),
			  "cgroup label %s", owners[k].cgroup);
	}
	cr_expect_str_eq(owners[0].container, CID_A);
	cr_expect_str_eq(owners[0].pod, "");
	cr_expect_str_eq(owners[1].container, CID_B);
	cr_expect_str_eq(owners[1].pod, POD);
	cr_expect_eq(owners[2].samples, 0, "the sibling cgroup's process was profiled");
	cr_expect_eq(others, 0, "samples of processes outside the cgroups: %lld",
		     (long long)others);

	cr_assert_eq(am_test_read_file(folded, &text), 0);
	cr_expect(strstr(text.data, CID_A ";hot;") && strstr(text.data, CID_B ";hot;"),
		  "folded lines do not start with the containers:\n%.2000s", text.data);
	am_strbuf_free(&text);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	unlink(pprof);
	unlink(folded);
	rmdir(dir);
}

Test(ns_labels, cgroup_subtrees_filter_and_label_the_samples)
{
	subtree_profile("0");
}

/* The same through the fallback that reads the cgroup's ancestors with CO-RE (kernels whose
 * perf_event programs lack bpf_get_current_ancestor_cgroup_id). */
Test(ns_labels, cgroup_subtrees_through_the_kernfs_walk)
{
	subtree_profile("1");
}
