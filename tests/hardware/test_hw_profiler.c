/* Hardware-event profiling (the spec's "Hardware Testing"): cycles, instructions and cache
 * misses through the profiler collector with --no-fallback semantics. Built separately
 * (`make hardware-tests`), run on bare metal by scripts/run-hardware-tests.sh. Without a PMU
 * every test reports "skipped: no PMU"; with one, samples must arrive at a plausible rate.
 * ANTIMETAL_HWTEST_EVENT=cpu-clock runs every test on that software event instead: `make test`
 * does so on machines without a PMU, so the assertions themselves are exercised everywhere. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/ebpf/profiler.h"
#include "profile_run.h"
#include "testutil.h"

#define HOT	AM_TEST_BUILD_DIR "/tests/workloads/hot"
#define FREQ	999
#define SECONDS 2

/* The event a test asked for, or the one ANTIMETAL_HWTEST_EVENT forces. */
static const char *hw_event(const char *event)
{
	const char *forced = getenv("ANTIMETAL_HWTEST_EVENT");

	return forced && *forced ? forced : event;
}

static void require_pmu(const char *event)
{
	const struct am_perf_event_desc *d;
	struct perf_event_attr attr;
	long fd;

	event = hw_event(event);
	d = am_perf_event_find(event);
	cr_assert_not_null(d, "unknown event %s", event);
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = d->type;
	attr.config = d->config;
	attr.disabled = 1;
	fd = syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd < 0)
		cr_skip_test("skipped: no PMU (perf_event_open(%s): %s)", event, strerror(errno));
	close((int)fd);
}

static pid_t start_hot(void)
{
	char *argv[] = {HOT, "6", NULL};
	char *dir = am_test_mkdtemp("hw");
	pid_t pid;

	cr_assert_not_null(dir);
	cr_assert_eq(access(HOT, X_OK), 0, "%s not built (make hardware-tests builds it)", HOT);
	pid = am_test_spawn(argv, dir);
	cr_assert_gt(pid, 0);
	free(dir);
	return pid;
}

/* Profile the hot workload with EVENT for SECONDS; returns the profile (caller frees). */
static void profile_event(const char *event, struct am_profile *prof, pid_t pid)
{
	uint32_t pids[1] = {(uint32_t)pid};
	struct am_profiler_opts o = {
	    .event = event,
	    .freq = FREQ,
	    .no_fallback = true,
	    .attach = AM_ATTACH_AUTO,
	    .pids = pids,
	    .npids = 1,
	    .kernel_stacks = true,
	    .user_stacks = true,
	};
	struct am_profiler *p = NULL;
	int err;

	event = hw_event(event);
	o.event = event;
	err = am_profiler_open(&o, &p);
	cr_assert_eq(err, 0, "opening %s failed: %s", event, strerror(-err));
	cr_assert_eq(am_test_profile_for(p, SECONDS * 1000), 0);
	err = am_profiler_collect(p, prof);
	am_profiler_close(p);
	cr_assert_eq(err, 0);
	cr_assert_str_eq(prof->event, event, "sampled %s, asked %s", prof->event, event);
	cr_assert(!prof->fell_back);
}

static uint64_t count_func(const struct am_profile *prof, const char *func)
{
	uint64_t n = 0;
	size_t i, j;

	for (i = 0; i < prof->nstacks; i++)
		for (j = 0; j < prof->stacks[i].nframes; j++)
			if (!strcmp(prof->stacks[i].frames[j].func, func)) {
				n += prof->stacks[i].count;
				break;
			}
	return n;
}

/* A CPU-bound single thread under a frequency-mode counting event: close to FREQ samples a
 * second (the kernel adapts the period), never wildly more. */
static void check_rate(const struct am_profile *prof, const char *event)
{
	double rate = (double)prof->total / ((double)prof->duration_ns / 1e9);

	cr_assert(rate > FREQ * 0.5 && rate < FREQ * 1.5,
		  "%s: %.0f samples/s for one busy thread at -F %d", event, rate, FREQ);
}

TestSuite(hw_profiler, .timeout = 60);

Test(hw_profiler, cycles_sample_at_the_asked_rate_and_find_hot_a)
{
	struct am_profile prof;
	pid_t pid;
	uint64_t a, b;

	AM_REQUIRE_BPF();
	require_pmu("cycles");
	pid = start_hot();
	profile_event("cycles", &prof, pid);
	am_test_reap(pid);
	check_rate(&prof, "cycles");
	a = count_func(&prof, "hot_a");
	b = count_func(&prof, "hot_b");
	cr_assert_gt(a + b, 0);
	/* Same loop body in both: cycles split like time, 75/25. */
	cr_assert(a * 100 > (a + b) * 70 && a * 100 < (a + b) * 80, "hot_a %llu hot_b %llu",
		  (unsigned long long)a, (unsigned long long)b);
	am_profile_free(&prof);
}

Test(hw_profiler, instructions_sample_at_the_asked_rate)
{
	struct am_profile prof;
	pid_t pid;

	AM_REQUIRE_BPF();
	require_pmu("instructions");
	pid = start_hot();
	profile_event("instructions", &prof, pid);
	am_test_reap(pid);
	check_rate(&prof, "instructions");
	cr_assert_gt(count_func(&prof, "hot_a"), count_func(&prof, "hot_b"));
	am_profile_free(&prof);
}

Test(hw_profiler, cache_misses_arrive_and_stay_bounded)
{
	struct am_profile prof;
	double rate;
	pid_t pid;

	AM_REQUIRE_BPF();
	require_pmu("cache-misses");
	pid = start_hot();
	profile_event("cache-misses", &prof, pid);
	am_test_reap(pid);
	/* The hot loop misses little: only require that misses are seen at all and that the
	 * rate never exceeds what was asked for. */
	rate = (double)prof.total / ((double)prof.duration_ns / 1e9);
	cr_assert_gt(prof.total, 0, "no cache-miss samples in %d s", SECONDS);
	cr_assert_lt(rate, FREQ * 1.5, "%.0f samples/s at -F %d", rate, FREQ);
	am_profile_free(&prof);
}
