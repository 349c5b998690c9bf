/* Starting, waiting for and reaping the processes a test runs (the agent, workloads, servers).
 * Every wait here is on the event itself (exec done, exit, text written), never a fixed sleep. */
#ifndef ANTIMETAL_TESTS_SPAWN_H
#define ANTIMETAL_TESTS_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/strbuf.h"

/* Run ARGV (argv[0] a path) to completion, capturing stdout and stderr (either may be NULL).
 * stdin is /dev/null. Returns the wait status, or -1. */
int am_test_run(char *const argv[], struct am_strbuf *out, struct am_strbuf *err);

struct am_test_spawn_opts {
	const char *out;    /* stdout file (created); NULL: the test's own */
	const char *err;    /* stderr file; may equal OUT; NULL: the test's own */
	uid_t uid;	    /* run as this user (groups dropped) when not 0 */
	const char *cgroup; /* join this cgroup directory before the exec, so that every page and
			       cycle of the program is charged there; NULL: the test's */
};

/* Start ARGV in the background as O says; returns once the child has exec'd ARGV (so its
 * /proc/PID/exe and maps are the new program's), or -1 when fork or exec failed. The child is
 * killed if the test process dies. */
pid_t am_test_spawn_opts(char *const argv[], const struct am_test_spawn_opts *o);

/* am_test_spawn_opts with stdout and stderr to DIR/out.txt and DIR/err.txt. */
pid_t am_test_spawn(char *const argv[], const char *dir);

/* am_test_spawn_opts with stdout and stderr to DIR/NAME.log, asserting it started: for the
 * servers a test runs (the agent, Prometheus, node_exporter), whose log explains a failure. */
pid_t am_test_spawn_log(char *const argv[], const char *dir, const char *name);

/* The text of DIR/NAME.log (as am_test_spawn_log writes it) in B; "" when there is none. */
const char *am_test_log_of(const char *dir, const char *name, struct am_strbuf *b);

/* Assert that the server started as NAME by am_test_spawn_log(.., DIR, NAME) answers 200 on
 * 127.0.0.1:PORT/PATH within TIMEOUT_MS; the failure shows its log. */
void am_test_wait_server(int port, const char *path, int timeout_ms, const char *dir,
			 const char *name);

/* Fork and exec ARGV with stdout to /dev/null, asserting it started; returns after the exec. */
pid_t am_test_start_quiet(char *const argv[]);

/* Wait up to TIMEOUT_MS for PID to exit and reap it; *STATUS gets the wait status. Returns 0,
 * or -ETIMEDOUT with PID still running. */
int am_test_wait_exit(pid_t pid, int timeout_ms, int *status);

/* Block until child PID has exited, leaving it a zombie (not reaped): waitid(WNOWAIT). */
void am_test_wait_zombie(pid_t pid);

/* SIGKILL PID and reap it; a PID <= 0 is ignored. */
void am_test_reap(pid_t pid);

/* am_test_reap each of the N PIDS, then set it to -1. */
void am_test_reap_all(pid_t *pids, int n);

/* Wait up to TIMEOUT_MS for file PATH to contain NEEDLE. Gives up early, returning false,
 * when ALIVE (a child, if > 0) exits: it will write nothing more. */
bool am_test_wait_file_text(const char *path, const char *needle, int timeout_ms, pid_t alive);

#endif
