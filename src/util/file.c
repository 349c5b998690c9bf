#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

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

int am_file_read(const char *path, size_t max, struct am_strbuf *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = read_fd(fd, max, buf);
	close(fd);
	return err;
}

int am_file_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		err = -EIO;
	fclose(f);
	return err;
}
