/* The kernel log's OOM-killer lines as kernels from 4.x to 6.18 print them, garbled ones, and
 * their pairing into one kill. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "collectors/parse/parsers.h"

#define KILLED_618                                                                                 \
	"Memory cgroup out of memory: Killed process 24908 (mem_hog) total-vm:35372kB, "           \
	"anon-rss:32512kB, file-rss:952kB, shmem-rss:0kB, UID:0 pgtables:108kB "                   \
	"oom_score_adj:0"
#define OOM_KILL_618                                                                               \
	"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"            \
	"oom_memcg=/am-oom-bpf-24909,task_memcg=/am-oom-bpf-24909,task=mem_hog,pid=24908,"         \
	"uid=0"

Test(oom_kmsg, killed_line_of_6_18_gives_every_figure)
{
	struct am_oom_kmsg k = {0};

	cr_assert_eq(am_parse_oom_killed_line(KILLED_618, &k, NULL), 0);
	cr_assert_eq(k.pid, 24908);
	cr_assert_str_eq(k.comm, "mem_hog");
	cr_assert_eq(k.total_vm_kb, 35372);
	cr_assert_eq(k.anon_rss_kb, 32512);
	cr_assert_eq(k.file_rss_kb, 952);
	cr_assert_eq(k.shmem_rss_kb, 0);
	cr_assert(k.have_uid);
	cr_assert_eq(k.uid, 0);
	cr_assert_eq(k.pgtables_kb, 108);
	cr_assert_eq(k.oom_score_adj, 0);
}

Test(oom_kmsg, killed_line_of_4_x_without_uid_and_a_comm_with_parentheses)
{
	struct am_oom_kmsg k = {0};

	cr_assert_eq(am_parse_oom_killed_line(
			 "Out of memory: Killed process 77 (a (b) c) total-vm:10kB, anon-rss:5kB, "
			 "file-rss:1kB, shmem-rss:2kB",
			 &k, NULL),
		     0);
	cr_assert_eq(k.pid, 77);
	cr_assert_str_eq(k.comm, "a (b) c");
	cr_assert_eq(k.shmem_rss_kb, 2);
	cr_assert(!k.have_uid);
}

Test(oom_kmsg, negative_oom_score_adj)
{
	struct am_oom_kmsg k = {0};

	cr_assert_eq(am_parse_oom_killed_line(
			 "Out of memory: Killed process 5 (x) total-vm:1kB, anon-rss:1kB, "
			 "file-rss:1kB, shmem-rss:1kB, UID:1000 pgtables:4kB oom_score_adj:-998",
			 &k, NULL),
		     0);
	cr_assert_eq(k.uid, 1000);
	cr_assert_eq(k.oom_score_adj, -998);
}

Test(oom_kmsg, other_lines_are_not_oom_lines_and_garbled_ones_say_why)
{
	struct am_oom_kmsg k = {0};
	const char *why = NULL;
	uint64_t kb;

	cr_assert_eq(am_parse_oom_killed_line("usb 1-1: new device", &k, NULL), -ENOENT);
	cr_assert_eq(am_parse_oom_kill_line("usb 1-1: new device", &k, NULL), -ENOENT);
	cr_assert_eq(am_parse_oom_memcg_limit_line("memory+swap: usage 1kB", &kb, NULL), -ENOENT);
	cr_assert_eq(am_parse_oom_killed_line("Out of memory: Killed process x (y)", &k, &why),
		     -EINVAL);
	cr_assert_not_null(why);
	cr_assert_eq(
	    am_parse_oom_killed_line("Out of memory: Killed process 5 (y) total-vm:zkB", &k, &why),
	    -EINVAL);
	cr_assert_eq(am_parse_oom_kill_line("oom-kill:constraint=CONSTRAINT_NONE", &k, &why),
		     -EINVAL);
	cr_assert_eq(am_parse_oom_kill_line("oom-kill:task=x,pid=-3,uid=0", &k, &why), -EINVAL);
	cr_assert_eq(am_parse_oom_memcg_limit_line("memory: usage 1kB, limit zz", &kb, &why),
		     -EINVAL);
}

Test(oom_kmsg, oom_kill_line_gives_constraint_memcg_task_pid_uid)
{
	struct am_oom_kmsg k = {0};

	cr_assert_eq(am_parse_oom_kill_line(OOM_KILL_618, &k, NULL), 0);
	cr_assert_str_eq(k.constraint, "CONSTRAINT_MEMCG");
	cr_assert_str_eq(k.task_memcg, "/am-oom-bpf-24909");
	cr_assert_str_eq(k.comm, "mem_hog");
	cr_assert_eq(k.pid, 24908);
	cr_assert(k.have_uid);
}

Test(oom_kmsg, commas_in_the_memcg_path_and_the_comm)
{
	struct am_oom_kmsg k = {0};

	cr_assert_eq(am_parse_oom_kill_line("oom-kill:constraint=CONSTRAINT_MEMCG,task_memcg=/a,b"
					    ",task=x,y,pid=9,uid=3",
					    &k, NULL),
		     0);
	cr_assert_str_eq(k.task_memcg, "/a,b");
	cr_assert_str_eq(k.comm, "x,y");
	cr_assert_eq(k.pid, 9);
	cr_assert_eq(k.uid, 3);
}

Test(oom_kmsg, one_memcg_kill_pairs_limit_summary_and_figures)
{
	struct am_oom_kmsg_pairer p = {0};
	struct am_oom_kmsg k;

	cr_assert_eq(am_oom_kmsg_feed(&p, "mem_hog invoked oom-killer: gfp_mask=0xcc0", &k), 0);
	cr_assert_eq(am_oom_kmsg_feed(&p, "memory: usage 32768kB, limit 32768kB, failcnt 41", &k),
		     0);
	cr_assert_eq(am_oom_kmsg_feed(&p, OOM_KILL_618, &k), 0);
	cr_assert_eq(am_oom_kmsg_feed(&p, KILLED_618, &k), 1);
	cr_assert_eq(k.pid, 24908);
	cr_assert_str_eq(k.task_memcg, "/am-oom-bpf-24909");
	cr_assert(k.have_limit);
	cr_assert_eq(k.limit_kb, 32768);
	cr_assert_eq(k.pgtables_kb, 108);
	cr_assert_eq(p.garbled, 0);
}

Test(oom_kmsg, a_global_kill_after_a_memcg_report_carries_no_stale_limit)
{
	struct am_oom_kmsg_pairer p = {0};
	struct am_oom_kmsg k;

	am_oom_kmsg_feed(&p, "memory: usage 32768kB, limit 32768kB, failcnt 41", &k);
	am_oom_kmsg_feed(&p,
			 "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,"
			 "mems_allowed=0,global_oom,task_memcg=/user.slice,task=big,pid=4,uid=0",
			 &k);
	cr_assert_eq(am_oom_kmsg_feed(&p,
				      "Out of memory: Killed process 4 (big) total-vm:1kB, "
				      "anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 "
				      "pgtables:4kB oom_score_adj:0",
				      &k),
		     1);
	cr_assert(!k.have_limit);
	cr_assert_str_eq(k.task_memcg, "/user.slice");
}

Test(oom_kmsg, a_summary_of_another_pid_is_not_joined_and_garbled_lines_are_counted)
{
	struct am_oom_kmsg_pairer p = {0};
	struct am_oom_kmsg k;

	am_oom_kmsg_feed(&p, "oom-kill:constraint=CONSTRAINT_NONE,task_memcg=/a,task=x,pid=1,uid=0",
			 &k);
	am_oom_kmsg_feed(&p, "Out of memory: Killed process nonsense", &k);
	cr_assert_eq(p.garbled, 1);
	cr_assert_eq(am_oom_kmsg_feed(&p, KILLED_618, &k), 1);
	cr_assert_str_eq(k.task_memcg, "");
	cr_assert_eq(k.pid, 24908);
}
