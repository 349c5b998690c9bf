/* seccomp_deny_bpf [--map-create] CMD [ARG...]: run CMD under a seccomp filter that makes
 * bpf(2) fail with EPERM, as container runtimes' default profiles do for a process without
 * CAP_SYS_ADMIN. --map-create refuses only BPF_MAP_CREATE (program loads still pass), so a
 * map probe is refused while the kernel plainly has the map type. A raw classic-BPF filter
 * through prctl: no libseccomp needed. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH AUDIT_ARCH_X86_64

int main(int argc, char **argv)
{
	int map_only = argc > 1 && !strcmp(argv[1], "--map-create");
	int first = 1 + map_only;
	struct sock_filter deny_all[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter deny_map[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 3),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BPF_MAP_CREATE, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
	    .len = map_only ? sizeof(deny_map) / sizeof(deny_map[0])
			    : sizeof(deny_all) / sizeof(deny_all[0]),
	    .filter = map_only ? deny_map : deny_all,
	};

	if (argc <= first) {
		fprintf(stderr, "usage: %s [--map-create] CMD [ARG...]\n", argv[0]);
		return 2;
	}
	/* Needed to install a filter without CAP_SYS_ADMIN; it also keeps the exec from gaining
	 * privileges, which root's capabilities are not affected by. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("seccomp_deny_bpf: installing the filter");
		return 125;
	}
	execvp(argv[first], argv + first);
	perror("seccomp_deny_bpf: exec");
	return 127;
}
