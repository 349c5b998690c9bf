#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"

const char *am_test_bpf_unavailable(void)
{
	union bpf_attr attr;
	int fd;

	if (geteuid() != 0)
		return "needs root (CAP_BPF and CAP_PERFMON) to load BPF programs";
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	fd = (int)syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return errno == ENOSYS ? "kernel has no bpf() syscall" : "bpf() map creation refused";
	close(fd);
	return "";
}

static void drain(int fds[2], struct am_strbuf *bufs[2])
{
	struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
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
	struct am_strbuf *bufs[2] = { out, err };
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
	drain((int[2]){ po[0], pe[0] }, bufs);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}

int am_test_spawn(char *const argv[], const char *dir)
{
	char path[4096];
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	int fo = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	snprintf(path, sizeof(path), "%s/err.txt", dir);
	int fe = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int devnull = open("/dev/null", O_RDONLY);

	if (fo < 0 || fe < 0 || devnull < 0)
		_exit(126);
	dup2(devnull, 0);
	dup2(fo, 1);
	dup2(fe, 2);
	execv(argv[0], argv);
	_exit(127);
}

int am_test_start_quiet(char *const argv[])
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

double am_test_now_s(void)
{
	return (double)am_clock_ns(CLOCK_MONOTONIC) / 1e9;
}

long long am_test_now_ms(void)
{
	return (long long)(am_clock_ns(CLOCK_MONOTONIC) / 1000000);
}

void am_test_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

char *am_test_mkdtemp(const char *tag)
{
	char *path;

	if (asprintf(&path, "/tmp/antimetal-test-%s-XXXXXX", tag) < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void am_test_rmtree(const char *path)
{
	if (path && !strncmp(path, "/tmp/antimetal-test-", 20))
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdir_parents(const char *path)
{
	char tmp[4096];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
}

int am_test_write_file(const char *path, const void *data, size_t len)
{
	FILE *f;

	mkdir_parents(path);
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	if (fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

int am_test_read_file(const char *path, struct am_strbuf *b)
{
	char tmp[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		am_strbuf_append(b, tmp, n);
	fclose(f);
	return 0;
}
