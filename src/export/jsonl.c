#include "export/jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/json.h"
#include "util/log.h"
#include "util/timefmt.h"

static int open_file(struct am_jsonl *w)
{
	struct stat st;

	w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		int err = -errno;

		am_err("jsonl: cannot open %s: %s", w->path, strerror(errno));
		return err;
	}
	w->size = fstat(w->fd, &st) ? 0 : (uint64_t)st.st_size;
	return 0;
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

int am_jsonl_write(struct am_jsonl *w, const char *line, size_t len)
{
	size_t done = 0;
	int err;

	if (w->rotates && (w->fd < 0 || (w->size > 0 && w->size + len > w->max_bytes))) {
		err = w->fd < 0 ? open_file(w) : rotate(w);
		if (err) {
			w->errors++;
			return err;
		}
	}
	while (done < len) {
		ssize_t n = write(w->fd, line + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
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
