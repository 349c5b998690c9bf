/* The profiler's mmap side band fed synthetic kernel records: executable mappings per exec
 * epoch, a fork's inheritance, records arriving out of order from two CPUs' buffers, overlap,
 * the rule that binds an announced (pid, mm) to its epoch, LOST and malformed records, the
 * pid filter, and the ring reader across the buffer's end. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "collectors/ebpf/sideband.h"
#include "core/perf_ring.h"

#define PX (PROT_READ | PROT_EXEC)

static uint8_t buf[4096];

/* Append the sample_id trailer and set the header's size. */
static size_t finish(size_t off, uint32_t pid, uint64_t time)
{
	struct am_sideband_sample_id id = {.pid = pid, .tid = pid, .time = time};
	struct perf_event_header *h = (void *)buf;

	memcpy(buf + off, &id, sizeof(id));
	off += sizeof(id);
	h->size = (uint16_t)off;
	return off;
}

static size_t put(size_t off, const void *p, size_t n)
{
	memcpy(buf + off, p, n);
	return off + n;
}

/* A name padded to 8 bytes with NULs, as the kernel writes it. */
static size_t put_name(size_t off, const char *s)
{
	size_t n = strlen(s) + 1, padded = (n + 7) & ~(size_t)7;

	memset(buf + off, 0, padded);
	memcpy(buf + off, s, n);
	return off + padded;
}

static size_t mmap2(uint32_t pid, uint64_t time, uint64_t addr, uint64_t len, uint64_t pgoff,
		    uint32_t prot, const char *name, const char *bid, uint64_t ino)
{
	struct perf_event_header h = {.type = PERF_RECORD_MMAP2};
	uint32_t ids[2] = {pid, pid}, pf[2] = {prot, 0};
	uint64_t a[3] = {addr, len, pgoff};
	uint8_t u[24] = {0};
	size_t off;

	if (bid) {
		h.misc = PERF_RECORD_MISC_MMAP_BUILD_ID;
		u[0] = (uint8_t)strlen(bid);
		memcpy(u + 4, bid, strlen(bid));
	} else {
		memcpy(u + 8, &ino, sizeof(ino));
	}
	off = put(0, &h, sizeof(h));
	off = put(off, ids, sizeof(ids));
	off = put(off, a, sizeof(a));
	off = put(off, u, sizeof(u));
	off = put(off, pf, sizeof(pf));
	off = put_name(off, name);
	return finish(off, pid, time);
}

static size_t comm(uint32_t pid, uint64_t time, const char *name, bool exec)
{
	struct perf_event_header h = {.type = PERF_RECORD_COMM,
				      .misc = exec ? PERF_RECORD_MISC_COMM_EXEC : 0};
	uint32_t ids[2] = {pid, pid};
	size_t off = put(0, &h, sizeof(h));

	off = put(off, ids, sizeof(ids));
	off = put_name(off, name);
	return finish(off, pid, time);
}

static size_t task(uint32_t type, uint32_t pid, uint32_t ppid, uint32_t tid, uint64_t time)
{
	struct perf_event_header h = {.type = (uint16_t)type};
	uint32_t ids[4] = {pid, ppid, tid, ppid};
	size_t off = put(0, &h, sizeof(h));

	off = put(off, ids, sizeof(ids));
	off = put(off, &time, sizeof(time));
	return finish(off, pid, time);
}

static void feed(struct am_sideband *t, size_t len)
{
	cr_assert_eq(am_sideband_feed(t, buf, len), 0);
}

/* The mappings of (PID, MM), checked to be N, sorted and disjoint. */
static struct am_usym_rec_map *maps_of(struct am_sideband *t, uint32_t pid, uint64_t mm, size_t n)
{
	struct am_usym_rec_map *m;
	size_t got, i;

	cr_assert_eq(am_sideband_maps(t, pid, mm, &m, &got), 0);
	cr_assert_eq(got, n, "pid %u mm %llx: %zu mappings, want %zu", pid, (unsigned long long)mm,
		     got, n);
	for (i = 1; i < got; i++)
		cr_assert_leq(m[i - 1].end, m[i].start, "unsorted or overlapping");
	return m;
}

Test(sideband, exec_epoch_keeps_executable_mappings_with_build_ids)
{
	struct am_sideband *t = am_sideband_new(NULL);
	struct am_sideband_stats st;
	struct am_usym_rec_map *m;

	feed(t, comm(100, 10, "prog", true));
	feed(t, mmap2(100, 11, 0x400000, 0x2000, 0x1000, PX, "/usr/bin/prog", "\x12\xab", 0));
	feed(t, mmap2(100, 12, 0x7f0000, 0x1000, 0, PROT_READ | PROT_WRITE, "/data", NULL, 5));
	feed(t, mmap2(100, 13, 0x7f1000, 0x3000, 0x2000, PX, "/lib/libc.so.6", NULL, 4242));
	feed(t, mmap2(100, 14, 0x7f8000, 0x1000, 0, PX, "//anon", NULL, 0));
	am_sideband_announce(t, 100, 0xaaa, 20);
	m = maps_of(t, 100, 0xaaa, 3);
	cr_assert_eq(m[0].start, 0x400000);
	cr_assert_eq(m[0].end, 0x402000);
	cr_assert_eq(m[0].pgoff, 0x1000);
	cr_assert_str_eq(m[0].path, "/usr/bin/prog");
	cr_assert_str_eq(m[0].build_id, "12ab");
	cr_assert_str_eq(m[1].path, "/lib/libc.so.6");
	cr_assert_str_eq(m[1].build_id, "");
	cr_assert_eq(m[1].ino, 4242);
	cr_assert_str_eq(m[2].path, "", "//anon is anonymous memory, as /proc shows it");
	am_sideband_maps_free(m, 3);
	am_sideband_stats(t, &st);
	cr_assert_eq(st.records, 5);
	cr_assert_eq(st.mmaps, 3, "the writable mapping is not kept");
	cr_assert_eq(st.execs, 1);
	am_sideband_close(t);
}

Test(sideband, fork_inherits_the_parent_as_of_the_fork_and_exec_starts_afresh)
{
	struct am_sideband *t = am_sideband_new(NULL);
	struct am_sideband_stats st;
	struct am_usym_rec_map *m;

	feed(t, mmap2(100, 1, 0x1000, 0x1000, 0, PX, "/parent", NULL, 1));
	feed(t, task(PERF_RECORD_FORK, 200, 100, 200, 5));
	feed(t, task(PERF_RECORD_FORK, 100, 100, 101, 5)); /* a thread: not a process */
	feed(t, mmap2(100, 6, 0x9000, 0x1000, 0, PX, "/parent-later", NULL, 2));
	feed(t, mmap2(200, 7, 0x5000, 0x1000, 0, PX, "/child-dlopen", NULL, 3));
	feed(t, comm(200, 8, "child", true));
	feed(t, mmap2(200, 9, 0x3000, 0x1000, 0, PX, "/exec-image", NULL, 4));
	feed(t, task(PERF_RECORD_EXIT, 200, 100, 200, 12));
	am_sideband_announce(t, 200, 0xf0, 7);	/* the forked copy */
	am_sideband_announce(t, 200, 0xe0, 10); /* after its exec */

	m = maps_of(t, 200, 0xf0, 2);
	cr_assert_str_eq(m[0].path, "/parent", "inherited");
	cr_assert_str_eq(m[1].path, "/child-dlopen");
	am_sideband_maps_free(m, 2);
	m = maps_of(t, 200, 0xe0, 1);
	cr_assert_str_eq(m[0].path, "/exec-image");
	am_sideband_maps_free(m, 1);
	/* The parent has all of its own, from before and after the fork. */
	m = maps_of(t, 100, 0x77, 2);
	am_sideband_maps_free(m, 2);
	am_sideband_stats(t, &st);
	cr_assert_eq(st.forks, 1);
	cr_assert_eq(st.exits, 1);
	am_sideband_close(t);
}

Test(sideband, records_from_another_cpu_arriving_late_are_placed_by_time)
{
	struct am_sideband *t = am_sideband_new(NULL);
	struct am_usym_rec_map *m;

	/* CPU 1's buffer read first: the new program's mapping before its exec and fork. */
	feed(t, mmap2(300, 30, 0x2000, 0x1000, 0, PX, "/new", NULL, 7));
	feed(t, mmap2(100, 1, 0x1000, 0x1000, 0, PX, "/parent", NULL, 1));
	feed(t, comm(300, 20, "new", true));
	feed(t, task(PERF_RECORD_FORK, 300, 100, 300, 10));
	am_sideband_announce(t, 300, 0xa, 15); /* between fork and exec */
	am_sideband_announce(t, 300, 0xb, 31);
	m = maps_of(t, 300, 0xa, 1);
	cr_assert_str_eq(m[0].path, "/parent");
	am_sideband_maps_free(m, 1);
	m = maps_of(t, 300, 0xb, 1);
	cr_assert_str_eq(m[0].path, "/new");
	am_sideband_maps_free(m, 1);
	am_sideband_close(t);
}

Test(sideband, a_later_mapping_replaces_what_it_overlaps)
{
	struct am_sideband *t = am_sideband_new(NULL);
	struct am_usym_rec_map *m;

	feed(t, mmap2(100, 1, 0x10000, 0x40000, 0, PX, "/big", NULL, 1));
	feed(t, mmap2(100, 2, 0x20000, 0x10000, 0, PX, "/middle", NULL, 2));
	feed(t, mmap2(100, 3, 0x48000, 0x10000, 0, PX, "/tail", NULL, 3));
	m = maps_of(t, 100, 0, 4);
	cr_assert_str_eq(m[0].path, "/big");
	cr_assert_eq(m[0].end, 0x20000);
	cr_assert_str_eq(m[1].path, "/middle");
	cr_assert_str_eq(m[2].path, "/big");
	cr_assert_eq(m[2].start, 0x30000);
	cr_assert_eq(m[2].end, 0x48000);
	cr_assert_eq(m[2].pgoff, 0x20000, "the right part keeps its file offset");
	cr_assert_str_eq(m[3].path, "/tail");
	am_sideband_maps_free(m, 4);
	am_sideband_close(t);
}

/* exec switches mm a little before the COMM|EXEC record: a first sample in between is
 * stamped before the exec but its mm is the new program's. */
Test(sideband, a_sample_in_the_exec_gap_binds_to_the_new_program)
{
	struct am_sideband *t = am_sideband_new(NULL);
	struct am_usym_rec_map *m;

	feed(t, task(PERF_RECORD_FORK, 400, 100, 400, 1));
	feed(t, mmap2(400, 2, 0x1000, 0x1000, 0, PX, "/forked", NULL, 1));
	feed(t, comm(400, 10, "newprog", true));
	feed(t, mmap2(400, 11, 0x5000, 0x1000, 0, PX, "/newprog", NULL, 2));
	am_sideband_announce(t, 400, 0xbeef, 9);
	/* Its samples had both names: it lived across the exec's rename. */
	am_sideband_note_comm(t, 400, 0xbeef, "shell");
	am_sideband_note_comm(t, 400, 0xbeef, "newprog");
	m = maps_of(t, 400, 0xbeef, 1);
	cr_assert_str_eq(m[0].path, "/newprog");
	am_sideband_maps_free(m, 1);

	/* The same timing with only the old name: the forked copy's mm. */
	feed(t, task(PERF_RECORD_FORK, 500, 100, 500, 1));
	feed(t, mmap2(500, 2, 0x1000, 0x1000, 0, PX, "/forked", NULL, 1));
	feed(t, comm(500, 10, "newprog", true));
	am_sideband_announce(t, 500, 0xcafe, 9);
	am_sideband_note_comm(t, 500, 0xcafe, "shell");
	m = maps_of(t, 500, 0xcafe, 1);
	cr_assert_str_eq(m[0].path, "/forked");
	am_sideband_maps_free(m, 1);
	am_sideband_close(t);
}

/* A first sample between the rename and the COMM|EXEC record (the sample's own program delays
 * the record): it already has the new name only. */
Test(sideband, a_sample_after_the_rename_but_before_the_record_binds_to_the_exec)
{
	struct am_sideband *t = am_sideband_new(NULL);
	struct am_usym_rec_map *m;

	/* The parent's exec is known: the forked copy was called "storm". */
	feed(t, comm(100, 1, "storm", true));
	feed(t, task(PERF_RECORD_FORK, 700, 100, 700, 5));
	feed(t, comm(700, 5000000, "child", true));
	feed(t, mmap2(700, 5000001, 0x5000, 0x1000, 0, PX, "/child", NULL, 2));
	am_sideband_announce(t, 700, 0x70, 1000); /* 5 ms before the record */
	am_sideband_note_comm(t, 700, 0x70, "child");
	m = maps_of(t, 700, 0x70, 1);
	cr_assert_str_eq(m[0].path, "/child");
	am_sideband_maps_free(m, 1);

	/* The parent unknown (it predates the side band): only a first sample this close to the
	 * exec is taken for the new program's... */
	feed(t, task(PERF_RECORD_FORK, 800, 50, 800, 5));
	feed(t, comm(800, 10000000, "child", true));
	feed(t, mmap2(800, 10000001, 0x5000, 0x1000, 0, PX, "/child", NULL, 2));
	am_sideband_announce(t, 800, 0x80, 10000000 - 30000);
	am_sideband_note_comm(t, 800, 0x80, "child");
	m = maps_of(t, 800, 0x80, 1);
	cr_assert_str_eq(m[0].path, "/child");
	am_sideband_maps_free(m, 1);
	/* ...not one 5 ms before it (a forked copy with the same name, e.g. sh running sh). */
	feed(t, task(PERF_RECORD_FORK, 900, 50, 900, 5));
	feed(t, comm(900, 10000000, "child", true));
	feed(t, mmap2(900, 10000001, 0x5000, 0x1000, 0, PX, "/child", NULL, 2));
	am_sideband_announce(t, 900, 0x90, 5000000);
	am_sideband_note_comm(t, 900, 0x90, "child");
	maps_of(t, 900, 0x90, 0); /* the parent's mappings: none known */
	am_sideband_close(t);
}

Test(sideband, distinct_mms_of_a_pid_take_distinct_epochs)
{
	struct am_sideband *t = am_sideband_new(NULL);
	struct am_usym_rec_map *m;

	feed(t, mmap2(600, 1, 0x1000, 0x1000, 0, PX, "/first", NULL, 1));
	feed(t, comm(600, 10, "second", true));
	feed(t, mmap2(600, 11, 0x2000, 0x1000, 0, PX, "/second", NULL, 2));
	am_sideband_announce(t, 600, 0x1, 5);
	am_sideband_announce(t, 600, 0x2, 9); /* in the gap, no telling name */
	m = maps_of(t, 600, 0x2, 1);
	cr_assert_str_eq(m[0].path, "/second");
	am_sideband_maps_free(m, 1);
	/* Never announced (notification lost): the latest epoch no announced mm holds. */
	feed(t, comm(600, 20, "third", true));
	feed(t, mmap2(600, 21, 0x3000, 0x1000, 0, PX, "/third", NULL, 3));
	m = maps_of(t, 600, 0x3, 1);
	cr_assert_str_eq(m[0].path, "/third");
	am_sideband_maps_free(m, 1);
	/* Unknown pid: nothing. */
	m = maps_of(t, 601, 0x3, 0);
	am_sideband_close(t);
}

Test(sideband, lost_and_malformed_records_are_counted)
{
	struct am_sideband *t = am_sideband_new(NULL);
	struct perf_event_header *h = (void *)buf;
	struct am_sideband_stats st;
	uint64_t lost[2] = {7, 42};
	size_t len;

	h->type = PERF_RECORD_LOST;
	h->misc = 0;
	len = finish(put(sizeof(*h), lost, sizeof(lost)), 0, 1);
	feed(t, len);
	/* Truncated: the header claims more than there is. */
	len = mmap2(100, 1, 0x1000, 0x1000, 0, PX, "/x", NULL, 1);
	cr_assert_eq(am_sideband_feed(t, buf, len - 8), -EINVAL);
	/* Too short for its type. */
	len = mmap2(100, 1, 0x1000, 0x1000, 0, PX, "/x", NULL, 1);
	h->size = 40;
	cr_assert_eq(am_sideband_feed(t, buf, 40), -EINVAL);
	/* A name that runs into the trailer unterminated. */
	len = mmap2(100, 1, 0x1000, 0x1000, 0, PX, "/abcdefg", NULL, 1);
	memset(buf + 72, 'A', len - 72 - sizeof(struct am_sideband_sample_id));
	cr_assert_eq(am_sideband_feed(t, buf, len), -EINVAL);
	/* Shorter than a header. */
	cr_assert_eq(am_sideband_feed(t, buf, 4), -EINVAL);
	/* A type not asked for is skipped, not an error. */
	h->type = PERF_RECORD_THROTTLE;
	h->size = 24 + sizeof(struct am_sideband_sample_id);
	cr_assert_eq(am_sideband_feed(t, buf, h->size), 0);
	am_sideband_stats(t, &st);
	cr_assert_eq(st.lost, 42);
	cr_assert_eq(st.malformed, 4);
	cr_assert_eq(st.mmaps, 0);
	am_sideband_close(t);
}

Test(sideband, pid_filter_keeps_only_the_profiled_processes)
{
	uint32_t pids[] = {700, 100};
	struct am_sideband_opts o = {.pids = pids, .npids = 2};
	struct am_sideband *t = am_sideband_new(&o);
	struct am_usym_rec_map *m;

	feed(t, mmap2(100, 1, 0x1000, 0x1000, 0, PX, "/kept", NULL, 1));
	feed(t, mmap2(200, 1, 0x1000, 0x1000, 0, PX, "/other", NULL, 1));
	m = maps_of(t, 100, 0, 1);
	am_sideband_maps_free(m, 1);
	maps_of(t, 200, 0, 0);
	am_sideband_close(t);
}

Test(sideband, at_the_memory_bound_exited_unannounced_processes_go_first)
{
	struct am_sideband *t = am_sideband_new(NULL);
	struct am_sideband_stats st;
	struct am_usym_rec_map *m;
	uint32_t pid;

	feed(t, mmap2(1, 1, 0x1000, 0x1000, 0, PX, "/kept", NULL, 1));
	am_sideband_announce(t, 1, 0x1, 2);
	/* 300000 short processes (two records kept each), all gone, none sampled. */
	for (pid = 2; pid < 150002; pid++) {
		feed(t, task(PERF_RECORD_FORK, pid, 1, pid, 10));
		feed(t, mmap2(pid, 11, 0x1000, 0x1000, 0, PX, "/short", NULL, 2));
		feed(t, task(PERF_RECORD_EXIT, pid, 1, pid, 12));
	}
	am_sideband_stats(t, &st);
	cr_assert_eq(st.dropped, 0, "room was made");
	m = maps_of(t, 1, 0x1, 1);
	cr_assert_str_eq(m[0].path, "/kept", "an announced process stays");
	am_sideband_maps_free(m, 1);
	/* Live ones cannot be dropped for room: what does not fit is counted. */
	for (pid = 200000; pid < 500000; pid++)
		am_sideband_feed(t, buf, mmap2(pid, 20, 0x1000, 0x1000, 0, PX, "/live", NULL, 3));
	am_sideband_stats(t, &st);
	cr_assert_gt(st.dropped, 0);
	cr_assert_lt(st.dropped, 300000);
	am_sideband_close(t);
}

struct collected {
	size_t n, bytes;
	uint16_t types[16];
};

static void collect(void *ctx, const void *rec, size_t len)
{
	struct collected *c = ctx;
	struct perf_event_header h;

	memcpy(&h, rec, sizeof(h));
	cr_assert_eq(h.size, len);
	c->types[c->n++] = h.type;
	c->bytes += len;
}

Test(sideband, ring_reader_copies_a_record_that_wraps)
{
	static uint8_t ring[512], scratch[65536];
	struct perf_event_mmap_page meta = {0};
	struct collected c = {0};
	size_t len1 = comm(1, 1, "x", true), len2;
	uint8_t rec1[128], rec2[128];
	uint64_t start = 512 - 8 * 3; /* 24 bytes before the end: the second record wraps */

	memcpy(rec1, buf, len1);
	len2 = mmap2(1, 2, 0x1000, 0x1000, 0, PX, "/wrapping/name", NULL, 1);
	memcpy(rec2, buf, len2);
	/* Positions are free-running: lay the two records out from START - LEN1. */
	meta.data_tail = 4096 + start - len1;
	for (size_t i = 0; i < len1; i++)
		ring[(meta.data_tail + i) & 511] = rec1[i];
	for (size_t i = 0; i < len2; i++)
		ring[(meta.data_tail + len1 + i) & 511] = rec2[i];
	meta.data_head = meta.data_tail + len1 + len2;
	cr_assert_eq(am_perf_ring_read(&meta, ring, sizeof(ring), scratch, collect, &c), 2);
	cr_assert_eq(c.types[0], PERF_RECORD_COMM);
	cr_assert_eq(c.types[1], PERF_RECORD_MMAP2);
	cr_assert_eq(memcmp(scratch, rec2, len2), 0, "the wrapped record reassembled");
	cr_assert_eq(meta.data_tail, meta.data_head);

	/* A size that cannot be: the rest is skipped and the ring emptied. */
	memset(ring, 0, sizeof(ring));
	meta.data_tail = 0;
	ring[6] = 4; /* header.size = 4 */
	meta.data_head = 64;
	c.n = 0;
	cr_assert_eq(am_perf_ring_read(&meta, ring, sizeof(ring), scratch, collect, &c), -EINVAL);
	cr_assert_eq(c.n, 0);
	cr_assert_eq(meta.data_tail, 64);
}
