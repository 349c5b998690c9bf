#include "export/jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/json.h"
#include "util/file.h"
#include "util/log.h"
#include "util/output_file.h"
#include "util/timefmt.h"

/* O_NOFOLLOW: the agent runs as root and the file often sits in a shared directory, where a
 * planted link would make it append into (or create) a file of another user's choosing. A
 * rotated file must be a regular file: rotation renames it. O_NONBLOCK keeps a FIFO planted at
 * the path from blocking the open; it is then refused. */
static int open_file(struct am_jsonl *w)
{
	struct stat st;
	int err = 0;

	w->fd = open(w->path,
		     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
		     0640);
	if (w->fd < 0)
		err = errno == ELOOP ? -AM_ELINKED : -errno;
	else if (fstat(w->fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -AM_ENOTREG;
	if (err) {
		am_err("jsonl: cannot open %s: %s", w->path, am_output_strerror(-err));
		if (w->fd >= 0)
			close(w->fd);
		w->fd = -1;
		return err;
	}
	w->size = (uint64_t)st.st_size;
	return 0;
}

/* A file deleted under the agent (st_nlink 0) would swallow every line until the next reload:
 * start a new one at the path instead. */
static int reopen_if_deleted(struct am_jsonl *w)
{
	struct stat st;

	if (fstat(w->fd, &st) || st.st_nlink > 0)
		return 0;
	am_warn("jsonl: %s was deleted; writing to a new file at that path", w->path);
	close(w->fd);
	w->fd = -1;
	w->reopened++;
	return open_file(w);
}

int am_jsonl_open(struct am_jsonl *w, const char *path, uint64_t max_bytes, unsigned keep)
{
	*w = (struct am_jsonl){.fd = -1, .max_bytes = max_bytes, .keep = keep};
	if (!strcmp(path, "-")) {
		w->fd = STDOUT_FILENO;
		return 0;
	}
	w->path = strdup(path);
	if (!w->path)
		return -ENOMEM;
	w->rotates = true;
	return open_file(w);
}

/* path.N-1 -> path.N .. path -> path.1; the oldest beyond KEEP is removed. */
static int rotate(struct am_jsonl *w)
{
	size_t n = strlen(w->path) + 16;
	char *from = malloc(n), *to = malloc(n);
	unsigned i;
	int err = 0;

	if (!from || !to) {
		free(from);
		free(to);
		return -ENOMEM;
	}
	close(w->fd);
	w->fd = -1;
	if (w->keep == 0) {
		unlink(w->path);
	} else {
		snprintf(to, n, "%s.%u", w->path, w->keep);
		unlink(to);
		for (i = w->keep; i > 1; i--) {
			snprintf(from, n, "%s.%u", w->path, i - 1);
			snprintf(to, n, "%s.%u", w->path, i);
			if (rename(from, to) && errno != ENOENT)
				am_warn("jsonl: cannot rename %s: %s", from, strerror(errno));
		}
		snprintf(to, n, "%s.1", w->path);
		if (rename(w->path, to) && errno != ENOENT) {
			am_warn("jsonl: cannot rename %s: %s", w->path, strerror(errno));
			unlink(w->path);
		}
	}
	free(from);
	free(to);
	err = open_file(w);
	return err;
}

/* A write that stopped part-way (ENOSPC) leaves half a line: cut the file back to END, the
 * last line boundary, so readers never see it and the next line does not run on from it. */
static void cut_partial(struct am_jsonl *w, off_t end)
{
	if (end < 0 || !ftruncate(w->fd, end))
		return;
	if (!w->failing)
		am_err("jsonl: cannot cut %s back to its last complete line: %s", w->path,
		       strerror(errno));
}

int am_jsonl_write(struct am_jsonl *w, const char *line, size_t len)
{
	size_t done = 0;
	off_t end = -1;
	int err;

	if (w->rotates && w->fd >= 0) {
		err = reopen_if_deleted(w);
		if (err) {
			w->errors++;
			return err;
		}
	}
	if (w->rotates && (w->fd < 0 || (w->size > 0 && w->size + len > w->max_bytes))) {
		err = w->fd < 0 ? open_file(w) : rotate(w);
		if (err) {
			w->errors++;
			return err;
		}
	}
	if (w->rotates)
		end = lseek(w->fd, 0, SEEK_END);
	while (done < len) {
		ssize_t n = write(w->fd, line + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			if (done)
				cut_partial(w, end);
			/* Log the first loss of a streak only: a full disk must not flood stderr.
			 */
			if (!w->failing)
				am_err("jsonl: write to %s failed: %s",
				       w->path ? w->path : "stdout", strerror(-err));
			w->errors++;
			w->failing = true;
			return err;
		}
		done += (size_t)n;
	}
	w->size += len;
	w->lines++;
	w->failing = false;
	return 0;
}

void am_jsonl_close(struct am_jsonl *w)
{
	if (w->fd >= 0 && w->fd != STDOUT_FILENO)
		close(w->fd);
	free(w->path);
	*w = (struct am_jsonl){.fd = -1};
}

void am_jsonl_begin(struct am_strbuf *b, const char *type, const char *host, uint64_t ts_ns)
{
	am_strbuf_putc(b, '{');
	am_json_kv_str(b, "type", type, true);
	am_json_kv_str(b, "host", host, false);
	am_json_key(b, "timestamp", false);
	am_strbuf_putc(b, '"');
	am_rfc3339_ns(b, ts_ns);
	am_strbuf_putc(b, '"');
	am_json_kv_u64(b, "timestamp_ns", ts_ns, false);
}

void am_jsonl_end(struct am_strbuf *b)
{
	am_strbuf_puts(b, "}\n");
}
