#include "collectors/parse/cgroup_read.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "collectors/parse/procfs_read.h"

/* Where one controller's files of the cgroup are. */
struct dirs {
	char v1[1024]; /* "" when the controller is not on v1 */
	char v2[1024]; /* the unified hierarchy's directory, "" when none */
	int found;
};

struct reader {
	const char *rootfs, *path;
	const struct am_cgroup_layout *l;
	struct am_strbuf *buf;
	struct am_cgroup_sample *out;
	int found;
};

/* Whether R's cgroup is a directory of the hierarchy mounted at MNT (its path in DIR). */
static int in_hierarchy(struct reader *r, const char *mnt, char *dir, size_t len)
{
	struct stat st;

	if ((size_t)snprintf(dir, len, "%s%s%s", r->rootfs, mnt,
			     strcmp(r->path, "/") ? r->path : "") >= len)
		return 0;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return 0;
	r->found = 1;
	return 1;
}

/* The directory of R's cgroup in the hierarchy of CONTROLLER: its v1 one, else the unified
 * one (V2 set), else NULL. */
static const char *dir_of(struct reader *r, const char *controller, char *dir, size_t len, int *v2)
{
	const char *mnt = controller ? am_cgroup_layout_v1(r->l, controller) : NULL;

	*v2 = 0;
	if (mnt && in_hierarchy(r, mnt, dir, len))
		return dir;
	/* Not on v1, or the cgroup is not in that hierarchy: the unified one still has the core
	 * files (cpu.stat's usage on a hybrid host whose unit exists there only). */
	*v2 = 1;
	if (r->l->v2_mount[0] && in_hierarchy(r, r->l->v2_mount, dir, len))
		return dir;
	return NULL;
}

static void garbled(struct reader *r, const char *file, const char *why)
{
	if (!r->out->garbled++)
		snprintf(r->out->first_garbled, sizeof(r->out->first_garbled), "%s: %s", file,
			 why ? why : "garbled");
}

/* Read DIR/FILE into the reader's buffer: 1 when there, 0 when absent. */
static int get(struct reader *r, const char *dir, const char *file)
{
	return dir && !am_procfs_read(dir, file, r->buf);
}

/* One-number file into *V, setting BIT in *HAVE. */
static void value_into(struct reader *r, const char *dir, const char *file, uint64_t *v,
		       unsigned *have, unsigned bit)
{
	const char *why = NULL;

	if (!get(r, dir, file))
		return;
	if (am_parse_cgroup_value(r->buf->data, v, &why))
		garbled(r, file, why);
	else
		*have |= bit;
}

static void value(struct reader *r, const char *dir, const char *file, uint64_t *v, unsigned bit)
{
	value_into(r, dir, file, v, &r->out->have, bit);
}

/* cpuacct's nanosecond counters into the cpu microsecond fields. */
static void cpuacct_ns(struct reader *r, const char *dir, const char *file, uint64_t *usec,
		       unsigned bit)
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
	char dir[1024], quota[64];
	const char *d, *why = NULL;
	int v2;

	d = dir_of(r, "cpu", dir, sizeof(dir), &v2);
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
	d = dir_of(r, "cpuacct", dir, sizeof(dir), &v2);
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
	char dir[1024];
	const char *d, *why = NULL;
	uint64_t memsw = 0;
	int v2;

	d = dir_of(r, "memory", dir, sizeof(dir), &v2);
	if (!d)
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
	char dir[1024];
	const char *d, *why = NULL;
	int v2;

	d = dir_of(r, "pids", dir, sizeof(dir), &v2);
	value(r, d, "pids.current", &o->pids, AM_CG_PIDS);
	value(r, d, "pids.max", &o->pids_limit, AM_CG_PIDS_LIMIT);
	d = dir_of(r, "blkio", dir, sizeof(dir), &v2);
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
	char dir[1024];
	const char *d, *why = NULL;
	size_t i;
	int v2;

	d = dir_of(r, NULL, dir, sizeof(dir), &v2);
	for (i = 0; d && i < sizeof(files) / sizeof(files[0]); i++) {
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
	struct reader r = {
	    rootfs && strcmp(rootfs, "/") ? rootfs : "", path, layout, scratch, out, 0};

	memset(out, 0, sizeof(*out));
	read_cpu(&r, user_hz);
	read_memory(&r);
	read_pids_io(&r);
	read_psi(&r);
	return r.found ? 0 : -ENOENT;
}
