#include "collectors/parse/kept_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "collectors/parse/procfs_read.h"
#include "util/file.h"
#include "util/log.h"

bool am_kept_pseudo_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf))
		return false;
	return sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC ||
	       sf.f_type == CGROUP_SUPER_MAGIC || sf.f_type == CGROUP2_SUPER_MAGIC;
}

int am_kept_pread(int fd, bool to_eof, struct am_strbuf *b)
{
	size_t want = 4096;
	bool seekable = true;
	ssize_t n;

	am_strbuf_reset(b);
	for (;;) {
		if (am_strbuf_reserve(b, want))
			return -ENOMEM;
		n = seekable ? pread(fd, b->data + b->len, want, (off_t)b->len)
			     : read(fd, b->data + b->len, want);
		if (n < 0 && errno == ESPIPE && seekable && !b->len) {
			seekable = false; /* a FIFO: read what it has without waiting */
			continue;
		}
		if (n < 0) {
			int err = -errno;

			b->len = 0;
			b->data[0] = '\0';
			return err;
		}
		b->len += (size_t)n;
		b->data[b->len] = '\0';
		if (!n || (!to_eof && (size_t)n < want))
			return 0;
		if (b->len > AM_PROCFS_MAX_FILE)
			return -EFBIG;
		if ((size_t)n == want)
			want *= 2;
	}
}

bool am_kept_gone(int err)
{
	/* ENODEV: kernfs deactivated the file (cgroup or interface removed); ESRCH: the process
	 * of a /proc/PID file exited; ENOENT, ESTALE: anything else that unlinked it. */
	return err == -ENODEV || err == -ESRCH || err == -ENOENT || err == -ESTALE;
}

int am_kept_read(int *fd, int dir, const char *name, bool keep, struct am_strbuf *b)
{
	int err, f;

	if (*fd >= 0) {
		err = am_kept_pread(*fd, false, b);
		if (!am_kept_gone(err))
			return err;
		close(*fd);
		*fd = -1;
	}
	f = openat(dir, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (f < 0)
		return -errno;
	err = am_kept_pread(f, false, b);
	/* A file that refuses its read for now (a down interface's carrier: EINVAL) is kept too:
	 * the next read says when it answers. */
	if (keep && (!err || err == -EINVAL || err == -EOPNOTSUPP || err == -ENODATA))
		*fd = f;
	else
		close(f);
	return err;
}

int am_kept_paths_read(struct am_kept_paths *set, const char *root, const char *rel,
		       struct am_strbuf *buf)
{
	int i, fd, err;

	for (i = 0; i < set->n && strcmp(set->v[i].rel, rel); i++)
		;
	if (i < set->n && set->v[i].fd >= 0) {
		err = am_kept_pread(set->v[i].fd, true, buf);
		if (!am_kept_gone(err))
			return err;
		close(set->v[i].fd);
		set->v[i].fd = -1;
	}
	fd = am_procfs_open(root, rel);
	if (fd < 0)
		return fd;
	err = am_kept_pread(fd, true, buf);
	if (i == set->n && i < AM_KEPT_PATHS_MAX && strlen(rel) < sizeof(set->v[i].rel)) {
		strcpy(set->v[i].rel, rel);
		set->v[i].fd = -1;
		set->n++;
	}
	if (!err && i < set->n && am_kept_pseudo_fs(fd))
		set->v[i].fd = fd;
	else
		close(fd);
	return err;
}

void am_kept_paths_close(struct am_kept_paths *set)
{
	int i;

	for (i = 0; i < set->n; i++)
		if (set->v[i].fd >= 0)
			close(set->v[i].fd);
	set->n = 0;
}

int am_kept_paths_read_logged(struct am_kept_paths *set, const char *root, const char *rel,
			      struct am_strbuf *buf, const char *who, bool *warned)
{
	int err = am_kept_paths_read(set, root, rel, buf);

	if (!err) {
		*warned = false;
		return 0;
	}
	if (!*warned)
		am_warn("%s: cannot read %s/%s: %s", who, root, rel, am_file_strerror(-err));
	*warned = true;
	return err;
}

int am_kept_paths_read_net(struct am_kept_paths *set, const char *root, const char *name,
			   struct am_strbuf *buf, const char *who, bool *warned)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "1/net/%s", name);
	if (!am_kept_paths_read(set, root, rel, buf)) {
		*warned = false;
		return 0;
	}
	snprintf(rel, sizeof(rel), "self/net/%s", name);
	return am_kept_paths_read_logged(set, root, rel, buf, who, warned);
}
