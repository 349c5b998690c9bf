#include "records/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	enum am_profile_lost_kind kind;
	const char *name, *reason;
} lost_parts[AM_PROFILE_LOST_MAX] = {
    [AM_PROFILE_LOST_COUNTS_FULL] = {AM_PROFILE_LOST_SAMPLES, "samples lost: counts map full",
				     "counts map full"},
    [AM_PROFILE_LOST_KSTACK_FULL] = {AM_PROFILE_LOST_STACKS, "kernel stack lost: stacks map full",
				     "stacks map full"},
    [AM_PROFILE_LOST_KSTACK_OTHER] = {AM_PROFILE_LOST_STACKS, "kernel stack lost: other error",
				      "other error"},
    [AM_PROFILE_LOST_USTACK_EFAULT] = {AM_PROFILE_LOST_STACKS, "user stack lost: walk failed",
				       "walk failed"},
    [AM_PROFILE_LOST_USTACK_FULL] = {AM_PROFILE_LOST_STACKS, "user stack lost: stacks map full",
				     "stacks map full"},
    [AM_PROFILE_LOST_USTACK_OTHER] = {AM_PROFILE_LOST_STACKS, "user stack lost: other error",
				      "other error"},
    [AM_PROFILE_LOST_NOTICE_UNSENT] = {AM_PROFILE_LOST_MAPPINGS,
				       "new-process notifications not sent", "not sent"},
    [AM_PROFILE_LOST_NOTICE_DROPPED] = {AM_PROFILE_LOST_MAPPINGS,
					"new-process notifications lost: perf buffer full",
					"perf buffer full"},
    [AM_PROFILE_LOST_ANNOUNCED_FULL] = {AM_PROFILE_LOST_MAPPINGS,
					"new processes not announced: announced-process map "
					"full",
					"announced-process map full"},
    [AM_PROFILE_LOST_SIDEBAND_DROPPED] = {AM_PROFILE_LOST_MAPPINGS,
					  "mmap side-band records lost: buffer full",
					  "buffer full"},
    [AM_PROFILE_LOST_SIDEBAND_MALFORMED] = {AM_PROFILE_LOST_MAPPINGS,
					    "mmap side-band records malformed", "malformed"},
    [AM_PROFILE_LOST_SIDEBAND_BOUND] = {AM_PROFILE_LOST_MAPPINGS,
					"mmap side-band records dropped: memory bound",
					"memory bound"},
    [AM_PROFILE_LOST_COPY_UNSENT] = {AM_PROFILE_LOST_SAMPLES,
				     "samples lost: copied-stack buffer full", "stack buffer full"},
    [AM_PROFILE_LOST_COPY_DROPPED] = {AM_PROFILE_LOST_SAMPLES,
				      "samples lost: copied-stack records dropped (perf buffer)",
				      "stack records dropped"},
    [AM_PROFILE_LOST_COPY_MALFORMED] = {AM_PROFILE_LOST_SAMPLES,
					"samples lost: copied-stack record malformed",
					"stack record malformed"},
    [AM_PROFILE_LOST_UNWOUND_FULL] = {AM_PROFILE_LOST_SAMPLES,
				      "samples lost: unwound-stack table full",
				      "unwound-stack table full"},
    [AM_PROFILE_LOST_DEFER_FULL] = {AM_PROFILE_LOST_SAMPLES,
				    "samples lost: too many waiting for their mappings",
				    "waiting for mappings"},
    [AM_PROFILE_LOST_USER_REGS] = {AM_PROFILE_LOST_STACKS,
				   "user stack lost: user registers unavailable",
				   "user registers unavailable"},
    [AM_PROFILE_LOST_COPY_FAILED] = {AM_PROFILE_LOST_STACKS, "user stack lost: stack copy failed",
				     "stack copy failed"},
    [AM_PROFILE_LOST_UNWIND_TRUNCATED] = {AM_PROFILE_LOST_STACKS,
					  "user stack cut: deeper than the bytes copied",
					  "deeper than the copy"},
    [AM_PROFILE_LOST_UNWIND_NO_CFI] = {AM_PROFILE_LOST_STACKS,
				       "user stack cut: no CFI for an address", "no CFI"},
    [AM_PROFILE_LOST_UNWIND_FAILED] = {AM_PROFILE_LOST_STACKS,
				       "user stack cut: unwinding stopped early",
				       "unwinding stopped early"},
};

uint64_t am_profile_lost_total(const struct am_profile *prof)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < AM_PROFILE_LOST_MAX; i++)
		sum += prof->lost[i];
	return sum;
}

uint64_t am_profile_lost_of_kind(const struct am_profile *prof, enum am_profile_lost_kind kind)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < AM_PROFILE_LOST_MAX; i++)
		if (lost_parts[i].kind == kind)
			sum += prof->lost[i];
	return sum;
}

enum am_profile_lost_kind am_profile_lost_kind(enum am_profile_lost_part part)
{
	return part < AM_PROFILE_LOST_MAX ? lost_parts[part].kind : AM_PROFILE_LOST_MAPPINGS;
}

const char *am_profile_lost_name(enum am_profile_lost_part part)
{
	return part < AM_PROFILE_LOST_MAX ? lost_parts[part].name : "?";
}

const char *am_profile_lost_reason(enum am_profile_lost_part part)
{
	return part < AM_PROFILE_LOST_MAX ? lost_parts[part].reason : "?";
}

const char *am_profile_frame_label(const struct am_profile_frame *f, char *buf, size_t len)
{
	const char *base;

	if (strcmp(f->func, "[unknown]") || !f->module || !*f->module) {
		snprintf(buf, len, "%s", f->func);
		return buf;
	}
	base = strrchr(f->module, '/');
	snprintf(buf, len, "[unknown] (%s)", base ? base + 1 : f->module);
	return buf;
}

void am_profile_frame_free_lines(struct am_profile_frame *f)
{
	size_t i;

	for (i = 0; i < f->nlines; i++) {
		free(f->lines[i].func);
		free(f->lines[i].system_name);
		free(f->lines[i].file);
	}
	free(f->lines);
	f->lines = NULL;
	f->nlines = 0;
}

void am_profile_free(struct am_profile *prof)
{
	size_t i, j;

	for (i = 0; i < prof->nstacks; i++) {
		for (j = 0; j < prof->stacks[i].nframes; j++) {
			am_profile_frame_free_lines(&prof->stacks[i].frames[j]);
			free(prof->stacks[i].frames[j].func);
			free(prof->stacks[i].frames[j].system_name);
			free(prof->stacks[i].frames[j].module);
		}
		free(prof->stacks[i].frames);
		free(prof->stacks[i].cgroup);
	}
	for (i = 0; i < prof->nmappings; i++) {
		free(prof->mappings[i].file);
		free(prof->mappings[i].build_id);
	}
	free(prof->stacks);
	free(prof->mappings);
	memset(prof, 0, sizeof(*prof));
}
