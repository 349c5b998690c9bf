/* The data of `antimetal-agent check`: the probe table, the BTF in use, the CO-RE level, what
 * each collector will therefore do, and the verdict. Exporters see it as a record
 * (records/check.h, am_check_record_fill) rendered by export/check_render.h. */
#ifndef ANTIMETAL_CORE_CHECK_REPORT_H
#define ANTIMETAL_CORE_CHECK_REPORT_H

#include <stdbool.h>

#include "core/btf_search.h"
#include "core/co_re_level.h"
#include "core/kversion.h"
#include "core/probes.h"
#include "records/check.h"

#define AM_CHECK_MAX_PLANS 8

/* What one collector (or one aspect of it) will do on this host. */
struct am_check_plan {
	const char *collector; /* "execsnoop", "profiler event", ... */
	bool available;
	char plan[240]; /* "ring buffer", "no PMU -> software cpu-clock", ... */
};

struct am_check_opts {
	const char *root;     /* prefix for /sys, /proc, /boot, ... files; NULL: live system */
	const char *btf_path; /* --btf FILE, or NULL */
	bool mount_tracefs;   /* mount tracefs when missing (it is what collectors need) */
};

struct am_check_report {
	char release[65];
	char machine[65];
	bool kver_ok; /* release parsed into kver */
	struct am_kver kver;
	unsigned int euid;
	struct am_probe_result probes[AM_P__COUNT];
	int btf_err;		 /* 0, or the -errno of the BTF search */
	struct am_btf_found btf; /* the BTF CO-RE loads will use */
	enum am_core_level level;
	char level_why[240];
	struct am_check_plan plans[AM_CHECK_MAX_PLANS];
	int nplans;
	bool can_run; /* CO-RE programs can be loaded here */
	char verdict[512];
};

/* Probe this host into R. Returns 0, or -errno when O->btf_path is not a valid BTF file (the
 * reason, naming the file, was logged): that is bad input, not a kernel property. */
int am_check_build(const struct am_check_opts *o, struct am_check_report *r);

/* Derive R's level, plans and verdict from its probes, kernel version and BTF fields. Pure:
 * am_check_build calls it, and tests call it on hand-made tables. */
void am_check_conclude(struct am_check_report *r);

/* The record of R for exporters: names as strings, pointing into R (valid while R is). */
void am_check_record_fill(const struct am_check_report *r, struct am_check_record *out);

#endif
