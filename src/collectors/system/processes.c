/* processes: the top CPU and memory consumers from /proc/PID/stat. CPU is a rate between two
 * cycles (a PID is matched with its start time, so a reused PID is a new process); memory is
 * the resident set. Also counts processes per scheduler state, like node_processes_state. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "collectors/parse/rate.h"
#include "util/clock.h"
#include "util/log.h"

/* How many processes each ranking (CPU, memory) exports; their union is exported. */
#define TOP_N 10

struct proc_entry {
	struct am_pid_stat st;
	double cpu_ratio; /* < 0: no previous sample */
	int selected;
};

/* Open /proc/PID/stat descriptors kept between cycles: a pread on a kept descriptor costs far
 * less than a path lookup, open and close, and a descriptor keeps naming the same process (it
 * fails once the process exits, even if its PID is reused). */
struct pid_fd {
	int pid; /* 0: empty slot */
	int fd;
};

struct fd_table {
	struct pid_fd *slots; /* open addressing, power-of-two size */
	size_t nslots, used;
};

struct processes_state {
	struct am_roots_buf roots;
	struct am_rate_table rates;
	struct fd_table fds[2]; /* last cycle's and this cycle's */
	int cur_fds;		/* index of last cycle's table */
	size_t max_fds;
	struct proc_entry *procs;
	size_t nprocs, cap;
	long hz, page_size;
	int warned;
};

static int processes_init(void **state, const struct am_collect_roots *roots)
{
	struct processes_state *st = calloc(1, sizeof(*st));
	struct rlimit rl;

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	st->hz = sysconf(_SC_CLK_TCK);
	st->page_size = sysconf(_SC_PAGESIZE);
	/* Leave most of the descriptor limit to the rest of the agent (perf, BPF, HTTP). */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
		st->max_fds = rl.rlim_cur / 4 < 1024 ? rl.rlim_cur / 4 : 1024;
	else
		st->max_fds = 1024;
	*state = st;
	return 0;
}

static int by_cpu(const void *a, const void *b)
{
	const struct proc_entry *x = a, *y = b;
	double cx = x->cpu_ratio, cy = y->cpu_ratio;

	/* Without a previous cycle, rank by CPU time consumed so far. */
	if (cx < 0 || cy < 0) {
		cx = (double)(x->st.utime + x->st.stime);
		cy = (double)(y->st.utime + y->st.stime);
	}
	return cx < cy ? 1 : cx > cy ? -1 : x->st.pid - y->st.pid;
}

static int by_rss(const void *a, const void *b)
{
	const struct proc_entry *x = a, *y = b;

	return x->st.rss_pages < y->st.rss_pages   ? 1
	       : x->st.rss_pages > y->st.rss_pages ? -1
						   : x->st.pid - y->st.pid;
}

static void emit(struct processes_state *st, struct am_metric_set *out)
{
	static const char states[] = "RSDZTtXIWPK";
	size_t i, nstate[sizeof(states)] = {0};
	char pid[16];
	int k;

	for (i = 0; i < st->nprocs; i++) {
		const char *s = strchr(states, st->procs[i].st.state);

		nstate[s ? (size_t)(s - states) : sizeof(states) - 1]++;
	}
	for (k = 0; states[k]; k++) {
		char label[2] = {states[k], 0};

		if (nstate[k])
			am_metric_add(out, "antimetal_processes_state",
				      "Processes by scheduler state letter (R, S, D, Z, ...).",
				      AM_METRIC_GAUGE, (double)nstate[k], "state", label, NULL);
	}
	am_metric_add(out, "antimetal_processes", "Processes (thread groups) that exist.",
		      AM_METRIC_GAUGE, (double)st->nprocs, NULL);
	/* An empty procfs (a fixture, a bare container) leaves procs NULL: qsort must not see it. */
	if (st->nprocs) {
		qsort(st->procs, st->nprocs, sizeof(*st->procs), by_cpu);
		for (i = 0; i < st->nprocs && i < TOP_N; i++)
			st->procs[i].selected = 1;
		qsort(st->procs, st->nprocs, sizeof(*st->procs), by_rss);
		for (i = 0; i < st->nprocs && i < TOP_N; i++)
			st->procs[i].selected = 1;
	}
	for (i = 0; i < st->nprocs; i++) {
		const struct proc_entry *e = &st->procs[i];

		if (!e->selected)
			continue;
		snprintf(pid, sizeof(pid), "%d", e->st.pid);
		am_metric_add(out, "antimetal_process_cpu_seconds_total",
			      "CPU time of a top process, user and system.", AM_METRIC_COUNTER,
			      (double)(e->st.utime + e->st.stime) / (double)st->hz, "pid", pid,
			      "comm", e->st.comm, NULL);
		am_metric_add(out, "antimetal_process_resident_memory_bytes",
			      "Resident set size of a top process.", AM_METRIC_GAUGE,
			      (double)(e->st.rss_pages > 0 ? e->st.rss_pages : 0) *
				  (double)st->page_size,
			      "pid", pid, "comm", e->st.comm, NULL);
		if (e->cpu_ratio >= 0)
			am_metric_add(out, "antimetal_process_cpu_ratio",
				      "CPU used by a top process since the last cycle, in CPUs.",
				      AM_METRIC_GAUGE, e->cpu_ratio, "pid", pid, "comm", e->st.comm,
				      NULL);
	}
}

static struct pid_fd *fd_slot(struct fd_table *t, int pid)
{
	size_t i = ((size_t)pid * 2654435761u) & (t->nslots - 1);

	while (t->slots[i].pid && t->slots[i].pid != pid)
		i = (i + 1) & (t->nslots - 1);
	return &t->slots[i];
}

/* Size T (emptied) for up to N entries. Returns 0 or -ENOMEM. */
static int fd_table_prepare(struct fd_table *t, size_t n)
{
	size_t want = 64;

	while (want < n * 2)
		want *= 2;
	if (want != t->nslots) {
		struct pid_fd *s = calloc(want, sizeof(*s));

		if (!s)
			return -ENOMEM;
		free(t->slots);
		t->slots = s;
		t->nslots = want;
	} else {
		memset(t->slots, 0, want * sizeof(*t->slots));
	}
	t->used = 0;
	return 0;
}

static void fd_table_close_all(struct fd_table *t)
{
	size_t i;

	for (i = 0; i < t->nslots; i++)
		if (t->slots[i].pid && t->slots[i].fd >= 0)
			close(t->slots[i].fd);
	t->used = 0;
	if (t->slots)
		memset(t->slots, 0, t->nslots * sizeof(*t->slots));
}

/* Read PID's stat line into LINE (LEN bytes), reusing last cycle's descriptor from OLD and
 * keeping the descriptor in NEW while there is room. Returns the length, or -1. */
static ssize_t read_stat(struct processes_state *st, int dfd, int pid, struct fd_table *old,
			 struct fd_table *new, char *line, size_t len)
{
	struct pid_fd *o = old->nslots ? fd_slot(old, pid) : NULL;
	char rel[32];
	ssize_t n;
	int fd = -1;

	if (o && o->pid == pid) {
		fd = o->fd;
		o->fd = -1; /* moved */
	}
	if (fd < 0) {
		snprintf(rel, sizeof(rel), "%d/stat", pid);
		fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1; /* exited between readdir and open: normal */
	}
	/* The stat line is one short record: one read returns all of it. */
	n = pread(fd, line, len - 1, 0);
	if (n <= 0 || (size_t)n == len - 1 || new->used >= st->max_fds ||
	    (new->used + 1) * 2 > new->nslots) {
		close(fd);
	} else {
		struct pid_fd *s = fd_slot(new, pid);

		s->pid = pid;
		s->fd = fd;
		new->used++;
	}
	if (n <= 0 || (size_t)n == len - 1)
		return -1;
	line[n] = '\0';
	return n;
}

static int processes_collect(void *state, struct am_metric_set *out)
{
	struct processes_state *st = state;
	struct fd_table *old, *new;
	struct dirent *de;
	uint64_t now;
	DIR *dir;

	dir = opendir(st->roots.procfs);
	if (!dir) {
		int err = -errno;

		if (!st->warned)
			am_warn("processes: cannot list %s: %s", st->roots.procfs, strerror(-err));
		st->warned = 1;
		return err;
	}
	st->warned = 0;
	now = am_clock_ns(CLOCK_MONOTONIC);
	am_rate_cycle(&st->rates);
	old = &st->fds[st->cur_fds];
	new = &st->fds[!st->cur_fds];
	if (fd_table_prepare(new, st->max_fds)) {
		closedir(dir);
		return -ENOMEM;
	}
	st->nprocs = 0;
	while ((de = readdir(dir))) {
		struct proc_entry *e;
		char key[64], line[1024];
		double rate;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
		    strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		if (read_stat(st, dirfd(dir), atoi(de->d_name), old, new, line, sizeof(line)) < 0)
			continue;
		if (st->nprocs == st->cap) {
			size_t cap = st->cap ? st->cap * 2 : 256;
			struct proc_entry *p = realloc(st->procs, cap * sizeof(*p));

			if (!p)
				break;
			st->procs = p;
			st->cap = cap;
		}
		e = &st->procs[st->nprocs];
		if (am_parse_pid_stat(line, &e->st, NULL))
			continue;
		e->selected = 0;
		e->cpu_ratio = -1;
		snprintf(key, sizeof(key), "%d:%llu", e->st.pid,
			 (unsigned long long)e->st.starttime);
		if (am_rate_update(&st->rates, key, e->st.utime + e->st.stime, now, 64, &rate) == 1)
			e->cpu_ratio = rate / (double)st->hz;
		st->nprocs++;
	}
	closedir(dir);
	/* Descriptors not carried over belong to processes that are gone. */
	fd_table_close_all(old);
	st->cur_fds = !st->cur_fds;
	emit(st, out);
	return 0;
}

static void processes_destroy(void *state)
{
	struct processes_state *st = state;

	if (!st)
		return;
	fd_table_close_all(&st->fds[0]);
	fd_table_close_all(&st->fds[1]);
	free(st->fds[0].slots);
	free(st->fds[1].slots);
	am_rate_free(&st->rates);
	free(st->procs);
	free(st);
}

const struct am_collector am_collector_processes = {
    .name = "processes",
    .init = processes_init,
    .collect = processes_collect,
    .destroy = processes_destroy,
};
