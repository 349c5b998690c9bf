/* The DaemonSet's view of a node without a cluster: the agent runs in new mount and PID
 * namespaces with the host's root bind-mounted read-only where the manifest mounts it,
 * the manifest's ConfigMap (paths.rootfs pointed there) and only the manifest's capabilities
 * (setpriv bounding set). It must see the host's processes (its own /proc shows only its
 * namespace), the host's cgroups and the host's execs, with host pids, and answer /readyz.
 * The manifests themselves are checked by tests/packaging/check_manifests.py. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_get.h"
#include "testutil.h"

#define AGENT AM_TEST_BUILD_DIR "/antimetal-agent"
#define CHECK AM_TEST_SRC_DIR "/tests/packaging/check_manifests.py"
/* The DaemonSet's capabilities (packaging/kubernetes/daemonset.yaml), as setpriv spells them. */
#define CAPS "-all,+bpf,+perfmon,+syslog,+sys_ptrace,+dac_read_search,+checkpoint_restore"

static pid_t ns_pid = -1;
static char *dir;

static void setup(void)
{
	dir = am_test_mkdtemp("dsview");
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	if (ns_pid > 0) {
		/* --kill-child: the namespace's init, and with it everything in it, dies too. */
		kill(ns_pid, SIGKILL);
		waitpid(ns_pid, NULL, 0);
	}
	am_test_rmtree(dir);
	free(dir);
}

static bool python_yaml(void)
{
	char *argv[] = {"/usr/bin/python3", "-c", "import yaml", NULL};

	return !access(argv[0], X_OK) && am_test_run(argv, NULL, NULL) == 0;
}

Test(manifests, parse_and_use_only_what_the_agent_has, .timeout = 60)
{
	struct am_strbuf out = {0}, err = {0};
	char *argv[] = {"/usr/bin/python3", CHECK, AGENT, AM_TEST_SRC_DIR, NULL};
	int status;

	if (!python_yaml())
		cr_skip_test("skipped: python3 with the yaml module (python3-yaml) is missing");
	status = am_test_run(argv, &out, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s%s", out.data ? out.data : "",
		  err.data ? err.data : "");
	cr_log_info("%s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

/* The ConfigMap's config.yaml, with rootfs, address, port and outputs set for this test. */
static void write_config(int port)
{
	char *argv[] = {"/usr/bin/python3",
			"-c",
			"import sys, yaml\n"
			"docs = yaml.safe_load(open(sys.argv[1]))\n"
			"c = yaml.safe_load(docs['data']['config.yaml'])\n"
			"c['paths']['rootfs'] = sys.argv[2] + '/host'\n"
			"c['http'].update(address='127.0.0.1', port=int(sys.argv[3]))\n"
			"c['jsonl']['path'] = sys.argv[2] + '/agent.jsonl'\n"
			"c['collectors']['interval'] = '1s'\n"
			"c['profiler']['enabled'] = False\n"
			"open(sys.argv[2] + '/config.yaml', 'w').write(yaml.safe_dump(c))\n",
			AM_TEST_SRC_DIR "/packaging/kubernetes/configmap.yaml",
			dir,
			NULL,
			NULL};
	char p[16];
	int status;

	snprintf(p, sizeof(p), "%d", port);
	argv[5] = p;
	status = am_test_run(argv, NULL, NULL);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cannot derive the config");
}

/* unshare: private mounts, the host root at DIR/host read-only (the manifest's host-root
 * volume), then the namespace's own /proc, so only DIR/host/proc shows the host's pids. */
static void start_in_namespaces(void)
{
	char script[2048];
	char *argv[] = {"/usr/bin/unshare", "--mount", "--pid", "--fork", "--kill-child",
			"/bin/sh",	    "-c",      script,	NULL};

	snprintf(script, sizeof(script),
		 "set -e; mount --make-rprivate /; mkdir -p %s/host;"
		 "mount --rbind / %s/host; mount -o remount,bind,ro %s/host;"
		 "mount -t proc proc /proc;"
		 "echo nsprocs=$(ls /proc | grep -c '^[0-9]') > %s/ns.txt;"
		 "exec setpriv --bounding-set=" CAPS " " AGENT " run --config %s/config.yaml",
		 dir, dir, dir, dir, dir);
	ns_pid = am_test_spawn(argv, dir);
	cr_assert_gt(ns_pid, 0);
}

static int get(int port, const char *path, struct am_http_response *r)
{
	return am_http_get("127.0.0.1", port, path, 3000, r);
}

static bool file_has(const char *name, const char *needle, int timeout_ms)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return am_test_wait_file_text(path, needle, timeout_ms, 0);
}

static double sample(const char *text, const char *series)
{
	const char *p = strstr(text, series);

	return p ? strtod(p + strlen(series), NULL) : -1;
}

Test(daemonset_view, sees_host_processes_cgroups_and_execs, .init = setup, .fini = teardown,
     .timeout = 90)
{
	struct am_http_response r;
	struct am_strbuf err = {0};
	char marker[96], needle[64], *argv[] = {"/bin/true", marker, NULL};
	long long end;
	int port = am_http_free_port(), status;
	pid_t child;

	AM_REQUIRE_BPF();
	if (!python_yaml())
		cr_skip_test("skipped: python3 with the yaml module (python3-yaml) is missing");
	write_config(port);
	start_in_namespaces();
	end = am_test_now_ms() + 20000;
	do {
		am_test_sleep_ms(200);
		status = get(port, "/readyz", &r);
		if (!status && r.status == 200)
			break;
		if (!status)
			am_http_response_free(&r);
	} while (am_test_now_ms() < end);
	if (status || r.status != 200) {
		char path[512];

		snprintf(path, sizeof(path), "%s/err.txt", dir);
		am_test_read_file(path, &err);
		cr_assert_fail("/readyz never answered 200; agent stderr:\n%s",
			       err.data ? err.data : "");
	}
	cr_log_info("/readyz:\n%s", r.body.data);
	am_http_response_free(&r);
	cr_assert(file_has("err.txt", "execsnoop: tracing every exec", 1000));
	cr_assert(file_has("err.txt", "oom: watching OOM kills (bpf)", 1000));

	/* Execs of the host, with host pids. */
	snprintf(marker, sizeof(marker), "dsview-%d", getpid());
	child = fork();
	if (child == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	snprintf(needle, sizeof(needle), "\"pid\":%d,", child);
	cr_assert(file_has("agent.jsonl", marker, 5000), "no exec event for %s", marker);
	cr_assert(file_has("agent.jsonl", needle, 1000), "the exec event lacks host pid %d", child);

	cr_assert_eq(get(port, "/metrics", &r), 0);
	/* Host processes: the namespace itself holds a handful. */
	{
		double n = sample(r.body.data, "\nantimetal_processes ");

		cr_log_info("processes seen: %.0f", n);
		cr_assert_gt(n, 20, "the agent saw %.0f processes: not the host's", n);
	}
	/* Host cgroups: through the host's mount table under the root. */
	cr_assert_not_null(strstr(r.body.data, "antimetal_cgroup_"), "no cgroup metrics");
	cr_assert_not_null(strstr(r.body.data, "cgroup=\"/\""));
	am_http_response_free(&r);
	cr_assert(file_has("ns.txt", "nsprocs=", 1000));
	am_strbuf_free(&err);
}
