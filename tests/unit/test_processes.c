/* processes: /proc/PID/stat parsing (hostile comm names), top-N selection, CPU rates matched
 * by PID and start time. */
#include <criterion/criterion.h>
#include <unistd.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

Test(processes, pid_stat_with_parens_and_spaces_in_comm)
{
	struct am_pid_stat p;
	char *t = fixture("proc/processes/42/stat");

	cr_assert_eq(am_parse_pid_stat(t, &p, NULL), 0);
	cr_assert_eq(p.pid, 42);
	cr_assert_str_eq(p.comm, "my (weird) proc");
	cr_assert_eq(p.state, 'R');
	cr_assert_eq(p.utime, 300);
	cr_assert_eq(p.stime, 100);
	cr_assert_eq(p.num_threads, 4);
	cr_assert_eq(p.starttime, 5000);
	cr_assert_eq(p.rss_pages, 2000);
	free(t);
}

Test(processes, captured_pid1_exact)
{
	struct am_pid_stat p;
	char *t = fixture("proc/real/1/stat");

	cr_assert_eq(am_parse_pid_stat(t, &p, NULL), 0);
	cr_assert_eq(p.pid, 1);
	cr_assert_str_eq(p.comm, "process_api");
	cr_assert_eq(p.state, 'S');
	cr_assert_eq(p.utime, 101);
	cr_assert_eq(p.stime, 426);
	cr_assert_eq(p.num_threads, 13);
	cr_assert_eq(p.starttime, 30);
	cr_assert_eq(p.rss_pages, 4066);
	free(t);
}

Test(processes, control_bytes_in_comm_are_replaced)
{
	struct am_pid_stat p;

	cr_assert_eq(am_parse_pid_stat(
			 "7 (a\nb\x01) S 1 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 9 0 5 0", &p, NULL),
		     0);
	cr_assert_str_eq(p.comm, "a?b?");
}

Test(processes, malformed_rejected)
{
	static const char *const bad[] = {"",
					  "1",
					  "1 (x",
					  "1 (x) S 1 2 3",
					  "x (y) S",
					  "0 (x) S 1 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 9 0 5 0",
					  "1 (x) S 1 1 1 0 -1 0 0 0 0 0 -3 4 0 0 20 0 1 0 9 0 5 0",
					  "1 (x) 5 1 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 9 0 5 0"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct am_pid_stat p;
		const char *why = NULL;

		cr_assert_eq(am_parse_pid_stat(bad[i], &p, &why), -EINVAL, "accepted '%s'", bad[i]);
		cr_assert_not_null(why);
	}
}

Test(processes, fixture_tree_counts_states_and_skips_broken_entries)
{
	struct am_metric_set s = {0};
	double hz = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);

	cr_assert_eq(
	    collect_once(&am_collector_processes, FIXTURES "/proc/processes", NULL, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_processes"), 4);
	cr_assert_eq(VALUE(&s, "antimetal_processes_state", "state", "R"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_processes_state", "state", "Z"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_processes_state", "state", "I"), 1);
	cr_assert_eq(VALUE(&s, "antimetal_process_cpu_seconds_total", "pid", "42", "comm",
			   "my (weird) proc"),
		     400 / hz);
	cr_assert_eq(VALUE(&s, "antimetal_process_resident_memory_bytes", "pid", "1"), 500 * page);
	cr_assert_null(find_metric(&s, "antimetal_process_cpu_seconds_total", "pid", "999", NULL));
	/* One cycle: no CPU rate yet. */
	cr_assert_eq(count_metric(&s, "antimetal_process_cpu_ratio"), 0);
	am_metric_set_free(&s);
}

static void write_stat(const char *dir, int pid, unsigned long long ticks, unsigned long long start,
		       long rss)
{
	char path[512], text[512];

	snprintf(path, sizeof(path), "%s/%d/stat", dir, pid);
	snprintf(text, sizeof(text),
		 "%d (p%d) S 1 1 1 0 -1 0 0 0 0 0 %llu 0 0 0 20 0 1 0 %llu 1000 %ld 0\n", pid, pid,
		 ticks, start, rss);
	cr_assert_eq(am_test_write_file(path, text, strlen(text)), 0);
}

Test(processes, top_n_is_the_union_of_cpu_and_memory_rankings)
{
	char *dir = am_test_mkdtemp("processes");
	struct am_metric_set s = {0};
	int pid;

	/* pids 100..129: CPU grows with the pid, memory shrinks with it. */
	for (pid = 100; pid < 130; pid++)
		write_stat(dir, pid, (unsigned long long)pid * 10, 1, 1000 - pid);
	cr_assert_eq(collect_once(&am_collector_processes, dir, NULL, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_processes"), 30);
	cr_assert_eq(count_metric(&s, "antimetal_process_cpu_seconds_total"), 20);
	cr_assert_not_null(
	    find_metric(&s, "antimetal_process_cpu_seconds_total", "pid", "129", NULL));
	cr_assert_not_null(
	    find_metric(&s, "antimetal_process_cpu_seconds_total", "pid", "100", NULL));
	cr_assert_null(find_metric(&s, "antimetal_process_cpu_seconds_total", "pid", "115", NULL));
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}

Test(processes, cpu_rate_between_cycles_and_pid_reuse)
{
	char *dir = am_test_mkdtemp("processes");
	struct test_clock clk = {5000000000ull};
	struct am_collect_roots roots = {
	    .procfs = dir, .clock_ns = test_clock_ns, .clock_ctx = &clk};
	struct am_metric_set s = {0};
	double hz = (double)sysconf(_SC_CLK_TCK), r;
	void *st;

	write_stat(dir, 10, 100, 5, 10);
	write_stat(dir, 11, 100, 5, 10);
	cr_assert_eq(am_collector_processes.init(&st, &roots), 0);
	cr_assert_eq(am_collector_processes.collect(st, &s), 0);
	clk.ns += 250000000ull;
	/* pid 10 used hz/2 ticks = half a CPU second; pid 11 is a new process (new start time). */
	write_stat(dir, 10, 100 + (unsigned long long)(hz / 2), 5, 10);
	write_stat(dir, 11, 1, 77, 10);
	am_metric_set_reset(&s);
	cr_assert_eq(am_collector_processes.collect(st, &s), 0);
	r = VALUE(&s, "antimetal_process_cpu_ratio", "pid", "10");
	/* 0.5 s of CPU over 0.25 s: two CPUs' worth. */
	cr_assert_float_eq(r, 2.0, 1e-9, "cpu ratio %f", r);
	cr_assert_null(find_metric(&s, "antimetal_process_cpu_ratio", "pid", "11", NULL));
	am_collector_processes.destroy(st);
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}

Test(processes, empty_procfs_has_no_processes)
{
	struct am_metric_set s = {0};
	char *dir = am_test_mkdtemp("emptyproc");

	cr_assert_not_null(dir);
	/* No PID directories at all: zero processes, no crash (UBSan checks qsort's array). */
	cr_assert_eq(collect_once(&am_collector_processes, dir, NULL, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_processes"), 0);
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}
