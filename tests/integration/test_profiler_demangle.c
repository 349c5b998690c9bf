/* Demangled user frames end to end: the C++ workload tests/workloads/hot_cpp profiled by the
 * agent shows perf's names in folded output and keeps the mangled ones as pprof's
 * system_name; --no-demangle shows the mangled names; perf itself names the same functions
 * the same way. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profile.pb-c.h"
#include "testutil.h"
#include "gunzip.h"

#define AGENT	AM_TEST_BUILD_DIR "/antimetal-agent"
#define HOT_CPP AM_TEST_BUILD_DIR "/tests/workloads/hot_cpp"

/* The workload's functions: as perf shows them, and as the ELF file names them. */
static const struct {
	const char *name, *mangled;
} funcs[] = {
    {"round_of_work", "_ZL13round_of_workv"},
    {"hot_cpp::inner::spin", "_ZN7hot_cpp5inner4spinEl"},
    {"burn<unsigned long>", "_Z4burnImET_S0_"},
    {"(anonymous namespace)::churn", "_ZN12_GLOBAL__N_15churnEm"},
    {"hot_cpp::Mixer::operator()", "_ZN7hot_cpp5MixerclEl"},
};
#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

static char *tmpdir;

static void setup(void)
{
	tmpdir = am_test_mkdtemp("demangle");
	cr_assert_not_null(tmpdir);
}

static void teardown(void)
{
	if (tmpdir)
		am_test_rmtree(tmpdir);
	free(tmpdir);
}

TestSuite(profiler_demangle, .init = setup, .fini = teardown, .timeout = 90);

/* hot_cpp until killed (it dies with this process too). */
static pid_t spawn_hot_cpp(void)
{
	char dir[4096], keep[4200];
	char *argv[] = {HOT_CPP, "0", NULL};
	pid_t pid;

	cr_assert_eq(access(HOT_CPP, X_OK), 0, "workload %s not built", HOT_CPP);
	snprintf(dir, sizeof(dir), "%s/w", tmpdir);
	snprintf(keep, sizeof(keep), "%s/.keep", dir);
	cr_assert_eq(am_test_write_file(keep, "", 0), 0);
	pid = am_test_spawn(argv, dir);
	cr_assert_gt(pid, 0);
	return pid;
}

/* perf 6.1's per-task `perf record` aborts ("assertion failed at util/build-id.c:1010", stack
 * smashing) when the agent attaches its BPF profiler meanwhile: the two tests of this file,
 * run in parallel by Criterion, take turns. The lock goes with the test's worker process. */
static void take_turns(void)
{
	int fd = open(AM_TEST_BUILD_DIR "/tests/integration/.test_profiler_demangle.lock",
		      O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(flock(fd, LOCK_EX), 0);
}

/* Profile PID for a second and a half into TAG.folded and TAG.pb.gz (EXTRA: one more option
 * or NULL); FOLDED and PPROF receive the files. */
static void profile(pid_t pid, const char *tag, const char *extra, struct am_strbuf *folded,
		    struct am_strbuf *pprof)
{
	char pidarg[16], ffile[4096], pfile[4096];
	struct am_strbuf err = {0};
	char *argv[] = {AGENT,	    "profile", "-F",	   "999",    "-d",	    "1.5",
			"-p",	    pidarg,    "--format", "folded", "-o",	    ffile,
			"--format", "pprof",   "-o",	   pfile,    (char *)extra, NULL};
	int st;

	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	snprintf(ffile, sizeof(ffile), "%s/%s.folded", tmpdir, tag);
	snprintf(pfile, sizeof(pfile), "%s/%s.pb.gz", tmpdir, tag);
	st = am_test_run(argv, NULL, &err);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "profile failed (%d): %s", st,
		  err.data);
	cr_assert_eq(am_test_read_file(ffile, folded), 0);
	cr_assert_eq(am_test_read_file(pfile, pprof), 0);
	am_strbuf_free(&err);
}

/* Sum of the folded lines containing NEEDLE before their count. */
static uint64_t folded_count(const char *folded, const char *needle)
{
	const char *line = folded;
	uint64_t sum = 0;

	while (line && *line) {
		const char *nl = strchr(line, '\n'), *sp, *hit;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[8192];

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			sp = strrchr(buf, ' ');
			hit = strstr(buf, needle);
			if (sp && hit && hit < sp)
				sum += strtoull(sp + 1, NULL, 10);
		}
		line = nl ? nl + 1 : NULL;
	}
	return sum;
}

static Perftools__Profiles__Profile *decode(const struct am_strbuf *gz)
{
	struct am_strbuf raw = {0};
	Perftools__Profiles__Profile *pb;

	am_test_gunzip(gz->data, gz->len, &raw);
	pb = perftools__profiles__profile__unpack(NULL, raw.len, (uint8_t *)raw.data);
	cr_assert_not_null(pb, "profile.proto decode failed");
	am_strbuf_free(&raw);
	return pb;
}

/* The system_name of the pprof function called NAME, or NULL. */
static const char *system_name(const Perftools__Profiles__Profile *pb, const char *name)
{
	size_t i;

	for (i = 0; i < pb->n_function; i++)
		if (!strcmp(pb->string_table[pb->function[i]->name], name))
			return pb->string_table[pb->function[i]->system_name];
	return NULL;
}

Test(profiler_demangle, cpp_frames_demangled_and_mangled_names_kept)
{
	struct am_strbuf folded = {0}, gz = {0}, raw_folded = {0}, raw_gz = {0};
	Perftools__Profiles__Profile *pb;
	uint64_t total;
	pid_t pid;
	size_t i;

	AM_REQUIRE_BPF();
	take_turns();
	pid = spawn_hot_cpp();
	profile(pid, "demangled", NULL, &folded, &gz);
	profile(pid, "mangled", "--no-demangle", &raw_folded, &raw_gz);
	am_test_reap(pid);

	/* Folded: perf's names, spaces and parentheses included, under their callers; the three
	 * leaves share the time about equally. */
	total = folded_count(folded.data, "hot_cpp;");
	cr_assert_gt(total, 500, "too few samples:\n%s", folded.data);
	cr_expect_gt(folded_count(folded.data, ";main;round_of_work;hot_cpp::inner::spin"),
		     total / 6, "%s", folded.data);
	cr_expect_gt(folded_count(folded.data, ";main;round_of_work;burn<unsigned long>;(anonymous "
					       "namespace)::churn"),
		     total / 6, "%s", folded.data);
	cr_expect_gt(folded_count(folded.data, ";main;round_of_work;hot_cpp::Mixer::operator()"),
		     total / 6, "%s", folded.data);
	cr_expect_null(strstr(folded.data, ";_Z"), "a mangled frame is left:\n%s", folded.data);

	/* pprof: the demangled name, and the mangled one as system_name; C names have both. */
	pb = decode(&gz);
	for (i = 0; i < NFUNCS; i++) {
		const char *sys = system_name(pb, funcs[i].name);

		cr_expect_not_null(sys, "no pprof function named %s", funcs[i].name);
		if (sys)
			cr_expect_str_eq(sys, funcs[i].mangled, "%s", funcs[i].name);
	}
	cr_expect_str_eq(system_name(pb, "main") ? system_name(pb, "main") : "", "main");
	perftools__profiles__profile__free_unpacked(pb, NULL);

	/* --no-demangle: the ELF names everywhere. */
	cr_assert_gt(folded_count(raw_folded.data, "hot_cpp;"), 500, "%s", raw_folded.data);
	cr_expect_gt(
	    folded_count(raw_folded.data,
			 ";main;_ZL13round_of_workv;_Z4burnImET_S0_;_ZN12_GLOBAL__N_15churnEm"),
	    0, "%s", raw_folded.data);
	cr_expect_gt(folded_count(raw_folded.data, ";_ZN7hot_cpp5inner4spinEl"), 0, "%s",
		     raw_folded.data);
	cr_expect_null(strstr(raw_folded.data, "hot_cpp::"), "%s", raw_folded.data);
	pb = decode(&raw_gz);
	for (i = 0; i < NFUNCS; i++) {
		const char *sys = system_name(pb, funcs[i].mangled);

		cr_expect_not_null(sys, "no pprof function named %s", funcs[i].mangled);
		if (sys)
			cr_expect_str_eq(sys, funcs[i].mangled);
		cr_expect_null(system_name(pb, funcs[i].name), "%s", funcs[i].name);
	}
	perftools__profiles__profile__free_unpacked(pb, NULL);
	am_strbuf_free(&folded);
	am_strbuf_free(&gz);
	am_strbuf_free(&raw_folded);
	am_strbuf_free(&raw_gz);
}

/* The names asserted above are perf's: `perf report` on the same workload lists each of them
 * (callers too, with --children). */
Test(profiler_demangle, perf_shows_the_same_names)
{
	char cmd[8192], line[4096];
	struct am_strbuf report = {0};
	FILE *p;
	size_t i;

	AM_REQUIRE_BPF();
	if (system("perf version >/dev/null 2>&1"))
		cr_skip_test("skipped: perf (linux-perf) cannot run here");
	take_turns();
	snprintf(cmd, sizeof(cmd),
		 "perf record -q -g -e cpu-clock -F 999 -o %s/perf.data -- %s 1 >/dev/null "
		 "2>%s/perf.err",
		 tmpdir, HOT_CPP, tmpdir);
	if (system(cmd)) {
		snprintf(cmd, sizeof(cmd), "%s/perf.err", tmpdir);
		am_test_read_file(cmd, &report);
		cr_skip_test("skipped: perf record failed: %s", report.data ? report.data : "");
	}
	snprintf(cmd, sizeof(cmd),
		 "perf report -i %s/perf.data --stdio --children --sort sym -g none "
		 "--comm hot_cpp 2>/dev/null",
		 tmpdir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *sym = strstr(line, "[.] ");

		if (!sym)
			continue;
		sym += 4;
		sym[strcspn(sym, "\n")] = '\0';
		while (*sym && sym[strlen(sym) - 1] == ' ')
			sym[strlen(sym) - 1] = '\0';
		am_strbuf_printf(&report, "%s\n", sym);
	}
	cr_assert_eq(pclose(p), 0);
	cr_assert_not_null(report.data, "perf report listed no user symbol");
	for (i = 0; i < NFUNCS; i++) {
		char want[256];

		snprintf(want, sizeof(want), "\n%s\n", funcs[i].name);
		cr_expect(strstr(report.data, want + 1) == report.data || strstr(report.data, want),
			  "perf report has no '%s':\n%s", funcs[i].name, report.data);
	}
	am_strbuf_free(&report);
}
