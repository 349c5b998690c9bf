/* Parser of /proc/stat, and the metrics two samples of it give (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

const char *const am_cpu_mode_names[AM_CPU_NMODES] = {
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice",
};

static const struct am_metric_desc cpu_guest = {
    .name = "antimetal_cpu_guest_seconds_total",
    .prom = "node_cpu_guest_seconds_total",
    .help = "Seconds the CPUs spent in guests (VMs) for each mode.",
    .unit = "s",
    .type = AM_METRIC_COUNTER,
    .labels = {"cpu", "mode"},
};

/* Modes that make up the time a CPU existed: guest time is already inside user and nice. */
#define BASE_MODES AM_CPU_GUEST

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

static int parse_cpu_line(const char *p, struct am_cpu_times *t)
{
	int n = 0;

	memset(t->ticks, 0, sizeof(t->ticks));
	while (n < AM_CPU_NMODES && !am_parse_u64(&p, &t->ticks[n]))
		n++;
	/* Linux 2.6 already had user..softirq; later kernels append steal and guest. */
	return n >= 4 && am_at_eol(p) ? 0 : -EINVAL;
}

static int single_value(const char *p, uint64_t *v)
{
	return am_parse_u64(&p, v);
}

int am_parse_stat(const char *text, struct am_stat_sample *out, const char **why)
{
	struct am_stat_sample s = {.cpus = out->cpus, .cap = out->cap};
	const char *line;

	for (line = text; line && *line; line = am_next_line(line)) {
		const char *p = line;
		char key[32];

		if (am_at_eol(line))
			continue;
		am_next_token(&p, key, sizeof(key));
		if (!strcmp(key, "cpu")) {
			if (s.has_total || parse_cpu_line(p, &s.total))
				goto bad_cpu;
			s.total.cpu = -1;
			s.has_total = 1;
		} else if (!strncmp(key, "cpu", 3)) {
			const char *q = key + 3;
			uint64_t id;

			if (am_parse_u64(&q, &id) || *q || id > 1u << 20)
				goto bad_cpu;
			if (s.ncpus == s.cap) {
				size_t cap = s.cap ? s.cap * 2 : 8;
				struct am_cpu_times *c = realloc(s.cpus, cap * sizeof(*c));

				if (!c) {
					out->cpus = s.cpus;
					out->cap = s.cap;
					return -ENOMEM;
				}
				s.cpus = c;
				s.cap = cap;
			}
			if (parse_cpu_line(p, &s.cpus[s.ncpus]))
				goto bad_cpu;
			s.cpus[s.ncpus++].cpu = (int)id;
		} else if (!strcmp(key, "intr")) {
			if (single_value(p, &s.intr))
				goto bad_value;
			s.has_intr = 1;
		} else if (!strcmp(key, "ctxt")) {
			if (single_value(p, &s.ctxt))
				goto bad_value;
			s.has_ctxt = 1;
		} else if (!strcmp(key, "btime")) {
			if (single_value(p, &s.btime))
				goto bad_value;
			s.has_btime = 1;
		} else if (!strcmp(key, "processes")) {
			if (single_value(p, &s.forks))
				goto bad_value;
			s.has_forks = 1;
		} else if (!strcmp(key, "procs_running")) {
			if (single_value(p, &s.procs_running))
				goto bad_value;
			s.has_running = 1;
		} else if (!strcmp(key, "procs_blocked")) {
			if (single_value(p, &s.procs_blocked))
				goto bad_value;
			s.has_blocked = 1;
		}
	}
	/* The buffer is the caller's whether or not the text parsed. */
	out->cpus = s.cpus;
	out->cap = s.cap;
	if (!s.has_total)
		return fail(why, "no aggregate 'cpu' line");
	*out = s;
	return 0;
bad_cpu:
	out->cpus = s.cpus;
	out->cap = s.cap;
	return fail(why, "a cpu line is not 'cpuN' followed by 4 to 10 tick counts");
bad_value:
	out->cpus = s.cpus;
	out->cap = s.cap;
	return fail(why, "a counter line lacks its number");
}

void am_stat_sample_free(struct am_stat_sample *s)
{
	free(s->cpus);
	*s = (struct am_stat_sample){0};
}

static uint64_t clamped_delta(uint64_t prev, uint64_t cur)
{
	/* Per-CPU idle and iowait can step backwards (kernel accounting of NO_HZ idle): that is
	 * noise, not a counter reset. */
	return cur > prev ? cur - prev : 0;
}

static const struct am_cpu_times *find_cpu(const struct am_stat_sample *s, int cpu)
{
	size_t i;

	for (i = 0; i < s->ncpus; i++)
		if (s->cpus[i].cpu == cpu)
			return &s->cpus[i];
	return NULL;
}

/* Fill RATIO[mode] from PREV..CUR; return the busy share, or -1 when no time passed. */
static double ratios(const struct am_cpu_times *prev, const struct am_cpu_times *cur,
		     double ratio[AM_CPU_NMODES])
{
	uint64_t d[AM_CPU_NMODES], total = 0;
	int m;

	for (m = 0; m < AM_CPU_NMODES; m++) {
		d[m] = clamped_delta(prev->ticks[m], cur->ticks[m]);
		if (m < BASE_MODES)
			total += d[m];
	}
	if (!total)
		return -1;
	for (m = 0; m < AM_CPU_NMODES; m++)
		ratio[m] = (double)d[m] / (double)total;
	return 1.0 - ratio[AM_CPU_IDLE] - ratio[AM_CPU_IOWAIT];
}

void am_stat_emit(const struct am_stat_sample *cur, const struct am_stat_sample *prev, long user_hz,
		  struct am_metric_set *out)
{
	double hz = user_hz > 0 ? (double)user_hz : 100.0, r[AM_CPU_NMODES], busy;
	char cpu[16];
	size_t i;
	int m;

	for (i = 0; i < cur->ncpus; i++) {
		const struct am_cpu_times *c = &cur->cpus[i], *p;

		snprintf(cpu, sizeof(cpu), "%d", c->cpu);
		for (m = 0; m < BASE_MODES; m++)
			am_metric_add(out,
				      AM_METRIC_DESC(.name = "antimetal_cpu_seconds_total",
						     .prom = "node_cpu_seconds_total",
						     .otel = "system.cpu.time",
						     .otel_labels = {{"mode", "cpu.mode"}},
						     .help = "Seconds each CPU spent in each mode.",
						     .unit = "s", .type = AM_METRIC_COUNTER,
						     .labels = {"cpu", "mode"}),
				      (double)c->ticks[m] / hz, "cpu", cpu, "mode",
				      am_cpu_mode_names[m], NULL);
		am_metric_add(out, &cpu_guest, (double)c->ticks[AM_CPU_GUEST] / hz, "cpu", cpu,
			      "mode", "user", NULL);
		am_metric_add(out, &cpu_guest, (double)c->ticks[AM_CPU_GUEST_NICE] / hz, "cpu", cpu,
			      "mode", "nice", NULL);
		p = prev ? find_cpu(prev, c->cpu) : NULL;
		if (p && (busy = ratios(p, c, r)) >= 0)
			am_metric_add(
			    out,
			    AM_METRIC_DESC(.name = "antimetal_cpu_busy_ratio",
					   .help = "Share of time each CPU was not idle or waiting "
						   "for I/O since the last cycle.",
					   .type = AM_METRIC_GAUGE, .labels = {"cpu"}),
			    busy, "cpu", cpu, NULL);
	}
	for (m = 0; m < BASE_MODES; m++)
		am_metric_add(
		    out,
		    AM_METRIC_DESC(.name = "antimetal_cpu_host_seconds_total",
				   .help = "Seconds all CPUs together spent in each mode.",
				   .type = AM_METRIC_COUNTER, .labels = {"mode"}),
		    (double)cur->total.ticks[m] / hz, "mode", am_cpu_mode_names[m], NULL);
	if (prev && prev->has_total && (busy = ratios(&prev->total, &cur->total, r)) >= 0) {
		am_metric_add(out,
			      AM_METRIC_DESC(.name = "antimetal_cpu_host_busy_ratio",
					     .help = "Share of host CPU time not idle or waiting "
						     "for I/O since the last cycle.",
					     .type = AM_METRIC_GAUGE),
			      busy, NULL);
		for (m = 0; m < BASE_MODES; m++)
			am_metric_add(
			    out,
			    AM_METRIC_DESC(
				    .name = "antimetal_cpu_host_mode_ratio",
				    .help =
					"Share of host CPU time in each mode since the last cycle.",
				    .type = AM_METRIC_GAUGE, .labels = {"mode"}),
			    r[m], "mode", am_cpu_mode_names[m], NULL);
	}
	if (cur->has_ctxt)
		am_metric_add(out,
			      AM_METRIC_DESC(.name = "antimetal_context_switches_total",
					     .prom = "node_context_switches_total",
					     .help = "Context switches.",
					     .type = AM_METRIC_COUNTER),
			      (double)cur->ctxt, NULL);
	if (cur->has_intr)
		am_metric_add(
		    out,
		    AM_METRIC_DESC(.name = "antimetal_intr_total", .prom = "node_intr_total",
				   .help = "Interrupts serviced.", .type = AM_METRIC_COUNTER),
		    (double)cur->intr, NULL);
	if (cur->has_forks)
		am_metric_add(
		    out,
		    AM_METRIC_DESC(.name = "antimetal_forks_total", .prom = "node_forks_total",
				   .otel = "system.processes.created", .otel_unit = "{process}",
				   .help = "Processes and threads created.",
				   .type = AM_METRIC_COUNTER),
		    (double)cur->forks, NULL);
	if (cur->has_btime)
		am_metric_add(out,
			      AM_METRIC_DESC(.name = "antimetal_boot_time_seconds",
					     .prom = "node_boot_time_seconds",
					     .help = "Boot time, Unix seconds.",
					     .type = AM_METRIC_GAUGE),
			      (double)cur->btime, NULL);
	if (cur->has_running)
		am_metric_add(
		    out,
		    AM_METRIC_DESC(.name = "antimetal_procs_running", .prom = "node_procs_running",
				   .otel = "system.processes.count",
				   .otel_attrs = {{"status", "running"}}, .otel_unit = "{process}",
				   .otel_updown = 1, .help = "Tasks runnable now.",
				   .type = AM_METRIC_GAUGE),
		    (double)cur->procs_running, NULL);
	if (cur->has_blocked)
		am_metric_add(
		    out,
		    AM_METRIC_DESC(.name = "antimetal_procs_blocked", .prom = "node_procs_blocked",
				   .otel = "system.processes.count",
				   .otel_attrs = {{"status", "blocked"}}, .otel_unit = "{process}",
				   .otel_updown = 1, .help = "Tasks blocked on I/O now.",
				   .type = AM_METRIC_GAUGE),
		    (double)cur->procs_blocked, NULL);
}
