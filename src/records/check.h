/* The report of `antimetal-agent check` as exporters see it: the probe table, the BTF in use,
 * the CO-RE level, each collector's plan and the verdict, with names already as strings.
 * Filled by core (am_check_record_fill in core/check_report.h); its strings point into the
 * report it was filled from: valid while that report is. */
#ifndef ANTIMETAL_RECORDS_CHECK_H
#define ANTIMETAL_RECORDS_CHECK_H

#include <stdbool.h>

#define AM_CHECK_RECORD_MAX_PROBES 48
#define AM_CHECK_RECORD_MAX_PLANS  8

struct am_check_probe_row {
	const char *group;  /* "program types", "maps", ...: rows of one group are adjacent */
	const char *name;   /* "ringbuf", "bpf_get_stack", ...: also the JSON key */
	const char *status; /* "yes", "no", "unknown" or "info" */
	bool yes;	    /* available: the table shows its detail only when verbose */
	const char *detail;
};

struct am_check_plan_row {
	const char *collector; /* "execsnoop", "profiler event", ... */
	bool available;
	const char *plan; /* "ring buffer", "no PMU -> software cpu-clock", ... */
};

struct am_check_record {
	const char *release, *machine; /* uname -r, uname -m */
	bool have_version;	       /* release parsed into major.minor.patch[-rcN] */
	unsigned int major, minor, patch, rc;
	unsigned int euid;
	struct am_check_probe_row probes[AM_CHECK_RECORD_MAX_PROBES];
	int nprobes;
	const char *btf_source; /* "native", "btfhub archive", ...; NULL when none was found */
	const char *btf_error;	/* why none was found (strerror text) when btf_source is NULL */
	const char *btf_path;
	unsigned int btf_types;
	const char *core_level;	    /* "Full", "Partial" or "None" */
	const char *core_level_why; /* the one-line reason */
	struct am_check_plan_row plans[AM_CHECK_RECORD_MAX_PLANS];
	int nplans;
	bool can_run; /* CO-RE programs can be loaded here */
	const char *verdict;
};

#endif
