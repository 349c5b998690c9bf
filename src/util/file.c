#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *am_file_strerror(int err)
{
	if (err == AM_ENOTREG)
		return "not a regular file (a FIFO, socket or device)";
	return strerror(err);
}

/* The O_NONBLOCK only matters for the open itself (a FIFO's open waits for a writer); reads of
 * a regular file never return EAGAIN, so the flag can stay. */
static int check_type(int fd, bool chr_too)
{
	struct stat st;
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (S_ISDIR(st.st_mode))
		err = -EISDIR;
	else if (!S_ISREG(st.st_mode) && !(chr_too && S_ISCHR(st.st_mode)))
		err = -AM_ENOTREG;
	if (!err)
		return fd;
	close(fd);
	return err;
}

int am_file_open_regular(const char *path)
{
	return check_type(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), false);
}

int am_file_openat_regular(int dfd, const char *rel)
{
	return check_type(openat(dfd, rel, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), false);
}

FILE *am_file_fopen_regular(const char *path)
{
	int fd = am_file_open_regular(path);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, "re");
	if (!f) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
}

static int read_fd(int fd, size_t max, struct am_strbuf *buf)
{
	char chunk[65536];
	ssize_t n;

	am_strbuf_reset(buf);
	am_strbuf_append(buf, "", 0);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		if (buf->len + (size_t)n > max)
			return -EFBIG;
		am_strbuf_append(buf, chunk, (size_t)n);
		if (buf->oom)
			return -ENOMEM;
	}
	return buf->oom ? -ENOMEM : 0;
}

static int read_path(const char *path, size_t max, struct am_strbuf *buf, bool chr_too)
{
	int fd = check_type(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), chr_too), err;

	if (fd < 0)
		return fd;
	err = read_fd(fd, max, buf);
	close(fd);
	return err;
}

int am_file_read(const char *path, size_t max, struct am_strbuf *buf)
{
	return read_path(path, max, buf, false);
}

int am_file_read_or_chr(const char *path, size_t max, struct am_strbuf *buf)
{
	return read_path(path, max, buf, true);
}

int am_file_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = am_file_fopen_regular(path);
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		err = -EIO;
	fclose(f);
	return err;
}
