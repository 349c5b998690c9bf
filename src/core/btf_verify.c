#include "core/btf_verify.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/bpf_load.h"
#include "core/tracefs.h"
#include "test_core.skel.h"
#include "test_core_types.h"
#include "util/log.h"

/* Load, attach, trigger getppid once from this process, read the result back. */
static int run_probe(const char *btf_path, struct test_core_event *ev)
{
	struct am_bpf_open_state st = {0};
	struct test_core_bpf *skel;
	__u32 key = 0;
	int err;

	err = am_tracefs_ensure(NULL);
	if (err)
		return err;
	skel = AM_SKEL_OPEN(test_core_bpf, "test_core", btf_path, &st);
	if (!skel) {
		err = -errno;
		am_bpf_open_state_release(&st);
		return err;
	}
	skel->rodata->target_tgid = getpid();
	err = test_core_bpf__load(skel);
	if (err) {
		am_err("BTF file %s: CO-RE relocation or load failed: %s", btf_path,
		       strerror(-err));
		goto out;
	}
	err = test_core_bpf__attach(skel);
	if (err) {
		am_err("BTF check: cannot attach the test_core tracepoint: %s", strerror(-err));
		goto out;
	}
	syscall(SYS_getppid);
	err = bpf_map__lookup_elem(skel->maps.result, &key, sizeof(key), ev, sizeof(*ev), 0);
	if (err)
		am_err("BTF check: cannot read the test_core result: %s", strerror(-err));
out:
	test_core_bpf__destroy(skel);
	am_bpf_open_state_release(&st);
	return err;
}

int am_btf_verify_running_kernel(const char *btf_path)
{
	struct test_core_event ev = {0};
	struct utsname u = {0};
	int err = run_probe(btf_path, &ev);

	if (err)
		return err;
	uname(&u);
	if (ev.hits < 1) {
		am_err("BTF check with %s: the getppid tracepoint did not fire", btf_path);
		return -EIO;
	}
	/* Offsets taken from another kernel's BTF read unrelated memory: the parent's tgid is
	 * the field most certain to come out different. */
	if (ev.ppid != getppid()) {
		am_err(
		    "BTF file %s does not describe the running kernel %s: task_struct.real_parent"
		    "->tgid read through it is %d, the kernel says %d (BTF of another kernel?)",
		    btf_path, u.release, ev.ppid, getppid());
		return -EINVAL;
	}
	if (ev.state != 0) {
		am_err("BTF file %s does not describe the running kernel %s: task_struct.%s read "
		       "through it is %u, a running task has 0 (BTF of another kernel?)",
		       btf_path, u.release,
		       ev.state_field == TEST_CORE_STATE_NEW ? "__state" : "state", ev.state);
		return -EINVAL;
	}
	am_debug("BTF file %s matches the running kernel %s", btf_path, u.release);
	return 0;
}
