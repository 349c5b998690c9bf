#include "collectors/parse/cgroup_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/parse/procfs_read.h"

#define MAX_DIRS 8 /* cpu, cpuacct, memory, pids, blkio, unified: fewer when shared */

struct reader {
	const char *rootfs, *path;
	const struct am_cgroup_layout *l;
	struct am_strbuf *buf;
	struct am_cgroup_sample *out;
	int found;
	/* The cgroup's directory in each hierarchy opened so far: its files are opened
	 * relative to it, which spares the kernel the walk down the whole path per file. */
	struct {
		const char *mnt;
		int fd; /* -1: the cgroup is not in that hierarchy */
	} dirs[MAX_DIRS];
	size_t ndirs;
};

/* The cgroup's directory in the hierarchy mounted at MNT, opened once: its fd, or -1. */
static int in_hierarchy(struct reader *r, const char *mnt)
{
	char dir[4096];
	size_t i;
	int fd;

	for (i = 0; i < r->ndirs; i++)
		if (r->dirs[i].mnt == mnt)
			return r->dirs[i].fd;
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s%s", r->rootfs, mnt,
			     strcmp(r->path, "/") ? r->path : "") >= sizeof(dir))
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		r->found = 1;
	if (r->ndirs < MAX_DIRS) {
		r->dirs[r->ndirs].mnt = mnt;
		r->dirs[r->ndirs++].fd = fd;
	} else if (fd >= 0) {
		close(fd); /* cannot happen with the controllers read; never leak */
		fd = -1;
	}
	return fd;
}

/* The directory fd of R's cgroup in the hierarchy of CONTROLLER: its v1 one, else the unified
 * one (V2 set), else -1. */
static int dir_of(struct reader *r, const char *controller, int *v2)
{
	const char *mnt = controller ? am_cgroup_layout_v1(r->l, controller) : NULL;
	int fd;

	*v2 = 0;
	if (mnt && (fd = in_hierarchy(r, mnt)) >= 0)
		return fd;
	/* Not on v1, or the cgroup is not in that hierarchy: the unified one still has the core
	 * files (cpu.stat's usage on a hybrid host whose unit exists there only). */
	*v2 = 1;
	return r->l->v2_mount[0] ? in_hierarchy(r, r->l->v2_mount) : -1;
}

/* FILE under directory DIR into B whole. cgroupfs files are seq_files, which fill a read to
 * the end of their text: a read shorter than asked is the end, saving the read that would
 * return 0 (so does a regular file, as fixtures are). Non-blocking: a FIFO planted in a
 * fixture or host tree reads as empty (garbled) instead of stopping the loop. Returns 0 or
 * -errno. */
static int read_at(int dir, const char *file, struct am_strbuf *b)
{
	int fd = openat(dir, file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), err = 0;
	char chunk[8192];
	ssize_t n;

	if (fd < 0)
		return -errno;
	am_strbuf_reset(b);
	am_strbuf_putc(b, '\0'); /* an empty file is an empty string */
	b->len = 0;
	do {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0)
			err = -errno;
		else if (n)
			am_strbuf_append(b, chunk, (size_t)n);
	} while (n == (ssize_t)sizeof(chunk) && b->len <= AM_PROCFS_MAX_FILE);
	close(fd);
	if (!err && b->oom)
		err = -ENOMEM;
	return err ? err : b->len > AM_PROCFS_MAX_FILE ? -EFBIG : 0;
}

static void garbled(struct reader *r, const char *file, const char *why)
{
	if (!r->out->garbled++)
		snprintf(r->out->first_garbled, sizeof(r->out->first_garbled), "%s: %s", file,
			 why ? why : "garbled");
}

/* Read DIR/FILE into the reader's buffer: 1 when there, 0 when absent. */
static int get(struct reader *r, int dir, const char *file)
{
	return dir >= 0 && !read_at(dir, file, r->buf);
}

/* One-number file into *V, setting BIT in *HAVE. */
static void value_into(struct reader *r, int dir, const char *file, uint64_t *v, unsigned *have,
		       unsigned bit)
{
	const char *why = NULL;

	if (!get(r, dir, file))
		return;
	if (am_parse_cgroup_value(r->buf->data, v, &why))
		garbled(r, file, why);
	else
		*have |= bit;
}

static void value(struct reader *r, int dir, const char *file, uint64_t *v, unsigned bit)
{
	value_into(r, dir, file, v, &r->out->have, bit);
}

/* cpuacct's nanosecond counters into the cpu microsecond fields. */
static void cpuacct_ns(struct reader *r, int dir, const char *file, uint64_t *usec, unsigned bit)
{
	uint64_t ns;
	const char *why = NULL;

	if (!get(r, dir, file))
		return;
	if (am_parse_cgroup_value(r->buf->data, &ns, &why)) {
		garbled(r, file, why);
		return;
	}
	*usec = ns / 1000;
	r->out->cpu.have |= bit;
}

static void read_cpu(struct reader *r, long user_hz)
{
	char quota[64];
	const char *why = NULL;
	int d;
	int v2;

	d = dir_of(r, "cpu", &v2);
	if (get(r, d, "cpu.stat") && am_parse_cgroup_cpu_stat(r->buf->data, &r->out->cpu, &why))
		garbled(r, "cpu.stat", why);
	if (v2) {
		if (get(r, d, "cpu.max") &&
		    am_parse_cgroup_cpu_max(r->buf->data, &r->out->cpu, &why))
			garbled(r, "cpu.max", why);
		value_into(r, d, "cpu.weight", &r->out->cpu.weight, &r->out->cpu.have,
			   AM_CG_CPU_WEIGHT);
		return;
	}
	if (get(r, d, "cpu.cfs_quota_us")) {
		snprintf(quota, sizeof(quota), "%s", r->buf->data);
		if (get(r, d, "cpu.cfs_period_us") &&
		    am_parse_cgroup_cfs(quota, r->buf->data, &r->out->cpu, &why))
			garbled(r, "cpu.cfs_quota_us", why);
	}
	value_into(r, d, "cpu.shares", &r->out->cpu.shares, &r->out->cpu.have, AM_CG_CPU_SHARES);
	d = dir_of(r, "cpuacct", &v2);
	if (v2)
		return;
	cpuacct_ns(r, d, "cpuacct.usage", &r->out->cpu.usage_usec, AM_CG_CPU_USAGE);
	cpuacct_ns(r, d, "cpuacct.usage_user", &r->out->cpu.user_usec, AM_CG_CPU_USER_SYSTEM);
	cpuacct_ns(r, d, "cpuacct.usage_sys", &r->out->cpu.system_usec, AM_CG_CPU_USER_SYSTEM);
	/* Kernels before 4.7 have no usage_user/usage_sys: the tick-based stat instead. */
	if (!(r->out->cpu.have & AM_CG_CPU_USER_SYSTEM) && get(r, d, "cpuacct.stat") &&
	    am_parse_cgroup_cpuacct_stat(r->buf->data, user_hz, &r->out->cpu, &why))
		garbled(r, "cpuacct.stat", why);
}

static void read_memory(struct reader *r)
{
	struct am_cgroup_sample *o = r->out;
	const char *why = NULL;
	int d;
	uint64_t memsw = 0;
	int v2;

	d = dir_of(r, "memory", &v2);
	if (d < 0)
		return;
	value(r, d, v2 ? "memory.current" : "memory.usage_in_bytes", &o->mem_usage,
	      AM_CG_MEM_USAGE);
	value(r, d, v2 ? "memory.max" : "memory.limit_in_bytes", &o->mem_limit, AM_CG_MEM_LIMIT);
	value(r, d, v2 ? "memory.peak" : "memory.max_usage_in_bytes", &o->mem_peak, AM_CG_MEM_PEAK);
	if (get(r, d, "memory.stat") &&
	    am_parse_cgroup_memory_stat(r->buf->data, &o->memstat, &why))
		garbled(r, "memory.stat", why);
	if (v2) {
		value(r, d, "memory.high", &o->mem_high, AM_CG_MEM_HIGH);
		value(r, d, "memory.swap.current", &o->swap_usage, AM_CG_MEM_SWAP);
		value(r, d, "memory.swap.max", &o->swap_limit, AM_CG_MEM_SWAP_LIMIT);
		if (get(r, d, "memory.events") &&
		    am_parse_cgroup_memory_events(r->buf->data, &o->events, &why))
			garbled(r, "memory.events", why);
		return;
	}
	value(r, d, "memory.failcnt", &o->mem_failcnt, AM_CG_MEM_FAILCNT);
	if (get(r, d, "memory.oom_control") &&
	    am_parse_cgroup_oom_control(r->buf->data, &o->events, &why))
		garbled(r, "memory.oom_control", why);
	/* v1 counts memory+swap together: swap is the difference. */
	if ((o->have & AM_CG_MEM_USAGE) && get(r, d, "memory.memsw.usage_in_bytes") &&
	    !am_parse_cgroup_value(r->buf->data, &memsw, &why) && memsw >= o->mem_usage) {
		o->swap_usage = memsw - o->mem_usage;
		o->have |= AM_CG_MEM_SWAP;
	}
}

static void read_pids_io(struct reader *r)
{
	struct am_cgroup_sample *o = r->out;
	const char *why = NULL;
	int d;
	int v2;

	d = dir_of(r, "pids", &v2);
	value(r, d, "pids.current", &o->pids, AM_CG_PIDS);
	value(r, d, "pids.max", &o->pids_limit, AM_CG_PIDS_LIMIT);
	d = dir_of(r, "blkio", &v2);
	if (v2) {
		if (get(r, d, "io.stat")) {
			if (am_parse_cgroup_io_stat(r->buf->data, &o->io, &why))
				garbled(r, "io.stat", why);
			else
				o->have |= AM_CG_IO;
		}
		return;
	}
	memset(&o->io, 0, sizeof(o->io));
	if (get(r, d, "blkio.throttle.io_service_bytes")) {
		if (am_parse_cgroup_blkio(r->buf->data, true, &o->io, &why))
			garbled(r, "blkio.throttle.io_service_bytes", why);
		else
			o->have |= AM_CG_IO;
	}
	if (get(r, d, "blkio.throttle.io_serviced") &&
	    am_parse_cgroup_blkio(r->buf->data, false, &o->io, &why))
		garbled(r, "blkio.throttle.io_serviced", why);
}

/* PSI exists on the unified hierarchy only (4.20+, every non-root cgroup). */
static void read_psi(struct reader *r)
{
	static const struct {
		const char *file;
		size_t off;
		unsigned bit;
	} files[] = {
	    {"cpu.pressure", offsetof(struct am_cgroup_sample, psi_cpu), AM_CG_PSI_CPU},
	    {"memory.pressure", offsetof(struct am_cgroup_sample, psi_memory), AM_CG_PSI_MEMORY},
	    {"io.pressure", offsetof(struct am_cgroup_sample, psi_io), AM_CG_PSI_IO},
	};
	const char *why = NULL;
	int d;
	size_t i;
	int v2;

	d = dir_of(r, NULL, &v2);
	for (i = 0; d >= 0 && i < sizeof(files) / sizeof(files[0]); i++) {
		if (!get(r, d, files[i].file))
			continue;
		if (am_parse_psi(r->buf->data, (struct am_psi *)((char *)r->out + files[i].off),
				 &why))
			garbled(r, files[i].file, why);
		else
			r->out->have |= files[i].bit;
	}
}

int am_cgroup_read(const struct am_cgroup_layout *layout, const char *rootfs, const char *path,
		   long user_hz, struct am_strbuf *scratch, struct am_cgroup_sample *out)
{
	struct reader r = {.rootfs = rootfs && strcmp(rootfs, "/") ? rootfs : "",
			   .path = path,
			   .l = layout,
			   .buf = scratch,
			   .out = out};

	size_t i;

	memset(out, 0, sizeof(*out));
	read_cpu(&r, user_hz);
	read_memory(&r);
	read_pids_io(&r);
	read_psi(&r);
	for (i = 0; i < r.ndirs; i++)
		if (r.dirs[i].fd >= 0)
			close(r.dirs[i].fd);
	return r.found ? 0 : -ENOENT;
}
