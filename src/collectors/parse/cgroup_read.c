#include "collectors/parse/cgroup_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/parse/kept_file.h"
#include "collectors/parse/procfs_read.h"

_Static_assert(AM_CGF_N <= 64, "struct am_cgroup_kept's absent mask holds every file");

/* The v1 controller of each am_cgroup_ctl; the unified hierarchy's core files have none. */
static const char *const ctl_v1[AM_CGC_N] = {"cpu", "cpuacct", "memory", "pids", "blkio", NULL};

struct reader {
	const char *rootfs, *path;
	const struct am_cgroup_layout *l;
	struct am_strbuf *buf;
	struct am_cgroup_sample *out;
	struct am_cgroup_kept *kept; /* NULL: nothing kept */
	struct am_cgroup_keep *keep;
	int found, gone;
	bool reuse_limits; /* the kept limits stand: their files are not read */
	bool no_keep;	   /* the file read now is read only after writes: not kept */
	bool limits_garbled;
	bool limits_incomplete; /* a limit file could not be read (not absent): not held */
	bool unkept;		/* a file the budget had no descriptor left for */
	/* The mount each controller's files are read from this time, NULL: nowhere. */
	const char *mnt[AM_CGC_N];
	/* The cgroup's directory in each hierarchy opened so far (or kept from an earlier cycle):
	 * its files are opened relative to it, which spares the kernel the walk down the whole
	 * path per file. */
	struct {
		const char *mnt;
		int fd;		  /* -errno: not opened (-ENOENT: not in that hierarchy) */
		bool kept;	  /* K's: not closed after the read */
		signed char live; /* a kept one still a cgroup: 0 not asked, 1 yes, -1 removed */
	} dirs[AM_CGROUP_MAX_DIRS];
	size_t ndirs;
};

/* The cgroup's directory in the hierarchy mounted at MNT, opened once: its index in R's dirs
 * (its fd there: -errno where it could not be opened), or -errno (a path too long). */
static int dir_index(struct reader *r, const char *mnt)
{
	char dir[4096];
	size_t i;
	int fd;

	for (i = 0; i < r->ndirs; i++)
		if (r->dirs[i].mnt == mnt)
			return (int)i;
	if (r->ndirs == AM_CGROUP_MAX_DIRS)
		return -EMFILE; /* cannot happen with the controllers read */
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s%s", r->rootfs, mnt,
			     strcmp(r->path, "/") ? r->path : "") >= sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		r->found = 1;
	else
		fd = -errno;
	r->dirs[r->ndirs].mnt = mnt;
	r->dirs[r->ndirs].fd = fd;
	r->dirs[r->ndirs].kept = false;
	r->dirs[r->ndirs].live = 0;
	return (int)r->ndirs++;
}

/* The cgroup's directory in the hierarchy mounted at MNT: its fd, or -errno. */
static int in_hierarchy(struct reader *r, const char *mnt)
{
	int i = dir_index(r, mnt);

	return i < 0 ? i : r->dirs[i].fd;
}

/* Whether the kept directory I still is a cgroup: a removed one (perhaps made again under its
 * path, unseen where the watch was refused) has lost its files, cgroup.procs with them. */
static bool dir_live(struct reader *r, size_t i)
{
	if (!r->dirs[i].live)
		r->dirs[i].live =
		    faccessat(r->dirs[i].fd, "cgroup.procs", F_OK, 0) && errno == ENOENT ? -1 : 1;
	return r->dirs[i].live > 0;
}

/* The directories K kept, where this read starts. */
static void dirs_from_kept(struct reader *r)
{
	unsigned i;

	r->ndirs = 0;
	for (i = 0; r->kept && i < r->kept->ndirs; i++) {
		r->dirs[i].mnt = r->kept->dir[i].mnt;
		r->dirs[i].fd = r->kept->dir[i].fd;
		r->dirs[i].kept = true;
		r->dirs[i].live = 0;
		r->ndirs++;
	}
}

/* Close the directories K keeps, giving them back to KEEP (may be NULL). */
static void dirs_release(struct am_cgroup_kept *k, struct am_cgroup_keep *keep)
{
	unsigned i;

	for (i = 0; i < k->ndirs; i++)
		close(k->dir[i].fd);
	if (keep) {
		keep->room += k->ndirs;
		keep->dirs -= k->ndirs;
	}
	k->ndirs = 0;
}

/* After a read: the directories it opened are kept while the cgroup has files past the budget
 * (and the budget of directories allows), else closed; kept ones are let go once every file
 * fits, or when the cgroup is read afresh. */
static void dirs_settle(struct reader *r)
{
	bool want = r->kept && r->keep && r->unkept && !r->gone;
	size_t i;

	if (r->kept && !want)
		dirs_release(r->kept, r->keep);
	for (i = 0; i < r->ndirs; i++) {
		if (r->dirs[i].kept || r->dirs[i].fd < 0)
			continue;
		if (want && r->keep->room > 0) {
			r->kept->dir[r->kept->ndirs].mnt = r->dirs[i].mnt;
			r->kept->dir[r->kept->ndirs++].fd = r->dirs[i].fd;
			r->keep->room--;
			r->keep->dirs++;
		} else {
			close(r->dirs[i].fd);
		}
	}
	r->ndirs = 0;
}

/* Where controller C's files are for R's cgroup: 1 its v1 hierarchy, 2 the unified one (when
 * not on v1, or the cgroup is not in that hierarchy: the unified one still has the core files,
 * cpu.stat's usage on a hybrid host whose unit exists there only), 0 nowhere. */
static int where(struct reader *r, enum am_cgroup_ctl c)
{
	const char *v1 = ctl_v1[c] ? am_cgroup_layout_v1(r->l, ctl_v1[c]) : NULL;
	const char *v2 = r->l->v2_mount[0] ? r->l->v2_mount : NULL;
	int w = r->kept ? r->kept->where[c] : 0;

	if (!w) {
		if (v1 && in_hierarchy(r, v1) >= 0)
			w = 1;
		else if (v2 && in_hierarchy(r, v2) >= 0)
			w = 2;
		/* Remembered only where it cannot change under kept files: the cgroup found in
		 * its v1 hierarchy, or no v1 hierarchy for it to appear in later. */
		if (r->kept && (w == 1 || (w == 2 && !v1)))
			r->kept->where[c] = (signed char)w;
	}
	r->mnt[c] = w == 1 ? v1 : w == 2 ? v2 : NULL;
	return w;
}

/* Whether F is one of the files struct am_cgroup_limits holds: read only after a write, so not
 * worth a kept descriptor (and its seq_file page). */
static bool limit_file(enum am_cgroup_file f)
{
	switch (f) {
	case AM_CGF_CPU_MAX:
	case AM_CGF_CPU_WEIGHT:
	case AM_CGF_CFS_QUOTA:
	case AM_CGF_CFS_PERIOD:
	case AM_CGF_CPU_SHARES:
	case AM_CGF_MEM_LIMIT:
	case AM_CGF_MEM_HIGH:
	case AM_CGF_MEM_LOW:
	case AM_CGF_MEM_MIN:
	case AM_CGF_SWAP_MAX:
	case AM_CGF_PIDS_MAX:
		return true;
	default:
		return false;
	}
}

bool am_cgroup_limit_file(const char *name)
{
	static const char *const names[] = {
	    "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares",	"memory.limit_in_bytes",
	    "pids.max",		"cpu.max",	     "cpu.weight",	"cpu.weight.nice",
	    "memory.max",	"memory.high",	     "memory.swap.max", "cgroup.subtree_control",
	    "memory.failcnt", /* a reset: held with the limits, see struct am_cgroup_limits */
	    "memory.low",	"memory.min",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* File F (NAME) of controller C into the reader's buffer: 1 when there, 0 when absent. A kept
 * descriptor is re-read; a file opened now is kept while the budget allows (limit files never).
 * cgroupfs files are seq_files, read whole by am_kept_pread; non-blocking, so a FIFO planted in a
 * fixture or host tree reads as empty (garbled) instead of stopping the loop. */
static int get(struct reader *r, enum am_cgroup_ctl c, enum am_cgroup_file f, const char *name)
{
	int scratch = -1, *fd = r->kept ? &r->kept->fd[f] : &scratch;
	bool want, keep;
	int d, dir, err;

	if (!r->mnt[c] || (r->kept && (r->kept->absent & (1ull << f))))
		return 0;
	if (*fd >= 0) {
		err = am_kept_pread(*fd, false, r->buf);
		if (!err)
			r->found = 1;
		else if (am_kept_gone(err))
			r->gone = 1; /* the whole cgroup is read again, afresh */
		return !err;
	}
	d = dir_index(r, r->mnt[c]);
	dir = d < 0 ? d : r->dirs[d].fd;
	/* A limit that could not be read (descriptors or memory short) is not "no limit": held,
	 * it would stand until someone writes the file. */
	if (limit_file(f) &&
	    ((dir < 0 && dir != -ENOENT) || (r->kept && r->kept->where[c] == 1 && dir == -ENOENT)))
		r->limits_incomplete = true;
	if (dir < 0) {
		if (r->kept)
			r->kept->where[c] = 0; /* the cgroup left it: look again next time */
		return 0;
	}
	want = r->kept && r->keep && r->keep->pseudo && !limit_file(f) && !r->no_keep;
	keep = want && r->keep->left > 0 && r->keep->room > 0;
	err = am_kept_read(fd, dir, name, keep, r->buf);
	r->unkept |= want && !keep && err != -ENOENT; /* an absent file needs no directory */
	if (err == -ENOENT && r->dirs[d].kept && !dir_live(r, (size_t)d)) {
		r->gone = 1; /* a kept directory of a removed cgroup: read afresh */
		return 0;
	}
	if (err && err != -ENOENT && limit_file(f))
		r->limits_incomplete = true;
	if (err == -ENOENT && r->kept && r->kept->where[c] == 1)
		r->kept->absent |= 1ull << f;
	if (*fd >= 0) {
		r->keep->left--;
		r->keep->room--;
		r->kept->n++;
	}
	if (!err)
		r->found = 1;
	return !err;
}

static void garbled(struct reader *r, const char *file, const char *why)
{
	if (am_cgroup_limit_file(file))
		r->limits_garbled = true; /* not held: read again next time */
	if (!r->out->garbled++)
		snprintf(r->out->first_garbled, sizeof(r->out->first_garbled), "%s: %s", file,
			 why ? why : "garbled");
}

/* One-number file into *V, setting BIT in *HAVE. */
static void value_into(struct reader *r, enum am_cgroup_ctl c, enum am_cgroup_file f,
		       const char *file, uint64_t *v, unsigned *have, unsigned bit)
{
	const char *why = NULL;

	if (!get(r, c, f, file))
		return;
	if (am_parse_cgroup_value(r->buf->data, v, &why))
		garbled(r, file, why);
	else
		*have |= bit;
}

static void value(struct reader *r, enum am_cgroup_ctl c, enum am_cgroup_file f, const char *file,
		  uint64_t *v, unsigned bit)
{
	value_into(r, c, f, file, v, &r->out->have, bit);
}

/* cpuacct's nanosecond counters into the cpu microsecond fields. */
static void cpuacct_ns(struct reader *r, enum am_cgroup_file f, const char *file, uint64_t *usec,
		       unsigned bit)
{
	uint64_t ns;
	const char *why = NULL;

	if (!get(r, AM_CGC_CPUACCT, f, file))
		return;
	if (am_parse_cgroup_value(r->buf->data, &ns, &why)) {
		garbled(r, file, why);
		return;
	}
	*usec = ns / 1000;
	r->out->cpu.have |= bit;
}

/* FILE read and parsed by CALL (which sets why), counted as garbled when CALL fails. */
#define PARSED(r, c, f, file, call)                                                                \
	do {                                                                                       \
		if (get(r, c, f, file) && (call))                                                  \
			garbled(r, file, why);                                                     \
	} while (0)

static void read_cpu_v2(struct reader *r)
{
	struct am_cgroup_cpu *cpu = &r->out->cpu;
	const char *why = NULL;

	if (r->reuse_limits)
		return;
	PARSED(r, AM_CGC_CPU, AM_CGF_CPU_MAX, "cpu.max",
	       am_parse_cgroup_cpu_max(r->buf->data, cpu, &why));
	value_into(r, AM_CGC_CPU, AM_CGF_CPU_WEIGHT, "cpu.weight", &cpu->weight, &cpu->have,
		   AM_CG_CPU_WEIGHT);
}

static void read_cpu_v1_limits(struct reader *r)
{
	struct am_cgroup_cpu *cpu = &r->out->cpu;
	const char *why = NULL;
	char quota[64];

	if (r->reuse_limits)
		return;
	if (get(r, AM_CGC_CPU, AM_CGF_CFS_QUOTA, "cpu.cfs_quota_us")) {
		snprintf(quota, sizeof(quota), "%s", r->buf->data);
		PARSED(r, AM_CGC_CPU, AM_CGF_CFS_PERIOD, "cpu.cfs_period_us",
		       am_parse_cgroup_cfs(quota, r->buf->data, cpu, &why));
	}
	value_into(r, AM_CGC_CPU, AM_CGF_CPU_SHARES, "cpu.shares", &cpu->shares, &cpu->have,
		   AM_CG_CPU_SHARES);
}

/* On a hybrid host the unified hierarchy's cpu.stat (a core file, 4.15+) gives a cgroup found
 * there its usage, user and system time in µs from one file, where v1 takes two: cpuacct.usage
 * and cpuacct.stat (user and system in USER_HZ ticks). A path holds the same tasks in every
 * hierarchy systemd runs (PSI is read from the unified one for the same reason); a cgroup made
 * by a runtime's cgroupfs driver is in the v1 hierarchies only and keeps cpuacct. Not the root:
 * the unified root's cpu.stat is the system's CPU times (as /proc/stat counts them, idle-less),
 * not the scheduler's run time that cpuacct sums. */
static bool usage_from_unified(struct reader *r)
{
	const unsigned both = AM_CG_CPU_USAGE | AM_CG_CPU_USER_SYSTEM;
	struct am_cgroup_cpu *cpu = &r->out->cpu;
	const char *why = NULL;

	if (!strcmp(r->path, "/") || where(r, AM_CGC_UNIFIED) != 2 ||
	    !get(r, AM_CGC_UNIFIED, AM_CGF_CPU_CORE, "cpu.stat"))
		return false;
	if (am_parse_cgroup_cpu_stat(r->buf->data, cpu, &why)) {
		garbled(r, "cpu.stat", why);
		return false;
	}
	return (cpu->have & both) == both;
}

static void read_cpu(struct reader *r, long user_hz)
{
	struct am_cgroup_cpu *cpu = &r->out->cpu;
	const char *why = NULL;

	if (!where(r, AM_CGC_CPU))
		return;
	PARSED(r, AM_CGC_CPU, AM_CGF_CPU_STAT, "cpu.stat",
	       am_parse_cgroup_cpu_stat(r->buf->data, cpu, &why));
	if (where(r, AM_CGC_CPU) == 2) {
		read_cpu_v2(r);
		return;
	}
	read_cpu_v1_limits(r);
	if (usage_from_unified(r) || where(r, AM_CGC_CPUACCT) != 1)
		return;
	cpuacct_ns(r, AM_CGF_ACCT_USAGE, "cpuacct.usage", &cpu->usage_usec, AM_CG_CPU_USAGE);
	/* User and system time from one file: cpuacct.stat scales them (cputime_adjust) to add
	 * up to the usage, as v2's cpu.stat does, in USER_HZ ticks; usage_user and usage_sys
	 * (4.7+), unscaled tick samples in two files, only where it is missing. */
	PARSED(r, AM_CGC_CPUACCT, AM_CGF_ACCT_STAT, "cpuacct.stat",
	       am_parse_cgroup_cpuacct_stat(r->buf->data, user_hz, cpu, &why));
	if (cpu->have & AM_CG_CPU_USER_SYSTEM)
		return;
	cpuacct_ns(r, AM_CGF_ACCT_USER, "cpuacct.usage_user", &cpu->user_usec,
		   AM_CG_CPU_USER_SYSTEM);
	cpuacct_ns(r, AM_CGF_ACCT_SYS, "cpuacct.usage_sys", &cpu->system_usec,
		   AM_CG_CPU_USER_SYSTEM);
}

static void read_memory_v2(struct reader *r)
{
	struct am_cgroup_sample *o = r->out;
	const char *why = NULL;

	if (!r->reuse_limits) {
		value(r, AM_CGC_MEMORY, AM_CGF_MEM_HIGH, "memory.high", &o->mem_high,
		      AM_CG_MEM_HIGH);
		value(r, AM_CGC_MEMORY, AM_CGF_MEM_LOW, "memory.low", &o->mem_low, AM_CG_MEM_LOW);
		value(r, AM_CGC_MEMORY, AM_CGF_MEM_MIN, "memory.min", &o->mem_min, AM_CG_MEM_MIN);
		value(r, AM_CGC_MEMORY, AM_CGF_SWAP_MAX, "memory.swap.max", &o->swap_limit,
		      AM_CG_MEM_SWAP_LIMIT);
	}
	value(r, AM_CGC_MEMORY, AM_CGF_SWAP_CURRENT, "memory.swap.current", &o->swap_usage,
	      AM_CG_MEM_SWAP);
	PARSED(r, AM_CGC_MEMORY, AM_CGF_MEM_EVENTS, "memory.events",
	       am_parse_cgroup_memory_events(r->buf->data, &o->events, &why));
}

static void read_memory_v1(struct reader *r)
{
	struct am_cgroup_sample *o = r->out;
	const char *why = NULL;
	uint64_t memsw = 0;

	if (r->reuse_limits && r->kept->lim.failcnt_held) {
		o->mem_failcnt = r->kept->lim.failcnt;
		o->have |= AM_CG_MEM_FAILCNT;
	} else {
		r->no_keep = (o->have & AM_CG_MEM_LIMIT) && o->mem_limit == AM_CGROUP_UNLIMITED;
		value(r, AM_CGC_MEMORY, AM_CGF_MEM_FAILCNT, "memory.failcnt", &o->mem_failcnt,
		      AM_CG_MEM_FAILCNT);
		r->no_keep = false;
	}
	PARSED(r, AM_CGC_MEMORY, AM_CGF_OOM_CONTROL, "memory.oom_control",
	       am_parse_cgroup_oom_control(r->buf->data, &o->events, &why));
	/* v1 counts memory+swap together: swap is the difference, which memory.stat gives as
	 * total_swap with swap accounting (sparing a file); else the memsw file when there. */
	if (o->memstat.have & AM_CG_MS_SWAP) {
		o->swap_usage = o->memstat.swap;
		o->have |= AM_CG_MEM_SWAP;
	} else if ((o->have & AM_CG_MEM_USAGE) &&
		   get(r, AM_CGC_MEMORY, AM_CGF_MEMSW_USAGE, "memory.memsw.usage_in_bytes") &&
		   !am_parse_cgroup_value(r->buf->data, &memsw, &why) && memsw >= o->mem_usage) {
		o->swap_usage = memsw - o->mem_usage;
		o->have |= AM_CG_MEM_SWAP;
	}
}

static void read_memory(struct reader *r)
{
	struct am_cgroup_sample *o = r->out;
	const char *why = NULL;
	int w = where(r, AM_CGC_MEMORY);

	if (!w)
		return;
	value(r, AM_CGC_MEMORY, AM_CGF_MEM_USAGE,
	      w == 2 ? "memory.current" : "memory.usage_in_bytes", &o->mem_usage, AM_CG_MEM_USAGE);
	if (!r->reuse_limits)
		value(r, AM_CGC_MEMORY, AM_CGF_MEM_LIMIT,
		      w == 2 ? "memory.max" : "memory.limit_in_bytes", &o->mem_limit,
		      AM_CG_MEM_LIMIT);
	value(r, AM_CGC_MEMORY, AM_CGF_MEM_PEAK,
	      w == 2 ? "memory.peak" : "memory.max_usage_in_bytes", &o->mem_peak, AM_CG_MEM_PEAK);
	PARSED(r, AM_CGC_MEMORY, AM_CGF_MEM_STAT, "memory.stat",
	       am_parse_cgroup_memory_stat(r->buf->data, &o->memstat, &why));
	if (w == 2)
		read_memory_v2(r);
	else
		read_memory_v1(r);
}

/* blkio or io.stat into OUT's io, marking it present when it parsed. */
static void io_file(struct reader *r, enum am_cgroup_file f, const char *file, int kind)
{
	struct am_cgroup_sample *o = r->out;
	const char *why = NULL;
	int err;

	if (!get(r, AM_CGC_BLKIO, f, file))
		return;
	err = kind == 2 ? am_parse_cgroup_io_stat(r->buf->data, &o->io, &why)
			: am_parse_cgroup_blkio(r->buf->data, kind, &o->io, &why);
	if (err)
		garbled(r, file, why);
	else if (f != AM_CGF_BLKIO_IOS)
		o->have |= AM_CG_IO;
}

static void read_pids_io(struct reader *r)
{
	struct am_cgroup_sample *o = r->out;
	const char *why = NULL;
	int w;

	if (where(r, AM_CGC_PIDS)) {
		value(r, AM_CGC_PIDS, AM_CGF_PIDS_CURRENT, "pids.current", &o->pids, AM_CG_PIDS);
		if (!r->reuse_limits)
			value(r, AM_CGC_PIDS, AM_CGF_PIDS_MAX, "pids.max", &o->pids_limit,
			      AM_CG_PIDS_LIMIT);
		PARSED(r, AM_CGC_PIDS, AM_CGF_PIDS_EVENTS, "pids.events",
		       am_parse_cgroup_pids_events(r->buf->data, &o->pids_events, &why));
	}
	w = where(r, AM_CGC_BLKIO);
	if (w == 2) {
		io_file(r, AM_CGF_IO_STAT, "io.stat", 2);
		return;
	}
	if (!w)
		return;
	memset(&o->io, 0, sizeof(o->io));
	io_file(r, AM_CGF_BLKIO_BYTES, "blkio.throttle.io_service_bytes", 1);
	io_file(r, AM_CGF_BLKIO_IOS, "blkio.throttle.io_serviced", 0);
}

/* PSI exists on the unified hierarchy only (4.20+, every non-root cgroup). */
static void read_psi(struct reader *r)
{
	static const struct {
		enum am_cgroup_file f;
		const char *file;
		size_t off;
		unsigned bit;
	} files[] = {
	    {AM_CGF_PSI_CPU, "cpu.pressure", offsetof(struct am_cgroup_sample, psi_cpu),
	     AM_CG_PSI_CPU},
	    {AM_CGF_PSI_MEMORY, "memory.pressure", offsetof(struct am_cgroup_sample, psi_memory),
	     AM_CG_PSI_MEMORY},
	    {AM_CGF_PSI_IO, "io.pressure", offsetof(struct am_cgroup_sample, psi_io), AM_CG_PSI_IO},
	};
	const char *why = NULL;
	size_t i;

	for (i = 0; where(r, AM_CGC_UNIFIED) && i < sizeof(files) / sizeof(files[0]); i++) {
		if (!get(r, AM_CGC_UNIFIED, files[i].f, files[i].file))
			continue;
		if (am_parse_psi(r->buf->data, (struct am_psi *)((char *)r->out + files[i].off),
				 &why))
			garbled(r, files[i].file, why);
		else
			r->out->have |= files[i].bit;
	}
}

void am_cgroup_kept_init(struct am_cgroup_kept *k)
{
	size_t i;

	memset(k, 0, sizeof(*k));
	for (i = 0; i < AM_CGF_N; i++)
		k->fd[i] = -1;
}

void am_cgroup_kept_close(struct am_cgroup_kept *k, struct am_cgroup_keep *keep)
{
	size_t i;

	for (i = 0; i < AM_CGF_N; i++)
		if (k->fd[i] >= 0)
			close(k->fd[i]);
	if (keep) {
		keep->left += k->n;
		keep->room += k->n;
	}
	dirs_release(k, keep);
	am_cgroup_kept_init(k);
}

#define LIMIT_BITS                                                                                 \
	(AM_CG_MEM_LIMIT | AM_CG_MEM_HIGH | AM_CG_MEM_LOW | AM_CG_MEM_MIN | AM_CG_MEM_SWAP_LIMIT | \
	 AM_CG_PIDS_LIMIT)
#define LIMIT_CPU_BITS (AM_CG_CPU_QUOTA | AM_CG_CPU_WEIGHT | AM_CG_CPU_SHARES)

/* The limits just read from the files into L. */
static void limits_take(const struct am_cgroup_sample *o, struct am_cgroup_limits *l)
{
	l->have = o->have & LIMIT_BITS;
	l->cpu_have = o->cpu.have & LIMIT_CPU_BITS;
	l->quota_usec = o->cpu.quota_usec;
	l->period_usec = o->cpu.period_usec;
	l->weight = o->cpu.weight;
	l->shares = o->cpu.shares;
	l->mem_limit = o->mem_limit;
	l->mem_high = o->mem_high;
	l->mem_low = o->mem_low;
	l->mem_min = o->mem_min;
	l->swap_limit = o->swap_limit;
	l->pids_limit = o->pids_limit;
	l->failcnt_held = (o->have & AM_CG_MEM_LIMIT) && o->mem_limit == AM_CGROUP_UNLIMITED &&
			  (o->have & AM_CG_MEM_FAILCNT);
	l->failcnt = o->mem_failcnt;
}

/* The held limits L into the sample, as if their files had been read. */
static void limits_put(const struct am_cgroup_limits *l, struct am_cgroup_sample *o)
{
	o->have |= l->have;
	o->cpu.have |= l->cpu_have;
	o->cpu.quota_usec = l->quota_usec;
	o->cpu.period_usec = l->period_usec;
	o->cpu.weight = l->weight;
	o->cpu.shares = l->shares;
	o->mem_limit = l->mem_limit;
	o->mem_high = l->mem_high;
	o->mem_low = l->mem_low;
	o->mem_min = l->mem_min;
	o->swap_limit = l->swap_limit;
	o->pids_limit = l->pids_limit;
}

static int read_once(struct reader *r, long user_hz)
{
	memset(r->out, 0, sizeof(*r->out));
	dirs_from_kept(r);
	r->unkept = false;
	r->reuse_limits = r->kept && r->kept->lim_held && r->kept->limits_unchanged;
	r->limits_garbled = false;
	r->limits_incomplete = false;
	read_cpu(r, user_hz);
	read_memory(r);
	read_pids_io(r);
	read_psi(r);
	if (r->reuse_limits) {
		limits_put(&r->kept->lim, r->out);
	} else if (r->kept) {
		limits_take(r->out, &r->kept->lim);
		r->kept->lim_held =
		    r->found && !r->limits_garbled && !r->limits_incomplete && !r->gone;
	}
	dirs_settle(r);
	return r->found ? 0 : -ENOENT;
}

int am_cgroup_read_kept(const struct am_cgroup_layout *layout, const char *rootfs, const char *path,
			long user_hz, struct am_strbuf *scratch, struct am_cgroup_kept *kept,
			struct am_cgroup_keep *keep, struct am_cgroup_sample *out)
{
	struct reader r = {.rootfs = rootfs && strcmp(rootfs, "/") ? rootfs : "",
			   .path = path,
			   .l = layout,
			   .buf = scratch,
			   .out = out,
			   .kept = kept,
			   .keep = keep};
	int err = read_once(&r, user_hz);

	if (!r.gone)
		return err;
	/* A kept file is gone: the cgroup was removed, and perhaps made again. */
	am_cgroup_kept_close(kept, keep);
	if (keep)
		keep->reopened++;
	r.found = r.gone = 0;
	return read_once(&r, user_hz);
}

int am_cgroup_read(const struct am_cgroup_layout *layout, const char *rootfs, const char *path,
		   long user_hz, struct am_strbuf *scratch, struct am_cgroup_sample *out)
{
	return am_cgroup_read_kept(layout, rootfs, path, user_hz, scratch, NULL, NULL, out);
}
