/* /dev/kmsg returns one whole record per read() ("PRI,SEQ,TS_US,FLAGS;text\n" then " KEY=value"
 * dictionary lines) into a buffer big enough for it, EAGAIN when none is waiting, and EPIPE when
 * the ring overwrote the reader's position (the next read resumes at the oldest record left).
 * The text escapes control bytes and backslash as \xNN: undone here, so exporters get the
 * bytes the kernel logged. */
#include "collectors/system/kmsg_follow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/parse/parsers.h"
#include "core/capabilities.h"
#include "util/clock.h"
#include "util/log.h"

/* The kernel's records are at most a few KiB (PRINTK_MESSAGE_MAX 2048 plus the dictionary). */
#define RECORD_BUF   8192
#define MAX_PER_CALL 4096

struct am_kmsg_follow {
	int fd;
	am_kmsg_follow_cb cb;
	void *ctx;
	bool have_seq;
	uint64_t skip_through; /* AM_KMSG_AFTER_SEQ: records up to here were seen already */
	bool skipping;
	struct am_kmsg_follow_stats st;
	char buf[RECORD_BUF];
	char text[RECORD_BUF];
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The text after ';' up to the end of its line, \xNN escapes undone, into OUT. */
static size_t unescape(const char *p, const char *end, char *out)
{
	size_t n = 0;

	while (p < end && *p != '\n') {
		if (p[0] == '\\' && end - p >= 4 && p[1] == 'x' && hexval(p[2]) >= 0 &&
		    hexval(p[3]) >= 0) {
			out[n++] = (char)(hexval(p[2]) << 4 | hexval(p[3]));
			p += 4;
		} else {
			out[n++] = *p++;
		}
	}
	return n;
}

static void take(struct am_kmsg_follow *f, const char *rec, size_t len, int64_t real_off)
{
	struct am_kmsg_record r;
	struct am_kmsg_event e;
	const char *semi = memchr(rec, ';', len);

	if (!semi || am_parse_kmsg_record(rec, len, &r, NULL)) {
		f->st.malformed++;
		return;
	}
	if (f->skipping && r.seq <= f->skip_through)
		return;
	f->skipping = false;
	if (f->have_seq && r.seq > f->st.last_seq + 1)
		f->st.lost += r.seq - f->st.last_seq - 1;
	f->have_seq = true;
	f->st.last_seq = r.seq;
	e.seq = r.seq;
	e.ts_boot_us = r.ts_usec;
	e.ts_real_ns = r.ts_usec * 1000 + (uint64_t)real_off;
	e.severity = r.severity;
	e.facility = r.facility;
	e.text = f->text;
	e.len = unescape(semi + 1, rec + len, f->text);
	f->st.records++;
	f->cb(&e, f->ctx);
}

int am_kmsg_follow_open(const struct am_kmsg_follow_opts *o, struct am_kmsg_follow **out)
{
	struct am_kmsg_follow *f;
	char path[600];
	int err;

	snprintf(path, sizeof(path), "%s/kmsg", o->devfs && *o->devfs ? o->devfs : "/dev");
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->cb = o->cb;
	f->ctx = o->ctx;
	f->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (f->fd < 0) {
		err = -errno;
		am_warn("kmsg: cannot open %s: %s%s", path, strerror(-err),
			am_kmsg_refusal_hint_self(err));
		free(f);
		return err;
	}
	/* A new reader starts at the oldest record in the ring; SEEK_END moves it past the last. */
	if (o->start == AM_KMSG_FROM_END && lseek(f->fd, 0, SEEK_END) < 0) {
		err = -errno;
		am_warn("kmsg: cannot seek to the end of %s: %s", path, strerror(-err));
		close(f->fd);
		free(f);
		return err;
	}
	if (o->start == AM_KMSG_AFTER_SEQ) {
		f->skipping = true;
		f->skip_through = o->after_seq;
		/* Records between the resume point and the oldest one left are lost. */
		f->have_seq = true;
		f->st.last_seq = o->after_seq;
	}
	*out = f;
	return 0;
}

int am_kmsg_follow_fd(const struct am_kmsg_follow *f)
{
	return f->fd;
}

int am_kmsg_follow_consume(struct am_kmsg_follow *f)
{
	int64_t off = am_clock_realtime_offset_ns();
	int n = 0;

	while (n < MAX_PER_CALL) {
		ssize_t len = read(f->fd, f->buf, sizeof(f->buf));

		if (len > 0) {
			uint64_t before = f->st.records;

			take(f, f->buf, (size_t)len, off);
			n += (int)(f->st.records - before);
			continue;
		}
		if (len == 0 || errno == EAGAIN)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EPIPE) {
			/* The gap in sequence numbers says how many records went. */
			f->st.overwritten++;
			continue;
		}
		return -errno;
	}
	return n;
}

void am_kmsg_follow_stats(const struct am_kmsg_follow *f, struct am_kmsg_follow_stats *out)
{
	*out = f->st;
}

void am_kmsg_follow_close(struct am_kmsg_follow *f)
{
	if (!f)
		return;
	close(f->fd);
	free(f);
}
