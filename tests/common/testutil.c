#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
		return errno == ENOSYS ? "kernel has no bpf() syscall"
				       : "bpf() map creation refused";
	close(fd);
	return "";
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

size_t am_test_line_with(const char *text, const char *needle, const char **line)
{
	const char *l = strstr(text, needle), *eol;

	cr_assert_not_null(l, "no line with %s", needle);
	while (l > text && l[-1] != '\n')
		l--;
	eol = strchr(l, '\n');
	cr_assert_not_null(eol, "the line with %s is not whole", needle);
	*line = l;
	return (size_t)(eol - l);
}

void am_test_line_has(const char *line, size_t len, const char *want)
{
	cr_assert_not_null(memmem(line, len, want, strlen(want)), "no %s in: %.*s", want, (int)len,
			   line);
}

int am_test_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}
