/* perf ring buffers: one perf event per online CPU, each with its mmap'ed ring, behind one
 * epoll fd, read to their end record by record; and the online CPU list they are opened on.
 * What the events ask for (and so which records come) is the caller's: it fills the
 * perf_event_attr. */
#ifndef ANTIMETAL_CORE_PERF_RING_H
#define ANTIMETAL_CORE_PERF_RING_H

#include <linux/perf_event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Online CPUs ("0-3,8") into ONLINE[0..MAX). Returns how many, or -errno. */
int am_online_cpus(bool *online, int max);

/* FN gets each record: a perf_event_header and what follows, LEN bytes (the header's size). */
typedef void (*am_perf_ring_rec_fn)(void *ctx, const void *rec, size_t len);

/* Read one perf ring: the records between data_tail and data_head of META, DATA being the
 * SIZE-byte (a power of 2) data area; a record that wraps is copied into SCRATCH (65536 bytes)
 * first. FN gets each record; data_tail is then advanced past them. A record whose size cannot
 * be right ends the read with the ring emptied. Returns the records read, or -EINVAL after a
 * bad one (those before it were delivered). */
int am_perf_ring_read(struct perf_event_mmap_page *meta, const uint8_t *data, uint64_t size,
		      uint8_t *scratch, am_perf_ring_rec_fn fn, void *ctx);

/* How each CPU's event is made. */
struct am_perf_rings_opts {
	unsigned pages;	    /* data pages per ring (a power of 2) */
	unsigned min_pages; /* mmap refused (EPERM, ENOMEM): pages are halved down to this */
	/* Fill ATTR (zeroing it first) for a ring of DATA_SIZE bytes. */
	void (*fill_attr)(void *ctx, struct perf_event_attr *attr, uint64_t data_size);
	/* The first CPU's event was refused with EINVAL: return true after changing what
	 * fill_attr asks for (an attribute this kernel lacks) to try again. NULL: no retry. */
	bool (*retry_einval)(void *ctx);
	void *ctx;
};

struct am_perf_ring;

/* Read-only for callers. */
struct am_perf_rings {
	struct am_perf_ring *ring;
	int n;		  /* rings open: one per online CPU */
	unsigned pages;	  /* data pages per ring: as asked, or fewer after halving */
	int ep;		  /* epoll fd, readable when a ring reaches its event's wakeup watermark */
	uint8_t *scratch; /* a record that wraps is copied here */
};

/* Open the event of every online CPU (a CPU going offline meanwhile is skipped) and map its
 * ring. The first CPU settles the EINVAL retry and how much may be mapped. All or none:
 * returns 0 with *OUT, or -errno (-ENODEV when no CPU was opened) without logging. */
int am_perf_rings_open(const struct am_perf_rings_opts *o, struct am_perf_rings **out);
/* Read every ring to its end (am_perf_ring_read), FN getting each record. Returns the records
 * read; *BAD counts the rings whose read ended at a record of impossible size. NULL RS: 0. */
int am_perf_rings_read(struct am_perf_rings *rs, am_perf_ring_rec_fn fn, void *ctx, unsigned *bad);
/* Unmap the rings and close the events and the epoll fd; NULL is fine. */
void am_perf_rings_close(struct am_perf_rings *rs);

#endif
