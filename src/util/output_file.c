#include "util/output_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"

const char *am_output_strerror(int err)
{
	if (err == AM_ELINKED)
		return "a symbolic link: refusing to write through it";
	return am_file_strerror(err);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* What PATH is: 1 a regular file or nothing (replace it), 2 something to write in place
 * (device, FIFO, socket, possibly through a link), or -errno. */
static int classify(const char *path)
{
	struct stat ls, st;

	if (lstat(path, &ls))
		return errno == ENOENT ? 1 : -errno;
	if (S_ISDIR(ls.st_mode))
		return -EISDIR;
	if (S_ISREG(ls.st_mode))
		return 1;
	if (!S_ISLNK(ls.st_mode))
		return 2;
	/* /dev/stdout -> /proc/self/fd/1 -> a pipe is fine; -> /etc/passwd is an attack. */
	if (stat(path, &st) || S_ISREG(st.st_mode))
		return -AM_ELINKED;
	return S_ISDIR(st.st_mode) ? -EISDIR : 2;
}

static int write_in_place(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY), err;
	struct stat st;

	if (fd < 0)
		return -errno;
	/* The path may have changed since classify: never write into a regular file here. */
	err = fstat(fd, &st) ? -errno : S_ISREG(st.st_mode) ? -AM_ELINKED : 0;
	if (!err)
		err = write_all(fd, data, len);
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* "DIR/.NAME.XXXXXX" beside PATH. */
static int temp_template(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash)
		n = snprintf(out, outlen, "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1);
	else
		n = snprintf(out, outlen, ".%s.XXXXXX", path);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* A new file of unpredictable name beside PATH, its name in TMP: the fd or -errno. */
static int make_temp(const char *path, char *tmp, size_t tmplen)
{
	int err = temp_template(path, tmp, tmplen), fd;

	if (err)
		return err;
	fd = mkostemp(tmp, O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int am_output_replace(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	mode_t mask;
	int kind = classify(path), fd, err;

	if (kind < 0)
		return kind;
	if (kind == 2)
		return write_in_place(path, data, len);
	fd = make_temp(path, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	/* mkstemp makes 0600; give the file the mode a plain creation would have. The agent is
	 * single-threaded where it writes outputs, so reading the umask this way is safe. */
	mask = umask(0);
	umask(mask);
	err = fchmod(fd, 0666 & ~mask) ? -errno : write_all(fd, data, len);
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int am_output_check(const char *path)
{
	char tmp[PATH_MAX];
	int kind = classify(path), fd;

	if (kind < 0)
		return kind;
	if (kind == 2)
		return access(path, W_OK) ? -errno : 0;
	/* The very file am_output_replace will make: proves the directory takes it. */
	fd = make_temp(path, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	close(fd);
	unlink(tmp);
	return 0;
}

int am_output_dir_check(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st))
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -AM_ELINKED;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}
