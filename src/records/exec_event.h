/* The user-side exec/exit record the execsnoop collector delivers and exporters render. It
 * points into the collector's buffers: valid only during the callback; copy what you keep. */
#ifndef ANTIMETAL_COLLECTORS_EXEC_EVENT_H
#define ANTIMETAL_COLLECTORS_EXEC_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum am_exec_kind { AM_EXEC_EVENT = 1, AM_EXIT_EVENT = 2 };

/* One argument: exact bytes, no terminator counted (may contain any byte except NUL). */
struct am_exec_arg {
	const char *data;
	size_t len;
};

struct am_exec_record {
	enum am_exec_kind kind;
	uint64_t ts_mono_ns;  /* exec: syscall entry; exit: when the last thread exited */
	uint64_t ret_mono_ns; /* exec: syscall return */
	uint64_t ts_real_ns;  /* ts_mono_ns as wall-clock time (CLOCK_REALTIME) */
	int32_t pid, tid, ppid;
	/* pid and ppid inside the process's own PID namespace (a container's view); equal to
	 * pid and ppid on the host, ns_ppid 0 when the parent is outside the namespace, both 0
	 * when the kernel could not tell. Exporters show them when ns_pid differs from pid. */
	int32_t ns_pid, ns_ppid;
	uint32_t uid, gid;
	uint64_t cgroup_id;
	const char
	    *cgroup_path; /* relative to the cgroup2 mount ("/system.slice/x.scope"), or NULL */
	const char *container_id;      /* NULL when not in a recognised container */
	const char *container_runtime; /* "docker", "containerd", "cri-o", "podman", ... */
	char comm[17];		       /* after the exec; NUL-terminated */

	/* AM_EXEC_EVENT */
	int32_t ret; /* 0 or -errno */
	bool execveat;
	int32_t dirfd;	   /* execveat only */
	uint32_t at_flags; /* execveat only */
	struct am_exec_arg filename;
	size_t argc; /* arguments kept */
	const struct am_exec_arg *argv;
	bool args_truncated; /* more arguments existed, or the last one was cut */
	bool filename_truncated;
	bool read_failed;	  /* the kernel could not read part of filename/argv */
	bool args_from_image;	  /* argv unreadable at entry, read from the new image instead
				     (for a #! script: the interpreter's argv) */
	bool filename_from_image; /* likewise the filename (the kernel's AT_EXECFN copy) */

	/* AM_EXIT_EVENT */
	int exit_code;	 /* exit(2) status when !exit_signal */
	int exit_signal; /* terminating signal, 0 when it exited */
	bool core_dumped;
	uint64_t lifetime_ns;
};

/* The execsnoop collector's counters, as its stats records report them. */
struct am_execsnoop_stats {
	uint64_t execs;		  /* exec records delivered */
	uint64_t exits;		  /* exit records delivered */
	uint64_t output_failures; /* kernel: ring buffer reservation / perf output failed */
	uint64_t stash_failures;  /* kernel: no room to stash an exec in flight */
	uint64_t lost_samples;	  /* perf buffer: samples the kernel overwrote */
	uint64_t read_failures;	  /* kernel: filename/argv unreadable (record partial) */
	uint64_t unmatched;	  /* exec returns with no entry (began before attach) */
	uint64_t malformed;	  /* records user space could not parse */
	uint64_t drops;		  /* records lost: stash_failures + malformed + output_failures
				     (perf buffer: the larger of output_failures and
				     lost_samples, which count the same overruns) */
};

/* "ENOENT" for 2, NULL for an errno this table does not name. */
const char *am_errno_name(int err);

#endif
