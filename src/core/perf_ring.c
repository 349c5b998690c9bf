#include "core/perf_ring.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/perf_attach.h"
#include "util/file.h"

#define SCRATCH_LEN 65536 /* a record's size is a u16 */

struct am_perf_ring {
	int fd;
	void *base;
	size_t len; /* mapped bytes: one metadata page and the data pages */
	uint64_t data_size;
};

int am_online_cpus(bool *online, int max)
{
	char buf[1024], *p, *end;
	int n = 0, err = am_file_first_line("/sys/devices/system/cpu/online", buf, sizeof(buf));

	if (err)
		return err;
	for (p = buf; *p && *p != '\n';) {
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			return -EINVAL;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (; a <= b && a < max; a++, n++)
			online[a] = true;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

int am_perf_ring_read(struct perf_event_mmap_page *meta, const uint8_t *data, uint64_t size,
		      uint8_t *scratch, am_perf_ring_rec_fn fn, void *ctx)
{
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE), tail = meta->data_tail;
	struct perf_event_header h;
	int n = 0, err = 0;

	while (tail < head) {
		uint64_t off = tail & (size - 1), first;
		const uint8_t *rec = data + off;

		/* Records are 8-byte aligned in a power-of-2 ring: a header never wraps. */
		memcpy(&h, rec, sizeof(h));
		if (h.size < sizeof(h) || h.size > head - tail || h.size > size || (off & 7)) {
			tail = head; /* lost our place: what follows cannot be trusted */
			err = -EINVAL;
			break;
		}
		if (off + h.size > size) {
			first = size - off;
			memcpy(scratch, rec, first);
			memcpy(scratch + first, data, h.size - first);
			rec = scratch;
		}
		fn(ctx, rec, h.size);
		tail += h.size;
		n++;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	return err ? err : n;
}

int am_perf_rings_read(struct am_perf_rings *rs, am_perf_ring_rec_fn fn, void *ctx, unsigned *bad)
{
	long page = sysconf(_SC_PAGESIZE);
	int i, n, total = 0;

	for (i = 0; rs && i < rs->n; i++) {
		struct am_perf_ring *r = &rs->ring[i];

		n = am_perf_ring_read(r->base, (const uint8_t *)r->base + page, r->data_size,
				      rs->scratch, fn, ctx);
		if (n < 0)
			(*bad)++;
		else
			total += n;
	}
	return total;
}

/* Open the event of CPU and map PAGES data pages. The first CPU settles the EINVAL retry (the
 * side band's build-id, refused before 5.12) and how much may be mapped (the
 * perf_event_mlock_kb allowance). */
static int open_ring(struct am_perf_rings *rs, const struct am_perf_rings_opts *o, int cpu,
		     unsigned *pages, struct am_perf_ring *r)
{
	long page = sysconf(_SC_PAGESIZE);
	struct perf_event_attr a;
	int fd;

	for (;;) {
		uint64_t data = (uint64_t)*pages * (uint64_t)page;

		o->fill_attr(o->ctx, &a, data);
		fd = am_perf_event_open(&a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd == -EINVAL && !rs->n && o->retry_einval && o->retry_einval(o->ctx))
			continue;
		if (fd < 0)
			return fd;
		r->len = (size_t)(*pages + 1) * (size_t)page;
		r->base = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (r->base != MAP_FAILED) {
			r->fd = fd;
			r->data_size = data;
			return 0;
		}
		int err = -errno;

		close(fd);
		if ((err != -EPERM && err != -ENOMEM) || *pages <= o->min_pages)
			return err;
		*pages /= 2;
	}
}

int am_perf_rings_open(const struct am_perf_rings_opts *o, struct am_perf_rings **out)
{
	int ncpus = libbpf_num_possible_cpus(), cpu, err = 0;
	unsigned pages = o->pages;
	struct epoll_event ev = {.events = EPOLLIN};
	struct am_perf_rings *rs;
	bool *online;

	*out = NULL;
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	online = calloc((size_t)ncpus, sizeof(*online));
	rs->ring = calloc((size_t)ncpus, sizeof(*rs->ring));
	rs->scratch = malloc(SCRATCH_LEN);
	rs->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!online || !rs->ring || !rs->scratch || rs->ep < 0) {
		free(online);
		err = rs->ep < 0 ? -errno : -ENOMEM;
		am_perf_rings_close(rs);
		return err;
	}
	err = am_online_cpus(online, ncpus);
	for (cpu = 0; err >= 0 && cpu < ncpus; cpu++) {
		if (!online[cpu])
			continue;
		err = open_ring(rs, o, cpu, &pages, &rs->ring[rs->n]);
		if (err == -ENODEV) { /* went offline meanwhile */
			err = 0;
			continue;
		}
		if (err)
			break;
		ev.data.u32 = (uint32_t)rs->n;
		if (epoll_ctl(rs->ep, EPOLL_CTL_ADD, rs->ring[rs->n].fd, &ev)) {
			err = -errno;
			munmap(rs->ring[rs->n].base, rs->ring[rs->n].len);
			close(rs->ring[rs->n].fd);
			break;
		}
		rs->n++;
	}
	free(online);
	rs->pages = pages;
	if (err >= 0 && !rs->n)
		err = -ENODEV;
	if (err < 0) {
		am_perf_rings_close(rs);
		return err;
	}
	*out = rs;
	return 0;
}

void am_perf_rings_close(struct am_perf_rings *rs)
{
	int k;

	if (!rs)
		return;
	for (k = 0; k < rs->n; k++) {
		munmap(rs->ring[k].base, rs->ring[k].len);
		close(rs->ring[k].fd);
	}
	if (rs->ep >= 0)
		close(rs->ep);
	free(rs->ring);
	free(rs->scratch);
	free(rs);
}
