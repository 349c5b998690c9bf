/* A refused /dev/kmsg names its true cause, on the real device: `collect kmsg` without
 * CAP_SYSLOG (dropped from the bounding set before the exec) says the capability is needed;
 * with CAP_SYSLOG held but in a v1 devices cgroup that denies char 1:11 (what a container
 * runtime gives a container that is not privileged) it says the device cgroup refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define AGENT	   AM_TEST_BUILD_DIR "/antimetal-agent"
#define DEVICES_V1 "/sys/fs/cgroup/devices"

static int dmesg_restrict(void)
{
	FILE *f = fopen("/proc/sys/kernel/dmesg_restrict", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Run ARGV; its stderr in ERR. Returns the exit status. */
static int run(char *const argv[], struct am_strbuf *err)
{
	struct am_strbuf out = {0};
	int st = am_test_run(argv, &out, err);

	am_strbuf_free(&out);
	if (!err->data)
		am_strbuf_puts(err, "");
	cr_assert(st != -1 && WIFEXITED(st), "%s did not exit normally", argv[0]);
	return WEXITSTATUS(st);
}

Test(kmsg_refusal, without_cap_syslog_names_the_capability)
{
	char *argv[] = {
	    "/usr/bin/setpriv", "--bounding-set=-syslog", AGENT, "collect", "kmsg", NULL};
	struct am_strbuf err = {0};

	if (geteuid() != 0)
		cr_skip_test("skipped: needs root (to hold every capability but CAP_SYSLOG)");
	if (access(argv[0], X_OK))
		cr_skip_test("skipped: no %s to drop CAP_SYSLOG with", argv[0]);
	if (dmesg_restrict() != 1)
		cr_skip_test("skipped: kernel.dmesg_restrict is not 1: /dev/kmsg needs no "
			     "CAP_SYSLOG here");
	cr_assert_neq(run(argv, &err), 0, "collect kmsg succeeded without CAP_SYSLOG");
	cr_assert(strstr(err.data, "cannot open /dev/kmsg: Operation not permitted (needs "
				   "CAP_SYSLOG)"),
		  "%s", err.data);
	am_strbuf_free(&err);
}

Test(kmsg_refusal, device_cgroup_refusal_is_named_when_cap_syslog_is_held)
{
	char dir[128], procs[160], deny[160], script[512];
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct am_strbuf err = {0};
	struct stat sb;
	int st;

	if (geteuid() != 0)
		cr_skip_test("skipped: needs root (CAP_SYSLOG, and a devices cgroup to make)");
	if (stat(DEVICES_V1 "/devices.deny", &sb))
		cr_skip_test("skipped: no cgroup v1 devices controller at %s", DEVICES_V1);
	snprintf(dir, sizeof(dir), DEVICES_V1 "/am-kmsg-refusal-%d", (int)getpid());
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	snprintf(deny, sizeof(deny), "%s/devices.deny", dir);
	cr_assert_eq(mkdir(dir, 0755), 0, "mkdir %s: %s", dir, strerror(errno));
	/* /dev/kmsg is char 1:11: denied as runc and crun deny it to unprivileged containers. */
	if (am_test_write_file(deny, "c 1:11 rwm", 10)) {
		rmdir(dir);
		cr_assert_fail("cannot write %s", deny);
	}
	snprintf(script, sizeof(script), "echo $$ >%s && exec %s collect kmsg", procs, AGENT);
	st = run(argv, &err);
	rmdir(dir);
	cr_assert_neq(st, 0, "collect kmsg succeeded in a devices cgroup denying 1:11");
	cr_assert(strstr(err.data, "cannot open /dev/kmsg: Operation not permitted (CAP_SYSLOG "
				   "is held: the device cgroup refuses /dev/kmsg"),
		  "%s", err.data);
	cr_assert_null(strstr(err.data, "needs CAP_SYSLOG"), "%s", err.data);
	am_strbuf_free(&err);
}
