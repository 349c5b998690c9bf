/* kmsg: kernel log records from /dev/kmsg, counted per severity; the last ones are kept for
 * the daemon's event stream (kmsg.h). The device returns one record per read() and needs a
 * buffer of a whole record; EPIPE means the ring overwrote records before we read them. */
#include "collectors/system/kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/procfs_read.h"
#include "core/capabilities.h"
#include "util/file.h"
#include "util/log.h"

#define RECORD_BUF 8192
/* Bound one cycle's work: a flood is read over several cycles rather than in one. */
#define MAX_RECORDS_PER_CYCLE 20000

struct kmsg_state {
	struct am_roots_buf roots;
	int fd;
	int regular; /* a fixture file, not the device: records are lines */
	bool file_done;
	char *buf; /* RECORD_BUF bytes */
	uint64_t counts[8], overwritten, lost, malformed;
	uint64_t last_seq;
	int have_seq;
	struct am_kmsg_record recent[AM_KMSG_RECENT];
	size_t nrecent, head; /* ring: next slot to write */
	struct am_strbuf file;
};

static int kmsg_init(void **state, const struct am_collect_roots *roots)
{
	struct kmsg_state *st = calloc(1, sizeof(*st));
	char path[600];
	struct stat sb;
	int err;

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	snprintf(path, sizeof(path), "%s/kmsg", st->roots.devfs);
	st->buf = malloc(RECORD_BUF);
	st->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (!st->buf || st->fd < 0) {
		err = st->buf ? -errno : -ENOMEM;
		am_warn("kmsg: cannot open %s: %s%s", path, strerror(-err),
			am_kmsg_refusal_hint_self(err));
		free(st->buf);
		free(st);
		return err;
	}
	/* /dev/kmsg is a character device; a fixture tree holds a regular file. Anything else (a
	 * FIFO planted in a --devfs tree) is refused rather than read as a record stream. */
	if (fstat(st->fd, &sb) || !(S_ISREG(sb.st_mode) || S_ISCHR(sb.st_mode))) {
		am_warn("kmsg: %s is not a character device or a regular file", path);
		close(st->fd);
		free(st->buf);
		free(st);
		return -AM_ENOTREG;
	}
	st->regular = S_ISREG(sb.st_mode);
	*state = st;
	return 0;
}

static void take(struct kmsg_state *st, const char *rec, size_t len)
{
	struct am_kmsg_record r;

	if (am_parse_kmsg_record(rec, len, &r, NULL)) {
		st->malformed++;
		return;
	}
	if (st->have_seq && r.seq > st->last_seq + 1)
		st->lost += r.seq - st->last_seq - 1;
	st->last_seq = r.seq;
	st->have_seq = 1;
	st->counts[r.severity]++;
	st->recent[st->head] = r;
	st->head = (st->head + 1) % AM_KMSG_RECENT;
	if (st->nrecent < AM_KMSG_RECENT)
		st->nrecent++;
}

static int read_device(struct kmsg_state *st)
{
	int i;

	for (i = 0; i < MAX_RECORDS_PER_CYCLE; i++) {
		ssize_t n = read(st->fd, st->buf, RECORD_BUF);

		if (n > 0) {
			take(st, st->buf, (size_t)n);
			continue;
		}
		if (n == 0 || errno == EAGAIN)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EPIPE) {
			/* The reader position was overwritten; the next read resumes at the
			 * oldest record still there. */
			st->overwritten++;
			continue;
		}
		return -errno;
	}
	return 0;
}

/* A fixture file: whole content, records are lines, continuation lines start with a space. */
static int read_regular(struct kmsg_state *st)
{
	const char *line, *next;
	int err;

	err = am_procfs_read(st->roots.devfs, "kmsg", &st->file);
	if (err)
		return err;
	st->file_done = true;
	for (line = st->file.data; line && *line; line = next) {
		next = am_next_line(line);
		if (*line == ' ' || *line == '\n')
			continue;
		take(st, line, next ? (size_t)(next - line) : strlen(line));
	}
	return 0;
}

static int kmsg_collect(void *state, struct am_metric_set *out)
{
	struct kmsg_state *st = state;
	int i, err;

	if (st->regular) {
		/* A file has no reader position: count it once. */
		err = st->file_done ? 0 : read_regular(st);
	} else {
		err = read_device(st);
	}
	if (err)
		am_warn("kmsg: reading %s/kmsg: %s", st->roots.devfs, strerror(-err));
	for (i = 0; i < 8; i++)
		am_metric_add(out,
			      AM_METRIC_DESC(.name = "antimetal_kmsg_records_total",
					     .help = "Kernel log records read, by severity.",
					     .type = AM_METRIC_COUNTER, .labels = {"severity"}),
			      (double)st->counts[i], "severity", am_kmsg_severity_name(i), NULL);
	am_metric_add(
	    out,
	    AM_METRIC_DESC(.name = "antimetal_kmsg_overwritten_total",
			   .help =
			       "Times the kernel overwrote records before they were read (EPIPE).",
			   .type = AM_METRIC_COUNTER),
	    (double)st->overwritten, NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_kmsg_lost_records_total",
				     .help = "Records skipped, from gaps in sequence numbers.",
				     .type = AM_METRIC_COUNTER),
		      (double)st->lost, NULL);
	am_metric_add(out,
		      AM_METRIC_DESC(.name = "antimetal_kmsg_malformed_records_total",
				     .help = "Records that did not parse.",
				     .type = AM_METRIC_COUNTER),
		      (double)st->malformed, NULL);
	return err;
}

size_t am_kmsg_recent(void *state, uint64_t after_seq, struct am_kmsg_record *out, size_t max)
{
	struct kmsg_state *st = state;
	size_t i, n = 0, start = (st->head + AM_KMSG_RECENT - st->nrecent) % AM_KMSG_RECENT;

	for (i = 0; i < st->nrecent && n < max; i++) {
		const struct am_kmsg_record *r = &st->recent[(start + i) % AM_KMSG_RECENT];

		if (r->seq > after_seq)
			out[n++] = *r;
	}
	return n;
}

static void kmsg_destroy(void *state)
{
	struct kmsg_state *st = state;

	if (!st)
		return;
	if (st->fd >= 0)
		close(st->fd);
	free(st->buf);
	am_strbuf_free(&st->file);
	free(st);
}

const struct am_collector am_collector_kmsg = {
    .name = "kmsg",
    .init = kmsg_init,
    .collect = kmsg_collect,
    .destroy = kmsg_destroy,
};
