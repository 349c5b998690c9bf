#include "spawn.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_get.h"
#include "testutil.h"

static void drain(int fds[2], struct am_strbuf *bufs[2])
{
	struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
	char tmp[65536];
	int open_fds = 2;

	while (open_fds > 0) {
		int i;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, tmp, sizeof(tmp));
			if (n > 0) {
				if (bufs[i])
					am_strbuf_append(bufs[i], tmp, (size_t)n);
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			close(p[i].fd);
			p[i].fd = -1;
			open_fds--;
		}
	}
}

int am_test_run(char *const argv[], struct am_strbuf *out, struct am_strbuf *err)
{
	int po[2], pe[2], status;
	struct am_strbuf *bufs[2] = {out, err};
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	drain((int[2]){po[0], pe[0]}, bufs);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}

/* PATH opened for output, or a copy of FD (inherited) when PATH is NULL. */
static int open_out(const char *path, int fd)
{
	return path ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : dup(fd);
}

/* In the child: write our pid to CGROUP/cgroup.procs. Returns 0 or -1 with errno set. */
static int join_cgroup(const char *cgroup)
{
	char path[4096];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, "0", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

/* In the child: set up and exec; on failure write errno to REPORT and exit. */
static void child(char *const argv[], const struct am_test_spawn_opts *o, int report)
{
	int fo = open_out(o->out, 1);
	int fe = o->err && o->out && !strcmp(o->err, o->out) ? dup(fo) : open_out(o->err, 2);
	int dn = open("/dev/null", O_RDONLY);
	uid_t uid = o->uid;
	int err;

	if (fo < 0 || fe < 0 || dn < 0)
		goto fail;
	if (o->cgroup && join_cgroup(o->cgroup))
		goto fail;
	if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
		goto fail;
	/* After the credential change, which clears it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	dup2(dn, 0);
	dup2(fo, 1);
	dup2(fe, 2);
	execv(argv[0], argv);
fail:
	err = errno;
	if (write(report, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

pid_t am_test_spawn_opts(char *const argv[], const struct am_test_spawn_opts *o)
{
	int report[2], err;
	ssize_t n;
	pid_t pid;

	/* The write end closes on exec: end of file on the read end is the exec happening. */
	if (pipe2(report, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(report[0]);
		child(argv, o, report[1]);
	}
	close(report[1]);
	do
		n = read(report[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == 0)
		return pid;
	cr_log_error("starting %s: %s", argv[0], n > 0 ? strerror(err) : "no report");
	waitpid(pid, NULL, 0);
	return -1;
}

pid_t am_test_spawn(char *const argv[], const char *dir)
{
	char out[4096], err[4096];
	struct am_test_spawn_opts o = {.out = out, .err = err};

	snprintf(out, sizeof(out), "%s/out.txt", dir);
	snprintf(err, sizeof(err), "%s/err.txt", dir);
	return am_test_spawn_opts(argv, &o);
}

pid_t am_test_start_quiet(char *const argv[])
{
	struct am_test_spawn_opts o = {.out = "/dev/null"};
	pid_t pid = am_test_spawn_opts(argv, &o);

	cr_assert_gt(pid, 0, "cannot start %s", argv[0]);
	return pid;
}

int am_test_wait_exit(pid_t pid, int timeout_ms, int *status)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), st = -1;
	struct pollfd p;

	/* A pidfd turns readable when the process exits: poll on the exit itself. */
	cr_assert_geq(fd, 0, "pidfd_open(%d): %s", pid, strerror(errno));
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
		;
	close(fd);
	if (!(p.revents & POLLIN))
		return -ETIMEDOUT;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	if (status)
		*status = st;
	return 0;
}

void am_test_wait_zombie(pid_t pid)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0)
		cr_assert_eq(errno, EINTR, "waitid(%d): %s", pid, strerror(errno));
}

void am_test_reap(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void am_test_reap_all(pid_t *pids, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		am_test_reap(pids[i]);
		pids[i] = -1;
	}
}

pid_t am_test_spawn_log(char *const argv[], const char *dir, const char *name)
{
	char log[512];
	struct am_test_spawn_opts o = {.out = log, .err = log};
	pid_t pid;

	snprintf(log, sizeof(log), "%s/%s.log", dir, name);
	pid = am_test_spawn_opts(argv, &o);
	cr_assert_gt(pid, 0, "cannot start %s", argv[0]);
	return pid;
}

const char *am_test_log_of(const char *dir, const char *name, struct am_strbuf *b)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.log", dir, name);
	am_strbuf_reset(b);
	am_test_read_file(path, b);
	if (!b->data)
		am_strbuf_puts(b, "");
	return b->data;
}

static bool exited(pid_t pid)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) || info.si_pid;
}

static bool file_has(const char *path, const char *needle)
{
	struct am_strbuf b = {0};
	bool found;

	found = !am_test_read_file(path, &b) && b.data && strstr(b.data, needle);
	am_strbuf_free(&b);
	return found;
}

bool am_test_wait_file_text(const char *path, const char *needle, int timeout_ms, pid_t alive)
{
	long long deadline = am_test_now_ms() + timeout_ms;
	int in = inotify_init1(IN_CLOEXEC), watch = -1;
	bool found;

	/* Woken by each write to the file, so the text is seen as soon as it is written; the
	 * 50 ms bound covers the time before the file exists (nothing to watch yet). */
	cr_assert_geq(in, 0, "inotify_init1: %s", strerror(errno));
	for (;;) {
		long long left = deadline - am_test_now_ms();
		struct pollfd p = {.fd = in, .events = POLLIN};
		char ev[4096];

		if (watch < 0)
			watch = inotify_add_watch(in, path, IN_MODIFY | IN_CLOSE_WRITE);
		found = file_has(path, needle);
		if (found || left <= 0 || (alive > 0 && exited(alive)))
			break;
		if (poll(&p, 1, left < 50 ? (int)left : 50) > 0 && read(in, ev, sizeof(ev)) < 0)
			break;
	}
	close(in);
	return found;
}

void am_test_wait_server(int port, const char *path, int timeout_ms, const char *dir,
			 const char *name)
{
	struct am_http_response r;
	struct am_strbuf log = {0};

	cr_assert(am_http_wait_ok(port, path, timeout_ms, &r),
		  "%s did not answer 200 on :%d%s within %d ms; its log:\n%s", name, port, path,
		  timeout_ms, am_test_log_of(dir, name, &log));
	am_http_response_free(&r);
}
