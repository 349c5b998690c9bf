/* Processes that exec and exit before the profiler reads /proc: the mmap side band
 * (sideband.c) must symbolize them, and the /proc-only path, forced, must do worse.
 * The children are tests/workloads/brief_burn (main -> brief_burn_fn for a few ms of CPU),
 * started by tests/workloads/exec_storm; each lives a few milliseconds. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/ebpf/profiler.h"
#include "collectors/ebpf/sideband.h"
#include "core/kversion.h"
#include "profile_run.h"
#include "testutil.h"

#define AGENT	  AM_TEST_BUILD_DIR "/antimetal-agent"
#define WORKLOADS AM_TEST_BUILD_DIR "/tests/workloads/"

static char *tmpdir;

static void setup(void)
{
	tmpdir = am_test_mkdtemp("shortlived");
	cr_assert_not_null(tmpdir);
}

static void teardown(void)
{
	if (tmpdir)
		am_test_rmtree(tmpdir);
	free(tmpdir);
}

TestSuite(shortlived, .init = setup, .fini = teardown, .timeout = 120);

/* How the samples of processes named COMM were symbolized. */
struct tally {
	uint64_t samples;      /* all of COMM's */
	uint64_t in_exec;      /* taken inside execve: the user registers are still the parent's */
	uint64_t burn;	       /* ...;main;brief_burn_fn (the leaf user frames, named) */
	uint64_t unknown_leaf; /* the user frame the sample is charged to is [unknown], in no
				  mapping */
	uint64_t user;	       /* samples with a user stack, outside execve */
	uint64_t in_binary;    /* ...whose leaf user frame is in COMM's own executable */
	uint64_t named_in_binary; /* ...and has a name */
};

static bool has_frame(const struct am_profile_stack *s, const char *func, bool kernel)
{
	size_t i;

	for (i = 0; i < s->nframes; i++)
		if (s->frames[i].kernel == kernel && !strcmp(s->frames[i].func, func))
			return true;
	return false;
}

/* Whether MODULE (a mapping's path) is the executable named NAME. */
static bool in_module(const char *module, const char *name)
{
	const char *base = strrchr(module, '/');

	return base && !strncmp(base + 1, name, strlen(name));
}

/* Frames are leaf first, the kernel's before the user's: the first user frame is the one a
 * sample is charged to. Its callers are not counted: the loader and libc are built without
 * frame pointers, so the walk through them yields return addresses that are no mapping's on
 * either path. */
static void tally(const struct am_profile *prof, const char *comm, struct tally *t)
{
	size_t i, j;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < prof->nstacks; i++) {
		const struct am_profile_stack *s = &prof->stacks[i];

		if (strcmp(s->comm, comm))
			continue;
		t->samples += s->count;
		if (has_frame(s, "bprm_execve", true)) {
			t->in_exec += s->count;
			continue;
		}
		for (j = 0; j < s->nframes && s->frames[j].kernel; j++)
			;
		if (j == s->nframes)
			continue;
		t->user += s->count;
		/* Unknown in no mapping: what a process gone before its capture gives. (Unknown
		 * in a known mapping, [vdso] or a loader stub, is no tracking failure.) */
		if (!strcmp(s->frames[j].func, "[unknown]") && !*s->frames[j].module)
			t->unknown_leaf += s->count;
		if (in_module(s->frames[j].module, comm)) {
			t->in_binary += s->count;
			if (strcmp(s->frames[j].func, "[unknown]"))
				t->named_in_binary += s->count;
		}
		for (; j + 1 < s->nframes; j++)
			if (!strcmp(s->frames[j].func, "brief_burn_fn") &&
			    !strcmp(s->frames[j + 1].func, "main")) {
				t->burn += s->count;
				break;
			}
	}
}

static void show(const char *what, const struct tally *t)
{
	cr_log_info(
	    "%s: %llu samples of the children, %llu inside execve; of the %llu with a user "
	    "stack: %llu in the program's own code, %llu in main;brief_burn_fn, %llu charged "
	    "to [unknown] in no mapping",
	    what, (unsigned long long)t->samples, (unsigned long long)t->in_exec,
	    (unsigned long long)t->user, (unsigned long long)t->in_binary,
	    (unsigned long long)t->burn, (unsigned long long)t->unknown_leaf);
}

/* Give the build-id note of the ELF file at PATH other contents, so that no other file has
 * the same one (no copy opened for another process can stand in for it). */
static void new_build_id(const char *path)
{
	static const unsigned char head[] = {4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0};
	struct am_strbuf b = {0};
	unsigned char *p;
	size_t i;

	cr_assert_eq(am_test_read_file(path, &b), 0);
	p = memmem(b.data, b.len, head, sizeof(head));
	cr_assert_not_null(p, "%s has no GNU build-id note", path);
	for (i = 0; i < 20; i++)
		p[sizeof(head) + i] ^= (unsigned char)(getpid() >> (i % 3 * 8)) | 1;
	cr_assert_eq(am_test_write_file(path, b.data, b.len), 0);
	cr_assert_eq(chmod(path, 0755), 0);
	am_strbuf_free(&b);
}

/* brief_burn copied to TMPDIR/NAME: the children of each test have a name of their own, as
 * tests may run side by side and every profile here is system-wide. */
static const char *burner(const char *name, bool unique_build_id)
{
	static char path[2048];
	char cmd[8192];

	cr_assert_eq(access(WORKLOADS "brief_burn", X_OK), 0, "workload brief_burn not built");
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof(cmd), "cp %s %s", WORKLOADS "brief_burn", path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	if (unique_build_id)
		new_build_id(path);
	return path;
}

/* exec_storm running N children PROG, two at a time, each burning MS of CPU. */
static pid_t storm(const char *prog, int n, const char *ms)
{
	char count[16];
	char *argv[] = {WORKLOADS "exec_storm", "-j", "2", count, (char *)prog, (char *)ms, NULL};

	snprintf(count, sizeof(count), "%d", n);
	cr_assert_eq(access(argv[0], X_OK), 0, "workload %s not built", argv[0]);
	return am_test_start_quiet(argv);
}

static void wait_ok(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "workload status %d", st);
}

static struct am_profiler *open_profiler(bool sideband, uint64_t hz)
{
	struct am_profiler_opts o = {
	    .freq = hz, .kernel_stacks = true, .user_stacks = true, .no_sideband = !sideband};
	struct am_profiler *p = NULL;
	int err = am_profiler_open(&o, &p);

	cr_assert_eq(err, 0, "am_profiler_open: %s", strerror(-err));
	return p;
}

/* How many samples a child gets depends on the machine: under qemu's TCG the loader takes most
 * of its short life, and one storm may give a few dozen samples in the program's own code where
 * a real CPU gives hundreds. So the work is sized by the samples received: storms (one profile
 * each) are repeated until the children's samples reach what the assertions need. The shares
 * asserted (named, main;brief_burn_fn) need enough samples not to be decided by sampling noise:
 * main;brief_burn_fn is about two thirds of the program's own samples under TCG (40 to 80 per
 * storm there), and at 200 samples half is five standard deviations below that. A machine that
 * gives none stops at MAX_ROUNDS and the assertions say how many there were. */
#define MAX_ROUNDS     20
#define ENOUGH_USER    100 /* samples of the children with a user stack */
#define ENOUGH_BINARY  200 /* ...of which in the program's own code (side band on) */
#define ENOUGH_CAPTURE 50  /* children captured from side-band records (late, side band on) */

/* What a profile says of its side band: its record, and its lost parts named as the side
 * band's own counters name them. */
struct sb_seen {
	bool active, disabled;
	int error;
	unsigned captures;
	struct {
		unsigned files, missing, mismatched;
	} files;
	struct {
		uint64_t records, execs, lost, malformed;
	} stats;
};

static void sb_seen(const struct am_profile *prof, struct sb_seen *out)
{
	const struct am_profile_sideband *s = &prof->sideband;

	out->active = s->active;
	out->disabled = s->disabled;
	out->error = s->error;
	out->captures = s->captures;
	out->files.files = s->files.files;
	out->files.missing = s->files.missing;
	out->files.mismatched = s->files.mismatched;
	out->stats.records = s->records;
	out->stats.execs = s->execs;
	out->stats.lost = prof->lost[AM_PROFILE_LOST_SIDEBAND_DROPPED];
	out->stats.malformed = prof->lost[AM_PROFILE_LOST_SIDEBAND_MALFORMED];
}

static void add_tally(struct tally *sum, const struct tally *t)
{
	sum->samples += t->samples;
	sum->in_exec += t->in_exec;
	sum->burn += t->burn;
	sum->unknown_leaf += t->unknown_leaf;
	sum->user += t->user;
	sum->in_binary += t->in_binary;
	sum->named_in_binary += t->named_in_binary;
}

/* The side band's numbers of several profiles: active only if it was in every one. */
static void add_sideband(struct sb_seen *sum, const struct sb_seen *sb, bool first)
{
	if (first) {
		*sum = *sb;
		return;
	}
	sum->active = sum->active && sb->active;
	sum->disabled = sum->disabled && sb->disabled;
	if (!sum->error)
		sum->error = sb->error;
	sum->stats.records += sb->stats.records;
	sum->stats.execs += sb->stats.execs;
	sum->stats.lost += sb->stats.lost;
	sum->stats.malformed += sb->stats.malformed;
	sum->captures += sb->captures;
	sum->files.files += sb->files.files;
	sum->files.missing += sb->files.missing;
	sum->files.mismatched += sb->files.mismatched;
}

static bool enough(bool sideband, bool late, const struct tally *t, const struct sb_seen *sb)
{
	if (t->user <= ENOUGH_USER)
		return false;
	if (!sideband)
		return true;
	return t->in_binary > ENOUGH_BINARY && (!late || sb->captures > ENOUGH_CAPTURE);
}

/* One profile of a storm of PROG's children. LIVE: the daemon's and the CLI's way, notices
 * handled as they come (on an event loop) while the storm runs. Otherwise an agent too busy to
 * handle the notices before the children are gone: every /proc read comes too late, which is
 * exactly the case the side band exists for. */
static void profile_round(const char *prog, bool sideband, bool live, struct tally *t,
			  struct sb_seen *sb)
{
	struct am_profiler *p = open_profiler(sideband, 1999);
	const char *comm = strrchr(prog, '/') + 1;
	struct am_profile prof;

	if (live) {
		pid_t pid = storm(prog, 200, "3");

		cr_assert_eq(am_test_profile_for(p, 1500), 0);
		wait_ok(pid);
	} else {
		wait_ok(storm(prog, 120, "4"));
	}
	cr_assert_eq(am_profiler_collect(p, &prof), 0);
	am_profiler_close(p);
	tally(&prof, comm, t);
	sb_seen(&prof, sb);
	am_profile_free(&prof);
}

/* Rounds of profile_round until there are enough samples; T and SB are their sums. */
static void profile_until_enough(bool sideband, bool live, struct tally *t, struct sb_seen *sb)
{
	const char *prog = burner(live ? "bb_live" : "bb_late", false);
	struct sb_seen one;
	struct tally round;
	int n = 0;

	memset(t, 0, sizeof(*t));
	do {
		profile_round(prog, sideband, live, &round, &one);
		add_tally(t, &round);
		add_sideband(sb, &one, n == 0);
	} while (++n < MAX_ROUNDS && !enough(sideband, !live, t, sb));
	cr_log_info("%s, %s: %d round(s) of %d children", sideband ? "side band" : "/proc only",
		    live ? "live" : "late", n, live ? 200 : 120);
}

static void assert_symbolized(const char *what, const struct tally *t, const struct sb_seen *sb)
{
	cr_assert(sb->active, "%s: no side band (error %d)", what, sb->error);
	cr_assert_eq(sb->stats.lost, 0, "%s: side-band records lost", what);
	cr_assert_eq(sb->stats.malformed, 0, "%s: malformed side-band records", what);
	cr_assert_gt(t->user, ENOUGH_USER, "%s: too few samples of the children", what);
	/* Every sample in the program's own code is named, most of them main;brief_burn_fn
	 * (how much of a child's life the loader takes depends on the machine: most of it under
	 * qemu's TCG, where the frame walk also misses main more often). */
	cr_assert_gt(t->in_binary, ENOUGH_BINARY, "%s: %llu samples in the children's own code",
		     what, (unsigned long long)t->in_binary);
	cr_assert_geq(t->named_in_binary * 100, t->in_binary * 99,
		      "%s: %llu of the %llu samples in the program's code named", what,
		      (unsigned long long)t->named_in_binary, (unsigned long long)t->in_binary);
	cr_assert_geq(
	    t->burn * 2, t->in_binary,
	    "%s: main;brief_burn_fn in only %llu of the %llu samples in the program's code", what,
	    (unsigned long long)t->burn, (unsigned long long)t->in_binary);
	cr_assert_leq(t->unknown_leaf * 100, t->user,
		      "%s: %llu of %llu samples charged to an "
		      "unmapped [unknown]",
		      what, (unsigned long long)t->unknown_leaf, (unsigned long long)t->user);
}

Test(shortlived, exited_children_symbolized_through_the_side_band)
{
	struct sb_seen sb, sb_proc;
	struct tally t, proc;

	AM_REQUIRE_BPF();
	profile_until_enough(true, true, &t, &sb);
	show("side band, notices handled live", &t);
	cr_log_info("side band: %llu records, %llu execs, %u generations captured from records "
		    "(files %u found, %u missing, %u replaced)",
		    (unsigned long long)sb.stats.records, (unsigned long long)sb.stats.execs,
		    sb.captures, sb.files.files, sb.files.missing, sb.files.mismatched);
	assert_symbolized("side band", &t, &sb);

	/* The same with /proc alone: whatever exited before its notice was handled is lost. */
	profile_until_enough(false, true, &proc, &sb_proc);
	show("/proc only, notices handled live", &proc);
	cr_assert(sb_proc.disabled && !sb_proc.active);
	cr_assert_geq(proc.unknown_leaf * t.user, t.unknown_leaf * proc.user,
		      "the /proc-only path did better (%llu/%llu unknown) than the side band "
		      "(%llu/%llu)",
		      (unsigned long long)proc.unknown_leaf, (unsigned long long)proc.user,
		      (unsigned long long)t.unknown_leaf, (unsigned long long)t.user);
}

Test(shortlived, only_the_side_band_symbolizes_children_gone_before_their_notice)
{
	struct sb_seen sb, sb_proc;
	struct tally t, proc;

	AM_REQUIRE_BPF();
	profile_until_enough(false, false, &proc, &sb_proc);
	show("/proc only, notices handled after the children exited", &proc);
	profile_until_enough(true, false, &t, &sb);
	show("side band, notices handled after the children exited", &t);
	cr_log_info("side band: %u generations captured from records", sb.captures);
	assert_symbolized("side band", &t, &sb);
	cr_assert_gt(sb.captures, ENOUGH_CAPTURE, "children captured from records: %u",
		     sb.captures);
	/* Without it, the children are gone: nothing of theirs is named. */
	cr_assert_gt(proc.user, ENOUGH_USER, "too few samples of the children");
	cr_assert_eq(proc.burn, 0, "/proc-only named brief_burn_fn of exited children?");
	cr_assert_gt(proc.unknown_leaf * 10, proc.user * 9,
		     "/proc only: %llu of %llu charged to [unknown]",
		     (unsigned long long)proc.unknown_leaf, (unsigned long long)proc.user);
}

/* A copy of brief_burn of its own (build-id too) as DIR/NAME, run to its end. */
static void run_copy(const char *name)
{
	/* 150 ms of CPU, the loader's included: under qemu's TCG the loader alone takes 30-50. */
	char *argv[] = {(char *)burner(name, true), "150", NULL};

	wait_ok(am_test_start_quiet(argv));
}

/* Samples of COMM whose user frames name FUNC, and those charged to "[unknown]" in MODULE. */
static void module_tally(const struct am_profile *prof, const char *comm, const char *module,
			 uint64_t *named, uint64_t *unknown_in_module, uint64_t *total)
{
	size_t i, j;

	*named = *unknown_in_module = *total = 0;
	for (i = 0; i < prof->nstacks; i++) {
		const struct am_profile_stack *s = &prof->stacks[i];

		if (strcmp(s->comm, comm))
			continue;
		*total += s->count;
		for (j = 0; j < s->nframes; j++) {
			const struct am_profile_frame *f = &prof->stacks[i].frames[j];

			if (f->kernel)
				continue;
			if (!strcmp(f->func, "brief_burn_fn") || !strncmp(f->func, "hot_", 4)) {
				*named += s->count;
				break;
			}
			if (!strcmp(f->func, "[unknown]") && strstr(f->module, module)) {
				*unknown_in_module += s->count;
				break;
			}
		}
	}
}

Test(shortlived, replaced_or_deleted_binary_stays_unknown_with_its_module)
{
	struct am_profiler *p;
	struct am_profile prof;
	uint64_t named, unknown, total;
	char path[2048], cmd[8192];

	AM_REQUIRE_BPF();
	p = open_profiler(true, 999);
	run_copy("victim_repl");
	run_copy("victim_gone");
	/* Gone before the profile is read: one replaced by another program (another build-id),
	 * the other deleted. */
	snprintf(path, sizeof(path), "%s/victim_repl", tmpdir);
	snprintf(cmd, sizeof(cmd), "cp %s %s.new && mv %s.new %s", WORKLOADS "hot", path, path,
		 path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(path, sizeof(path), "%s/victim_gone", tmpdir);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(am_profiler_collect(p, &prof), 0);
	am_profiler_close(p);
	cr_log_info("side band files: %u found, %u missing, %u replaced", prof.sideband.files.files,
		    prof.sideband.files.missing, prof.sideband.files.mismatched);
	cr_assert_geq(prof.sideband.files.mismatched, 1);
	cr_assert_geq(prof.sideband.files.missing, 1);

	module_tally(&prof, "victim_repl", "victim_repl", &named, &unknown, &total);
	cr_log_info("victim_repl: %llu samples, %llu named, %llu [unknown] (victim_repl)",
		    (unsigned long long)total, (unsigned long long)named,
		    (unsigned long long)unknown);
	cr_assert_gt(total, 10, "the replaced binary's process was not sampled");
	cr_assert_eq(named, 0, "symbols of the file that replaced it were used");
	cr_assert_gt(unknown, 10,
		     "its frames do not name the module: %llu samples, %llu named, "
		     "%llu [unknown] in it",
		     (unsigned long long)total, (unsigned long long)named,
		     (unsigned long long)unknown);
	module_tally(&prof, "victim_gone", "victim_gone", &named, &unknown, &total);
	cr_log_info("victim_gone: %llu samples, %llu named, %llu [unknown] (victim_gone)",
		    (unsigned long long)total, (unsigned long long)named,
		    (unsigned long long)unknown);
	cr_assert_gt(total, 10, "the deleted binary's process was not sampled");
	cr_assert_eq(named, 0);
	cr_assert_gt(unknown, 10,
		     "its frames do not name the module: %llu samples, %llu named, "
		     "%llu [unknown] in it",
		     (unsigned long long)total, (unsigned long long)named,
		     (unsigned long long)unknown);
	am_profile_free(&prof);
}

/* The forced /proc-only path from the command line: one line says so with -v, and the
 * profile is as before. */
Test(shortlived, forced_proc_only_path_is_logged_and_still_profiles)
{
	char *argv[] = {AGENT, "profile", "-v", "-F", "499", "-d", "1", "-p", NULL, NULL};
	char *hot[] = {WORKLOADS "hot", "0", NULL};
	struct am_strbuf out = {0}, err = {0};
	char pidarg[16];
	pid_t pid;
	int st;

	AM_REQUIRE_BPF();
	pid = am_test_start_quiet(hot);
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	argv[8] = pidarg;
	/* The agent inherits it (this test runs in a process of its own). */
	setenv("ANTIMETAL_PROFILER_NO_SIDEBAND", "1", 1);
	st = am_test_run(argv, &out, &err);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, err.data);
	cr_assert(strstr(err.data, "mmap side band turned off (ANTIMETAL_PROFILER_NO_SIDEBAND)"),
		  "%s", err.data);
	cr_assert(strstr(err.data, "mmap side band: turned off"), "%s", err.data);
	cr_assert(strstr(out.data, ";main;hot_a"), "%s", out.data);

	/* Without the variable, -v shows the side band's counters. */
	am_strbuf_reset(&out);
	am_strbuf_reset(&err);
	setenv("ANTIMETAL_PROFILER_NO_SIDEBAND", "0", 1);
	st = am_test_run(argv, &out, &err);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, err.data);
	cr_assert(strstr(err.data, "mmap side band on "), "%s", err.data);
	cr_assert(strstr(err.data, "mmap side band: ") && strstr(err.data, " records on "), "%s",
		  err.data);
	cr_assert(strstr(out.data, ";main;hot_a"), "%s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Mappings of perf buffers in this process. */
static int count_perf_maps(void)
{
	struct am_strbuf m = {0};
	const char *p;
	int n = 0;

	cr_assert_eq(am_test_read_file("/proc/self/maps", &m), 0);
	for (p = m.data; p && (p = strstr(p, "[perf_event]")); p++)
		n++;
	am_strbuf_free(&m);
	return n;
}

Test(shortlived, open_and_close_leave_no_fd_or_mapping_behind)
{
	struct am_profile prof;
	int fds, maps, i;

	AM_REQUIRE_BPF();
	fds = count_fds();
	maps = count_perf_maps();
	for (i = 0; i < 3; i++) {
		struct am_profiler *p = open_profiler(true, 99);

		if (i == 1) { /* once read, once closed without a read */
			cr_assert_eq(am_profiler_collect(p, &prof), 0);
			cr_assert(prof.sideband.active);
			am_profile_free(&prof);
		}
		cr_assert_gt(count_perf_maps(), maps, "the side band maps its buffers");
		am_profiler_close(p);
	}
	cr_assert_eq(count_fds(), fds, "file descriptors leaked");
	cr_assert_eq(count_perf_maps(), maps, "perf buffers left mapped");
}

/* The tracker alone against the kernel: the records of one short process, with the kernel's
 * build-ids (5.12+) and without them (the path of older kernels: the inode instead). Asked for
 * build-ids before 5.12 (the 5.10 guest of `make test-kernels`), it falls back to inodes. */
static void child_maps(bool want_build_ids, const char *name)
{
	struct am_kver kv;
	bool build_ids =
	    want_build_ids && am_kver_host(&kv) == 0 && am_kver_at_least(&kv, 5, 12, 0);
	struct am_sideband_opts o = {.no_build_id = !want_build_ids};
	struct am_sideband_stats st;
	struct am_usym_rec_map *m;
	struct am_sideband *t;
	const char *prog = burner(name, false);
	char *argv[] = {(char *)prog, "2", NULL};
	struct stat sb;
	size_t n, i;
	pid_t pid;
	int err;

	err = am_sideband_open(&o, &t);
	cr_assert_eq(err, 0, "am_sideband_open: %s", strerror(-err));
	am_sideband_stats(t, &st);
	cr_assert_eq(st.build_ids, build_ids);
	pid = am_test_start_quiet(argv);
	wait_ok(pid);
	cr_assert_gt(am_sideband_read(t), 0);
	/* Never announced: the latest epoch, its exec. */
	cr_assert_eq(am_sideband_maps(t, (uint32_t)pid, 1, &m, &n), 0);
	cr_assert_eq(stat(prog, &sb), 0);
	for (i = 0; i < n && strcmp(m[i].path, prog); i++)
		;
	cr_assert_lt(i, n, "no mapping of %s among the %zu recorded", prog, n);
	if (build_ids) {
		cr_assert_eq(strlen(m[i].build_id), 40, "build-id '%s'", m[i].build_id);
	} else {
		cr_assert_str_eq(m[i].build_id, "");
		cr_assert_eq(m[i].ino, sb.st_ino);
	}
	for (i = 0; i < n && !strstr(m[i].path, "libc.so"); i++)
		;
	cr_assert_lt(i, n, "libc, mapped by the loader, is not among the %zu recorded", n);
	am_sideband_maps_free(m, n);
	am_sideband_stats(t, &st);
	cr_assert_geq(st.execs, 1);
	cr_assert_eq(st.lost + st.malformed, 0);
	am_sideband_close(t);
}

Test(shortlived, the_kernel_records_build_ids_or_inodes)
{
	AM_REQUIRE_BPF();
	child_maps(true, "bb_bid");
	child_maps(false, "bb_ino");
}

Test(shortlived, a_tracker_that_cannot_map_its_buffers_fails_cleanly)
{
	struct am_sideband_opts o = {.pages = 3}; /* not a power of 2: mmap refuses */
	struct am_sideband *t = (void *)1;
	int fds;

	AM_REQUIRE_BPF();
	fds = count_fds();
	cr_assert_eq(am_sideband_open(&o, &t), -EINVAL);
	cr_assert_null(t);
	cr_assert_eq(count_fds(), fds, "file descriptors leaked");
	cr_assert_eq(count_perf_maps(), 0);
}

/* A ring left unread overflows: the kernel says how many records it dropped (PERF_RECORD_LOST,
 * written once there is room again), and they are counted, not lost silently. */
Test(shortlived, an_overflowing_ring_counts_the_records_lost)
{
	struct am_sideband_opts o = {.pages = 8}; /* 32 KiB per CPU */
	const char *prog = burner("bb_lost", false);
	char *one[] = {(char *)prog, "1", NULL};
	struct am_sideband_stats st;
	struct am_sideband *t;
	int err;

	AM_REQUIRE_BPF();
	err = am_sideband_open(&o, &t);
	cr_assert_eq(err, 0, "am_sideband_open: %s", strerror(-err));
	wait_ok(storm(prog, 300, "1")); /* about 200 KiB of records, none read */
	am_sideband_read(t);
	wait_ok(am_test_start_quiet(one)); /* room again: the kernel reports the loss */
	am_sideband_read(t);
	am_sideband_stats(t, &st);
	cr_log_info("records read %llu, lost %llu", (unsigned long long)st.records,
		    (unsigned long long)st.lost);
	cr_assert_gt(st.lost, 0);
	cr_assert_eq(st.malformed, 0);
	am_sideband_close(t);
}
