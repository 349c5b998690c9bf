/* CO-RE end to end: the test_core program reads real_parent->tgid and the task state through
 * relocations against this kernel's BTF; the values must equal what the kernel tells us. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/bpf_load.h"
#include "core/kversion.h"
#include "core/tracefs.h"
#include "test_core.skel.h"
#include "test_core_types.h"
#include "testutil.h"

static void run_probe(struct test_core_event *ev)
{
	struct am_bpf_open_state st = {0};
	struct test_core_bpf *skel;
	__u32 key = 0;
	int err;

	cr_assert_eq(am_tracefs_ensure(NULL), 0, "tracefs unavailable");
	skel = AM_SKEL_OPEN(test_core_bpf, "test_core", NULL, &st);
	cr_assert_not_null(skel, "opening test_core.bpf.o failed");
	skel->rodata->target_tgid = getpid();
	err = test_core_bpf__load(skel);
	cr_assert_eq(err, 0, "loading test_core failed: %s", strerror(-err));
	err = test_core_bpf__attach(skel);
	cr_assert_eq(err, 0, "attaching test_core failed: %s", strerror(-err));
	syscall(SYS_getppid);
	err = bpf_map__lookup_elem(skel->maps.result, &key, sizeof(key), ev, sizeof(*ev), 0);
	cr_assert_eq(err, 0);
	test_core_bpf__destroy(skel);
	am_bpf_open_state_release(&st);
}

Test(core_reloc, parent_and_state_match_the_kernel)
{
	struct test_core_event ev = {0};
	struct am_strbuf comm = {0};
	struct am_kver kv;

	AM_REQUIRE_BPF();
	cr_assert_eq(am_kver_host(&kv), 0);
	run_probe(&ev);
	cr_assert_eq(ev.hits, 1, "tracepoint fired %d times, want 1", ev.hits);
	cr_assert_eq(ev.tgid, getpid());
	cr_assert_eq(ev.pid, (int)syscall(SYS_gettid));
	cr_assert_eq(ev.ppid, getppid(), "real_parent->tgid %d != getppid() %d", ev.ppid,
		     getppid());
	/* The task is executing a syscall: it is running, TASK_RUNNING == 0. */
	cr_assert_eq(ev.state, 0u, "task state %u, want TASK_RUNNING", ev.state);
	/* task_struct.state became __state in 5.14: the relocation must pick the field this
	 * kernel has (the old one on 5.10, as in the test-kernels guest). */
	cr_assert_eq(ev.state_field,
		     am_kver_at_least(&kv, 5, 14, 0) ? TEST_CORE_STATE_NEW : TEST_CORE_STATE_OLD,
		     "state read through field %d on %u.%u", ev.state_field, kv.major, kv.minor);
	cr_assert_eq(am_test_read_file("/proc/self/comm", &comm), 0);
	comm.data[strcspn(comm.data, "\n")] = '\0';
	cr_assert_str_eq(ev.comm, comm.data);
	am_strbuf_free(&comm);
}

Test(core_reloc, bpf_path_override_loads_the_built_object)
{
	struct test_core_event ev = {0};

	AM_REQUIRE_BPF();
	setenv("ANTIMETAL_BPF_PATH", AM_TEST_SRC_DIR "/ebpf/build", 1);
	run_probe(&ev);
	unsetenv("ANTIMETAL_BPF_PATH");
	cr_assert_eq(ev.ppid, getppid());
}

Test(core_reloc, bpf_path_override_to_missing_dir_fails_cleanly)
{
	struct am_bpf_open_state st = {0};
	struct test_core_bpf *skel;
	int err;

	setenv("ANTIMETAL_BPF_PATH", "/nonexistent-antimetal", 1);
	skel = AM_SKEL_OPEN(test_core_bpf, "test_core", NULL, &st);
	err = errno;
	unsetenv("ANTIMETAL_BPF_PATH");
	cr_assert_null(skel);
	/* The reason reaches the caller, not a generic EINVAL. */
	cr_assert_eq(err, ENOENT, "errno %d (%s)", err, strerror(err));
	am_bpf_open_state_release(&st);
}
