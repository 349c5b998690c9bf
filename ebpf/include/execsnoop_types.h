/* Records of the execsnoop program, shared by ebpf/src/execsnoop.bpf.c and
 * src/collectors/execsnoop.c. Fixed-width types only: the layout is checked against the
 * object's BTF by `make generate-ebpf-types`. */
#ifndef ANTIMETAL_EXECSNOOP_TYPES_H
#define ANTIMETAL_EXECSNOOP_TYPES_H

#include "common.h"

/* Compile-time ceilings; the limits in force are rodata set by user space, at most these. */
#define EXECSNOOP_MAX_ARGS	256   /* arguments kept per exec */
#define EXECSNOOP_FILENAME_MAX	1024  /* filename bytes kept, NUL included */
#define EXECSNOOP_DATA_MAX	16384 /* filename + arguments; a power of two */
#define EXECSNOOP_ARGS_SIZE_MAX (EXECSNOOP_DATA_MAX - EXECSNOOP_FILENAME_MAX)

/* Defaults when user space does not choose. */
#define EXECSNOOP_DEFAULT_MAX_ARGS  64
#define EXECSNOOP_DEFAULT_ARGS_SIZE 4096

enum execsnoop_record_type {
	EXECSNOOP_RECORD_EXEC = 1,
	EXECSNOOP_RECORD_EXIT = 2,
};

/* execsnoop_exec.flags */
enum execsnoop_exec_flags {
	EXECSNOOP_F_EXECVEAT = 1 << 0,		 /* execveat(2) rather than execve(2) */
	EXECSNOOP_F_ARGS_TRUNCATED = 1 << 1,	 /* more arguments existed, or one was cut */
	EXECSNOOP_F_FILENAME_TRUNCATED = 1 << 2, /* filename longer than EXECSNOOP_FILENAME_MAX */
	EXECSNOOP_F_ARGS_READ_FAILED = 1 << 3,	 /* argv memory could not be read: args partial */
	EXECSNOOP_F_FILENAME_READ_FAILED = 1 << 4,
	/* argv at entry was unreadable (pages not resident: BPF cannot fault them in), so after a
	 * successful exec it was read from the new image: NUL-separated, args_count 0, to be
	 * split and limited by user space. For a #! script this is the interpreter's argv. */
	EXECSNOOP_F_ARGS_FROM_IMAGE = 1 << 5,
	/* Likewise the filename: the copy the kernel put above the environment (AT_EXECFN). */
	EXECSNOOP_F_FILENAME_FROM_IMAGE = 1 << 6,
};

/* Per-CPU counters (a PERCPU_ARRAY indexed by this enum); summed by user space. */
enum execsnoop_stat {
	EXECSNOOP_STAT_OUTPUT_FAILED = 0, /* ring buffer full / perf output failed: event lost */
	EXECSNOOP_STAT_STASH_FAILED,	  /* no room to stash an exec in flight: event lost */
	EXECSNOOP_STAT_READ_FAILED,	  /* filename or argv read failed: event partial */
	EXECSNOOP_STAT_UNMATCHED, /* exec returned with nothing stashed (began before attach) */
	EXECSNOOP_STAT_NR,
};

/* An exec, successful or failed. Sent variable-length: the header up to data[] plus
 * filename_size + args_size bytes of data. */
struct execsnoop_exec {
	__u32 type;	 /* EXECSNOOP_RECORD_EXEC */
	__u32 flags;	 /* enum execsnoop_exec_flags */
	__u64 ts_ns;	 /* CLOCK_MONOTONIC at syscall entry */
	__u64 ret_ts_ns; /* CLOCK_MONOTONIC at syscall return */
	__u64 cgroup_id; /* cgroup v2 id (inode number of the cgroup directory) */
	__s32 pid;	 /* tgid after the exec */
	__s32 tid;	 /* thread that called exec */
	__s32 ppid;	 /* real parent's tgid */
	__u32 uid;
	__u32 gid;
	__s32 ret;	     /* 0 or -errno */
	__s32 dirfd;	     /* execveat's dirfd; 0 for execve */
	__u32 at_flags;	     /* execveat's flags */
	__u32 args_count;    /* arguments kept in data (the last may be cut, see flags) */
	__u32 filename_size; /* bytes of filename at data[0], NUL included */
	__u32 args_size;     /* bytes of arguments after it, each NUL-terminated */
	__u32 pad;
	/* pid and ppid in the process's own PID namespace (a container's getpid(), getppid());
	 * equal to pid and ppid in the host's. ns_ppid is 0 when the parent is outside it. */
	__s32 ns_pid;
	__s32 ns_ppid;
	char comm[AM_TASK_COMM_LEN]; /* after the exec; the caller's when it failed */
	char data[EXECSNOOP_DATA_MAX];
};

/* A process ended (its last thread exited). */
struct execsnoop_exit {
	__u32 type; /* EXECSNOOP_RECORD_EXIT */
	__u32 flags;
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u64 cgroup_id;
	__u64 lifetime_ns; /* since the process started (task start_time) */
	__s32 pid;
	__s32 tid; /* the last thread to exit */
	__s32 ppid;
	__u32 uid;
	__u32 gid;
	__s32 exit_code; /* wait(2) status: code << 8 | core dump 0x80 | signal */
	__s32 ns_pid;	 /* as in struct execsnoop_exec */
	__s32 ns_ppid;
	char comm[AM_TASK_COMM_LEN];
};

#endif
