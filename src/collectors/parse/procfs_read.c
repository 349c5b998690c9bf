#include "collectors/parse/procfs_read.h"
#include "collectors/parse/parse_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/system/collector.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"

void am_roots_store(struct am_roots_buf *dst, const struct am_collect_roots *src)
{
	snprintf(dst->procfs, sizeof(dst->procfs), "%s",
		 src && src->procfs ? src->procfs : "/proc");
	snprintf(dst->sysfs, sizeof(dst->sysfs), "%s", src && src->sysfs ? src->sysfs : "/sys");
	snprintf(dst->devfs, sizeof(dst->devfs), "%s", src && src->devfs ? src->devfs : "/dev");
	snprintf(dst->textfile, sizeof(dst->textfile), "%s",
		 src && src->textfile ? src->textfile : "");
	dst->clock_ns = src ? src->clock_ns : NULL;
	dst->clock_ctx = src ? src->clock_ctx : NULL;
}

uint64_t am_roots_now_ns(const struct am_roots_buf *r)
{
	return r->clock_ns ? r->clock_ns(r->clock_ctx) : am_clock_ns(CLOCK_MONOTONIC);
}

int am_procfs_path(char *path, size_t pathlen, const char *root, const char *rel)
{
	int n = snprintf(path, pathlen, "%s/%s", root, rel);

	return n < 0 || (size_t)n >= pathlen ? -ENAMETOOLONG : 0;
}

int am_procfs_open(const char *root, const char *rel)
{
	char path[4096];
	int err = am_procfs_path(path, sizeof(path), root, rel);

	return err ? err : am_file_open_regular(path);
}

int am_procfs_read(const char *root, const char *rel, struct am_strbuf *buf)
{
	char path[4096];
	int err;

	err = am_procfs_path(path, sizeof(path), root, rel);
	if (err)
		return err;
	return am_file_read(path, AM_PROCFS_MAX_FILE, buf);
}

int am_procfs_read_logged(const char *root, const char *rel, struct am_strbuf *buf, const char *who,
			  bool *warned)
{
	int err = am_procfs_read(root, rel, buf);

	if (!err) {
		*warned = false;
		return 0;
	}
	if (!*warned)
		am_warn("%s: cannot read %s/%s: %s", who, root, rel, am_file_strerror(-err));
	*warned = true;
	return err;
}

int am_procfs_read_net(const char *root, const char *name, struct am_strbuf *buf, const char *who,
		       bool *warned)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "1/net/%s", name);
	if (!am_procfs_read(root, rel, buf)) {
		*warned = false;
		return 0;
	}
	snprintf(rel, sizeof(rel), "self/net/%s", name);
	return am_procfs_read_logged(root, rel, buf, who, warned);
}

int am_procfs_read_line(const char *root, const char *rel, char *out, size_t outlen)
{
	ssize_t n;
	int fd, err;

	if (!outlen)
		return -EINVAL;
	fd = am_procfs_open(root, rel);
	if (fd < 0)
		return fd;
	n = read(fd, out, outlen - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
	return 0;
}

int am_procfs_read_u64(const char *root, const char *rel, uint64_t *v)
{
	char line[64];
	const char *p = line;
	int err = am_procfs_read_line(root, rel, line, sizeof(line));

	if (err)
		return err;
	if (am_parse_u64(&p, v) || !am_at_eol(p))
		return -EINVAL;
	return 0;
}
