/* cgroup v1 and v2 controller files: text in, numbers out, with what was present marked.
 * Formats: Documentation/admin-guide/cgroup-v2.rst and cgroup-v1/{cpuacct,memory,blkio}.rst. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"

/* v1 writes "no limit" as LONG_MAX rounded down to a page; nothing real is this high. */
#define V1_UNLIMITED_FROM (1ull << 62)

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

int am_parse_cgroup_value(const char *text, uint64_t *v, const char **why)
{
	const char *p = am_skip_blank(text);

	if (!strncmp(p, "max", 3) && am_at_eol(p + 3)) {
		*v = AM_CGROUP_UNLIMITED;
		return 0;
	}
	if (am_parse_u64(&p, v) || !am_at_eol(p))
		return bad(why, "expected one number or 'max'");
	if (*v >= V1_UNLIMITED_FROM)
		*v = AM_CGROUP_UNLIMITED;
	return 0;
}

/* Walk "KEY VALUE" lines, calling TAKE for each; a line without a number is garbled. */
typedef void (*kv_fn)(const char *key, size_t klen, uint64_t v, void *ctx);

static int each_kv(const char *text, kv_fn take, void *ctx, const char **why)
{
	const char *line, *p, *sp;
	uint64_t v;

	for (line = text; line && *line; line = am_next_line(line)) {
		if (*line == '\n')
			continue;
		sp = line;
		while (*sp && *sp != ' ' && *sp != '\n')
			sp++;
		if (*sp != ' ' || sp == line)
			return bad(why, "expected 'KEY VALUE' lines");
		p = sp + 1;
		if (am_parse_u64(&p, &v) || !am_at_eol(p))
			return bad(why, "expected 'KEY VALUE' lines with a decimal VALUE");
		take(line, (size_t)(sp - line), v, ctx);
	}
	return 0;
}

static int key_is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && !memcmp(key, name, klen);
}

/* Set *DST and its HAVE bit when KEY is NAME. */
#define TAKE(name, field, bit)                                                                     \
	if (key_is(key, klen, name)) {                                                             \
		o->field = v;                                                                      \
		o->have |= (bit);                                                                  \
		return;                                                                            \
	}

static void cpu_stat_kv(const char *key, size_t klen, uint64_t v, void *ctx)
{
	struct am_cgroup_cpu *o = ctx;

	TAKE("usage_usec", usage_usec, AM_CG_CPU_USAGE);
	TAKE("user_usec", user_usec, AM_CG_CPU_USER_SYSTEM);
	TAKE("system_usec", system_usec, AM_CG_CPU_USER_SYSTEM);
	TAKE("nr_periods", nr_periods, AM_CG_CPU_THROTTLING);
	TAKE("nr_throttled", nr_throttled, AM_CG_CPU_THROTTLING);
	TAKE("throttled_usec", throttled_usec, AM_CG_CPU_THROTTLING);
	/* v1 counts throttled time in nanoseconds */
	TAKE("throttled_time", throttled_usec, AM_CG_CPU_THROTTLING);
}

int am_parse_cgroup_cpu_stat(const char *text, struct am_cgroup_cpu *out, const char **why)
{
	struct am_cgroup_cpu c = *out;
	int v1 = strstr(text, "throttled_time ") != NULL;

	if (each_kv(text, cpu_stat_kv, &c, why))
		return -EINVAL;
	if (v1)
		c.throttled_usec /= 1000;
	*out = c;
	return 0;
}

int am_parse_cgroup_cpu_max(const char *text, struct am_cgroup_cpu *out, const char **why)
{
	const char *p = am_skip_blank(text);
	uint64_t quota, period;

	if (!strncmp(p, "max", 3)) {
		quota = AM_CGROUP_UNLIMITED;
		p += 3;
	} else if (am_parse_u64(&p, &quota)) {
		return bad(why, "expected 'QUOTA PERIOD' or 'max PERIOD'");
	}
	if (*p != ' ')
		return bad(why, "expected 'QUOTA PERIOD' or 'max PERIOD'");
	p++;
	if (am_parse_u64(&p, &period) || !am_at_eol(p) || period == 0)
		return bad(why, "expected a period of at least 1 us");
	out->quota_usec = quota;
	out->period_usec = period;
	out->have |= AM_CG_CPU_QUOTA;
	return 0;
}

int am_parse_cgroup_cfs(const char *quota, const char *period, struct am_cgroup_cpu *out,
			const char **why)
{
	const char *p = am_skip_blank(quota);
	int64_t q;
	uint64_t per;

	if (am_parse_i64(&p, &q) || !am_at_eol(p) || q < -1)
		return bad(why, "cpu.cfs_quota_us: expected -1 or a number of microseconds");
	p = am_skip_blank(period);
	if (am_parse_u64(&p, &per) || !am_at_eol(p) || per == 0)
		return bad(why, "cpu.cfs_period_us: expected a number of microseconds");
	out->quota_usec = q < 0 ? AM_CGROUP_UNLIMITED : (uint64_t)q;
	out->period_usec = per;
	out->have |= AM_CG_CPU_QUOTA;
	return 0;
}

struct ticks {
	uint64_t user, system;
	int seen;
};

static void cpuacct_kv(const char *key, size_t klen, uint64_t v, void *ctx)
{
	struct ticks *t = ctx;

	if (key_is(key, klen, "user")) {
		t->user = v;
		t->seen |= 1;
	} else if (key_is(key, klen, "system")) {
		t->system = v;
		t->seen |= 2;
	}
}

int am_parse_cgroup_cpuacct_stat(const char *text, long ticks_per_sec, struct am_cgroup_cpu *out,
				 const char **why)
{
	struct ticks t = {0};

	if (ticks_per_sec <= 0)
		return bad(why, "ticks per second must be positive");
	if (each_kv(text, cpuacct_kv, &t, why))
		return -EINVAL;
	if (t.seen != 3)
		return bad(why, "cpuacct.stat: expected 'user' and 'system' lines");
	out->user_usec = t.user * 1000000 / (uint64_t)ticks_per_sec;
	out->system_usec = t.system * 1000000 / (uint64_t)ticks_per_sec;
	out->have |= AM_CG_CPU_USER_SYSTEM;
	return 0;
}

static void memstat_kv(const char *key, size_t klen, uint64_t v, void *ctx)
{
	struct am_cgroup_memstat *o = ctx;

	TAKE("anon", anon, AM_CG_MS_ANON);
	TAKE("rss", anon, AM_CG_MS_ANON); /* v1 */
	TAKE("file", file, AM_CG_MS_FILE);
	TAKE("cache", file, AM_CG_MS_FILE); /* v1 */
	TAKE("kernel", kernel, AM_CG_MS_KERNEL);
	TAKE("shmem", shmem, AM_CG_MS_SHMEM);
	TAKE("pgmajfault", pgmajfault, AM_CG_MS_PGMAJFAULT);
	TAKE("pgfault", pgfault, AM_CG_MS_PGFAULT);
	TAKE("file_mapped", file_mapped, AM_CG_MS_FILE_MAPPED);
	TAKE("mapped_file", file_mapped, AM_CG_MS_FILE_MAPPED); /* v1 */
	TAKE("slab", slab, AM_CG_MS_SLAB);
	TAKE("kernel_stack", kernel_stack, AM_CG_MS_KERNEL_STACK);
	TAKE("sock", sock, AM_CG_MS_SOCK);
	TAKE("file_dirty", file_dirty, AM_CG_MS_FILE_DIRTY);
	TAKE("dirty", file_dirty, AM_CG_MS_FILE_DIRTY); /* v1 */
	TAKE("file_writeback", file_writeback, AM_CG_MS_FILE_WRITEBACK);
	TAKE("writeback", file_writeback, AM_CG_MS_FILE_WRITEBACK); /* v1 */
	TAKE("total_swap", swap, AM_CG_MS_SWAP);		    /* v1, the subtree's */
}

int am_parse_cgroup_memory_stat(const char *text, struct am_cgroup_memstat *out, const char **why)
{
	struct am_cgroup_memstat m = {0};

	if (each_kv(text, memstat_kv, &m, why))
		return -EINVAL;
	*out = m;
	return 0;
}

static void memevents_kv(const char *key, size_t klen, uint64_t v, void *ctx)
{
	struct am_cgroup_memevents *o = ctx;

	TAKE("low", low, AM_CG_ME_LOW);
	TAKE("high", high, AM_CG_ME_HIGH);
	TAKE("max", max, AM_CG_ME_MAX);
	TAKE("oom", oom, AM_CG_ME_OOM);
	TAKE("oom_kill", oom_kill, AM_CG_ME_OOM_KILL);
	TAKE("under_oom", under_oom, AM_CG_ME_UNDER_OOM);
	TAKE("oom_kill_disable", oom_kill_disable, AM_CG_ME_OOM_KILL_DISABLE);
	TAKE("oom_group_kill", oom_group_kill, AM_CG_ME_OOM_GROUP_KILL);
}

int am_parse_cgroup_memory_events(const char *text, struct am_cgroup_memevents *out,
				  const char **why)
{
	struct am_cgroup_memevents e = {0};

	if (each_kv(text, memevents_kv, &e, why))
		return -EINVAL;
	*out = e;
	return 0;
}

int am_parse_cgroup_oom_control(const char *text, struct am_cgroup_memevents *out, const char **why)
{
	struct am_cgroup_memevents e = {0};

	if (each_kv(text, memevents_kv, &e, why))
		return -EINVAL;
	if (!(e.have & AM_CG_ME_UNDER_OOM))
		return bad(why, "memory.oom_control: expected an 'under_oom' line");
	*out = e;
	return 0;
}

static void pidsevents_kv(const char *key, size_t klen, uint64_t v, void *ctx)
{
	struct am_cgroup_pidsevents *o = ctx;

	TAKE("max", max, AM_CG_PE_MAX);
	TAKE("max.imposed", max_imposed, AM_CG_PE_MAX_IMPOSED);
}

int am_parse_cgroup_pids_events(const char *text, struct am_cgroup_pidsevents *out,
				const char **why)
{
	struct am_cgroup_pidsevents e = {0};
	const char *p = text;

	if (!strncmp(p, "max", 3) && p[3] >= '0' && p[3] <= '9') {
		p += 3; /* "maxN": the legacy file without its space */
		if (am_parse_u64(&p, &e.max) || !am_at_eol(p))
			return bad(why, "pids.events: expected 'max N'");
		e.have = AM_CG_PE_MAX;
	} else if (each_kv(text, pidsevents_kv, &e, why)) {
		return -EINVAL;
	}
	if (!(e.have & AM_CG_PE_MAX))
		return bad(why, "pids.events: expected a 'max' line");
	*out = e;
	return 0;
}

/* The entry of device MAJ:MIN in OUT, added when new; NULL when OUT is full (counted). */
static struct am_cgroup_io_dev *io_dev(struct am_cgroup_io *out, unsigned maj, unsigned min)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		if (out->dev[i].major == maj && out->dev[i].minor == min)
			return &out->dev[i];
	if (out->n == AM_CGROUP_IO_MAX_DEVICES) {
		out->dropped++;
		return NULL;
	}
	memset(&out->dev[out->n], 0, sizeof(out->dev[0]));
	out->dev[out->n].major = maj;
	out->dev[out->n].minor = min;
	return &out->dev[out->n++];
}

static int parse_devno(const char **p, unsigned *maj, unsigned *min)
{
	uint64_t a, b;

	if (am_parse_u64(p, &a) || **p != ':' || a > 0xfffff)
		return -EINVAL;
	(*p)++;
	if (am_parse_u64(p, &b) || b > 0xfffff)
		return -EINVAL;
	*maj = (unsigned)a;
	*min = (unsigned)b;
	return 0;
}

/* Where KEY's value goes in a device entry, or -1 for keys not kept (dbytes, dios, cost.*,
 * depth, ...). */
static long io_key_offset(const char *key, size_t len)
{
	if (key_is(key, len, "rbytes"))
		return (long)offsetof(struct am_cgroup_io_dev, rbytes);
	if (key_is(key, len, "wbytes"))
		return (long)offsetof(struct am_cgroup_io_dev, wbytes);
	if (key_is(key, len, "rios"))
		return (long)offsetof(struct am_cgroup_io_dev, rios);
	if (key_is(key, len, "wios"))
		return (long)offsetof(struct am_cgroup_io_dev, wios);
	return -1;
}

static int io_stat_line(const char *p, struct am_cgroup_io *out)
{
	struct am_cgroup_io_dev *d, scratch;
	unsigned maj, min;
	const char *eq;
	uint64_t v;
	long off;

	if (parse_devno(&p, &maj, &min))
		return -EINVAL;
	d = io_dev(out, maj, min);
	if (!d)
		d = &scratch;
	while (*p == ' ') {
		p++;
		eq = strchr(p, '=');
		if (!eq || memchr(p, ' ', (size_t)(eq - p)) || memchr(p, '\n', (size_t)(eq - p)))
			return -EINVAL;
		off = io_key_offset(p, (size_t)(eq - p));
		p = eq + 1;
		if (off < 0) {
			/* Keys not kept need not be counters: iocost gives the root cgroup
			 * cost.vrate=100.00, iolatency's debug stats depth=max. */
			size_t n = strcspn(p, " \n");

			if (!n)
				return -EINVAL;
			p += n;
			continue;
		}
		if (am_parse_u64(&p, &v))
			return -EINVAL;
		*(uint64_t *)((char *)d + off) = v;
	}
	return am_at_eol(p) ? 0 : -EINVAL;
}

int am_parse_cgroup_io_stat(const char *text, struct am_cgroup_io *out, const char **why)
{
	const char *line;

	memset(out, 0, sizeof(*out));
	for (line = text; line && *line; line = am_next_line(line)) {
		if (*line == '\n')
			continue;
		if (io_stat_line(line, out))
			return bad(why, "io.stat: expected 'MAJ:MIN KEY=N ...' lines");
	}
	return 0;
}

int am_parse_cgroup_blkio(const char *text, bool bytes, struct am_cgroup_io *out, const char **why)
{
	const char *line, *p, *op;
	unsigned maj, min;
	size_t oplen;
	uint64_t v;

	for (line = text; line && *line; line = am_next_line(line)) {
		struct am_cgroup_io_dev *d;

		p = line;
		if (*p == '\n' || !strncmp(p, "Total ", 6))
			continue; /* the file's grand total */
		if (parse_devno(&p, &maj, &min) || *p++ != ' ')
			return bad(why, "blkio: expected 'MAJ:MIN OP N' lines");
		op = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		oplen = (size_t)(p - op);
		if (*p++ != ' ' || am_parse_u64(&p, &v) || !am_at_eol(p))
			return bad(why, "blkio: expected 'MAJ:MIN OP N' lines");
		/* Sync, Async, Discard and Total are other views of the same I/O. */
		if (!key_is(op, oplen, "Read") && !key_is(op, oplen, "Write"))
			continue;
		d = io_dev(out, maj, min);
		if (d && *op == 'R')
			*(bytes ? &d->rbytes : &d->rios) = v;
		else if (d)
			*(bytes ? &d->wbytes : &d->wios) = v;
	}
	return 0;
}
