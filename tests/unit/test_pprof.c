/* pprof encoding: gunzip and decode what am_pprof_render wrote with the same schema and check
 * every part a reader needs (string table, sample types, period, locations, mappings). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "export/pprof.h"
#include "records/profile.h"
#include "pprof_labels.h"
#include "profile.pb-c.h"
#include "gunzip.h"

typedef Perftools__Profiles__Profile Profile;

static void build(struct am_profile *p)
{
	static const char *names[3] = {"hot_a", "main", "vfs_read"};
	int i;

	memset(p, 0, sizeof(*p));
	strcpy(p->event, "cpu-clock");
	p->freq = 100;
	p->duration_ns = 2000000000ull;
	p->start_ns = 1700000000000000000ull;
	p->nmappings = 2;
	p->mappings = calloc(2, sizeof(*p->mappings));
	p->mappings[0] = (struct am_profile_mapping){0xffffffff81000000ull,	  UINT64_MAX, 0,
						     strdup("[kernel.kallsyms]"), strdup(""), true};
	p->mappings[1] = (struct am_profile_mapping){0x555555554000ull,	 0x555555556000ull,  0x1000,
						     strdup("/bin/hot"), strdup("abcdef01"), true};
	p->nstacks = 2;
	p->stacks = calloc(2, sizeof(*p->stacks));
	for (i = 0; i < 2; i++) {
		struct am_profile_stack *s = &p->stacks[i];

		strcpy(s->comm, "hot");
		s->pid = 42;
		s->count = i ? 3 : 7;
		s->nframes = i ? 3 : 2;
		s->frames = calloc(s->nframes, sizeof(*s->frames));
	}
	/* stack 0: hot_a <- main; stack 1: vfs_read <- hot_a <- main (hot_a at the same address) */
	for (i = 0; i < 5; i++) {
		struct am_profile_frame *f =
		    i < 2 ? &p->stacks[0].frames[i] : &p->stacks[1].frames[i - 2];
		int which = i < 2 ? i : (i == 2 ? 2 : i - 3);

		f->func = strdup(names[which]);
		f->kernel = which == 2;
		f->module = strdup(f->kernel ? "[kernel.kallsyms]" : "/bin/hot");
		f->mapping = f->kernel ? 0 : 1;
		f->addr = f->kernel ? 0xffffffff81001234ull : 0x555555555100ull + (uint64_t)which;
	}
	p->total = 10;
}

static const char *fname(const Profile *pb, uint64_t loc_id)
{
	size_t i, j;

	for (i = 0; i < pb->n_location; i++) {
		if (pb->location[i]->id != loc_id)
			continue;
		cr_assert_eq(pb->location[i]->n_line, 1);
		for (j = 0; j < pb->n_function; j++)
			if (pb->function[j]->id == pb->location[i]->line[0]->function_id)
				return pb->string_table[pb->function[j]->name];
	}
	cr_assert_fail("location %llu not found", (unsigned long long)loc_id);
	return NULL;
}

Test(pprof, decodes_to_the_same_profile)
{
	struct am_strbuf gz = {0}, raw = {0};
	struct am_profile p;
	Profile *pb;
	size_t i;

	build(&p);
	cr_assert_eq(am_pprof_render(&p, &gz), 0);
	cr_assert(gz.len > 18 && (unsigned char)gz.data[0] == 0x1f &&
		      (unsigned char)gz.data[1] == 0x8b,
		  "not gzip");
	am_test_gunzip(gz.data, gz.len, &raw);
	pb = perftools__profiles__profile__unpack(NULL, raw.len, (uint8_t *)raw.data);
	cr_assert_not_null(pb, "profile.proto decode failed");
	cr_assert_str_eq(pb->string_table[0], "");
	cr_assert_eq(pb->n_sample_type, 2);
	cr_assert_str_eq(pb->string_table[pb->sample_type[0]->type], "samples");
	cr_assert_str_eq(pb->string_table[pb->sample_type[0]->unit], "count");
	cr_assert_str_eq(pb->string_table[pb->sample_type[1]->type], "cpu");
	cr_assert_str_eq(pb->string_table[pb->sample_type[1]->unit], "nanoseconds");
	cr_assert_str_eq(pb->string_table[pb->default_sample_type], "samples");
	cr_assert_eq(pb->period, 10000000, "1e9 / 100 Hz");
	cr_assert_str_eq(pb->string_table[pb->period_type->type], "cpu");
	cr_assert_eq(pb->duration_nanos, 2000000000);
	cr_assert_eq(pb->n_comment, 2);
	cr_assert_str_eq(pb->string_table[pb->comment[0]],
			 "antimetal-agent profile: event cpu-clock, frequency 100");
	cr_assert_eq(pb->time_nanos, 1700000000000000000ll);

	cr_assert_eq(pb->n_sample, 2);
	cr_assert_eq(pb->sample[0]->n_value, 2);
	cr_assert_eq(pb->sample[0]->value[0], 7);
	cr_assert_eq(pb->sample[0]->value[1], 70000000);
	cr_assert_eq(pb->sample[0]->n_location_id, 2);
	cr_assert_str_eq(fname(pb, pb->sample[0]->location_id[0]), "hot_a");
	cr_assert_str_eq(fname(pb, pb->sample[0]->location_id[1]), "main");
	cr_assert_str_eq(fname(pb, pb->sample[1]->location_id[0]), "vfs_read");
	/* The same frame in two stacks is one location, and each function is listed once. */
	cr_assert_eq(pb->sample[1]->location_id[1], pb->sample[0]->location_id[0]);
	cr_assert_eq(pb->n_location, 3);
	cr_assert_eq(pb->n_function, 3);
	cr_assert_eq(pb->sample[0]->n_label, 2);
	cr_assert_str_eq(pb->string_table[pb->sample[0]->label[0]->key], "pid");
	cr_assert_eq(pb->sample[0]->label[0]->num, 42);
	cr_assert_str_eq(pb->string_table[pb->sample[0]->label[1]->str], "hot");

	/* The user binary is the first mapping (go tool pprof's main binary). */
	cr_assert_eq(pb->n_mapping, 2);
	cr_assert_str_eq(pb->string_table[pb->mapping[0]->filename], "/bin/hot");
	cr_assert_str_eq(pb->string_table[pb->mapping[0]->build_id], "abcdef01");
	cr_assert_eq(pb->mapping[0]->memory_start, 0x555555554000ull);
	cr_assert_eq(pb->mapping[0]->file_offset, 0x1000);
	cr_assert_str_eq(pb->string_table[pb->mapping[1]->filename], "[kernel.kallsyms]");
	for (i = 0; i < pb->n_location; i++) {
		uint64_t m = pb->location[i]->mapping_id;

		cr_assert(m == pb->mapping[0]->id || m == pb->mapping[1]->id);
		if (pb->location[i]->address >= 0xffffffff81000000ull)
			cr_assert_eq(m, pb->mapping[1]->id);
	}
	perftools__profiles__profile__free_unpacked(pb, NULL);
	am_strbuf_free(&gz);
	am_strbuf_free(&raw);
	am_profile_free(&p);
}

Test(pprof, hardware_event_in_frequency_mode_has_one_value)
{
	struct am_strbuf gz = {0}, raw = {0};
	struct am_profile p;
	Profile *pb;

	build(&p);
	strcpy(p.event, "cycles");
	cr_assert_eq(am_pprof_render(&p, &gz), 0);
	am_test_gunzip(gz.data, gz.len, &raw);
	pb = perftools__profiles__profile__unpack(NULL, raw.len, (uint8_t *)raw.data);
	cr_assert_not_null(pb);
	/* Each sample stands for an unknown number of cycles: only the count is honest. */
	cr_assert_eq(pb->n_sample_type, 1);
	cr_assert_eq(pb->sample[0]->n_value, 1);
	perftools__profiles__profile__free_unpacked(pb, NULL);
	am_strbuf_free(&gz);
	am_strbuf_free(&raw);
	am_profile_free(&p);
}

static bool has_comment(const Profile *pb, const char *text)
{
	size_t i;

	for (i = 0; i < pb->n_comment; i++)
		if (!strcmp(pb->string_table[pb->comment[i]], text))
			return true;
	return false;
}

/* A run that lost most of its samples must not read as complete: the lost samples are a
 * sample of their own, and every lost part is a comment. */
Test(pprof, lost_samples_are_a_sample_and_every_loss_a_comment)
{
	struct am_strbuf gz = {0}, raw = {0};
	struct am_profile p;
	int64_t sum = 0;
	Profile *pb;
	size_t i;

	build(&p);
	strcpy(p.attach, "link");
	p.ncpus = 2;
	p.lost[AM_PROFILE_LOST_COUNTS_FULL] = 88;
	p.lost[AM_PROFILE_LOST_USTACK_EFAULT] = 3;
	p.lost[AM_PROFILE_LOST_SIDEBAND_DROPPED] = 5;
	cr_assert_eq(am_profile_lost_total(&p), 96);
	cr_assert_eq(am_profile_lost_of_kind(&p, AM_PROFILE_LOST_SAMPLES), 88);
	cr_assert_eq(am_profile_lost_of_kind(&p, AM_PROFILE_LOST_STACKS), 3);
	cr_assert_eq(am_profile_lost_of_kind(&p, AM_PROFILE_LOST_MAPPINGS), 5);
	cr_assert_eq(am_pprof_render(&p, &gz), 0);
	am_test_gunzip(gz.data, gz.len, &raw);
	pb = perftools__profiles__profile__unpack(NULL, raw.len, (uint8_t *)raw.data);
	cr_assert_not_null(pb);

	cr_assert_eq(pb->n_sample, 3, "the two stacks and one lost sample");
	cr_assert_eq(pb->sample[2]->n_location_id, 1);
	cr_assert_str_eq(fname(pb, pb->sample[2]->location_id[0]), "[lost: counts map full]");
	cr_assert_eq(pb->sample[2]->value[0], 88);
	cr_assert_eq(pb->sample[2]->value[1], 880000000, "88 samples of 10 ms");
	cr_assert_eq(pb->sample[2]->n_label, 0, "lost samples have no pid");
	for (i = 0; i < pb->n_sample; i++)
		sum += pb->sample[i]->value[0];
	cr_assert_eq(sum, 98, "the total counts what was lost");

	cr_assert_str_eq(pb->string_table[pb->comment[1]], "cpus 2, attach link, lost 96");
	cr_assert(has_comment(pb, "samples lost: counts map full: 88"));
	cr_assert(has_comment(pb, "user stack lost: walk failed: 3"));
	cr_assert(has_comment(pb, "mmap side-band records lost: buffer full: 5"));
	cr_assert_eq(pb->n_comment, 5, "two, then one per lost part");
	perftools__profiles__profile__free_unpacked(pb, NULL);
	am_strbuf_free(&gz);
	am_strbuf_free(&raw);
	am_profile_free(&p);
}

/* A frame with an inlined function: its Location has two Lines, the inlined one first, each
 * Function with its file, each Line with its number. */
Test(pprof, inlined_functions_are_lines_of_one_location)
{
	struct am_strbuf gz = {0}, raw = {0};
	struct am_profile_frame *f;
	const char *want[2][2] = {{"mix_step", "inl.c"}, {"hot_a", "hot.c"}};
	unsigned nums[2] = {17, 25};
	struct am_profile p;
	Profile *pb;
	size_t i, j, k;

	build(&p);
	f = &p.stacks[0].frames[0]; /* hot_a, only in stack 0 at this address */
	f->addr += 0x40;
	f->nlines = 2;
	f->lines = calloc(2, sizeof(*f->lines));
	f->lines[0] = (struct am_profile_line){strdup("mix_step"), NULL, strdup("inl.c"), 17};
	f->lines[1] = (struct am_profile_line){NULL, NULL, strdup("hot.c"), 25};
	cr_assert_eq(am_pprof_render(&p, &gz), 0);
	am_test_gunzip(gz.data, gz.len, &raw);
	pb = perftools__profiles__profile__unpack(NULL, raw.len, (uint8_t *)raw.data);
	cr_assert_not_null(pb);
	for (i = 0; i < pb->n_location && pb->location[i]->address != f->addr; i++)
		;
	cr_assert_lt(i, pb->n_location, "no location at the frame's address");
	cr_assert_eq(pb->location[i]->n_line, 2);
	for (k = 0; k < 2; k++) {
		const Perftools__Profiles__Line *l = pb->location[i]->line[k];

		cr_assert_eq(l->line, nums[k]);
		for (j = 0; j < pb->n_function && pb->function[j]->id != l->function_id; j++)
			;
		cr_assert_lt(j, pb->n_function);
		cr_assert_str_eq(pb->string_table[pb->function[j]->name], want[k][0]);
		cr_assert_str_eq(pb->string_table[pb->function[j]->filename], want[k][1]);
	}
	perftools__profiles__profile__free_unpacked(pb, NULL);
	am_profile_free(&p);
	am_strbuf_free(&gz);
	am_strbuf_free(&raw);
}

static const char *label_str(const Profile *pb, const Perftools__Profiles__Sample *s,
			     const char *key)
{
	size_t i;

	for (i = 0; i < s->n_label; i++)
		if (!strcmp(pb->string_table[s->label[i]->key], key))
			return s->label[i]->str ? pb->string_table[s->label[i]->str] : "(num)";
	return NULL;
}

#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD "d0b4a1c2-1111-2222-3333-444455556666"

/* Who the samples belong to: the pid inside the process's namespace where it differs, the
 * cgroup path (its id where the path is unknown), the container and the pod. */
Test(pprof, samples_carry_namespace_cgroup_container_and_pod_labels)
{
	struct am_strbuf gz = {0}, raw = {0};
	struct am_profile p;
	Profile *pb;

	build(&p);
	p.stacks[0].ns_pid = 1;
	p.stacks[0].cgroup_id = 1234;
	p.stacks[0].cgroup =
	    strdup("/kubepods.slice/kubepods-burstable.slice/"
		   "kubepods-burstable-pod" POD ".slice/cri-containerd-" CID ".scope");
	strcpy(p.stacks[0].container_id, CID);
	strcpy(p.stacks[0].pod_uid, POD);
	p.stacks[1].ns_pid = 42; /* the host's namespace: no ns_pid label */
	p.stacks[1].cgroup_id = 77;
	cr_assert_eq(am_pprof_render(&p, &gz), 0);
	am_test_gunzip(gz.data, gz.len, &raw);
	pb = perftools__profiles__profile__unpack(NULL, raw.len, (uint8_t *)raw.data);
	cr_assert_not_null(pb);

	cr_assert_eq(am_test_pprof_label_num(pb, pb->sample[0], "pid"), 42);
	cr_assert_str_eq(label_str(pb, pb->sample[0], "comm"), "hot");
	cr_assert_eq(am_test_pprof_label_num(pb, pb->sample[0], "ns_pid"), 1);
	cr_assert_str_eq(label_str(pb, pb->sample[0], "cgroup"), p.stacks[0].cgroup);
	cr_assert_str_eq(label_str(pb, pb->sample[0], "container_id"), CID);
	cr_assert_str_eq(label_str(pb, pb->sample[0], "pod_uid"), POD);
	cr_assert_null(label_str(pb, pb->sample[0], "cgroup_id"));
	cr_assert_eq(pb->sample[0]->n_label, 6);

	cr_assert_null(label_str(pb, pb->sample[1], "ns_pid"));
	cr_assert_null(label_str(pb, pb->sample[1], "cgroup"));
	cr_assert_eq(am_test_pprof_label_num(pb, pb->sample[1], "cgroup_id"), 77,
		     "path unknown: the id");
	cr_assert_null(label_str(pb, pb->sample[1], "container_id"));
	cr_assert_null(label_str(pb, pb->sample[1], "pod_uid"));
	cr_assert_eq(pb->sample[1]->n_label, 3);
	perftools__profiles__profile__free_unpacked(pb, NULL);
	am_strbuf_free(&gz);
	am_strbuf_free(&raw);
	am_profile_free(&p);
}
