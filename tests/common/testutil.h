/* Helpers shared by the test binaries: skips with reasons, temp dirs, files, clocks; spawn.h
 * (included) starts and waits for processes. */
#ifndef ANTIMETAL_TESTS_TESTUTIL_H
#define ANTIMETAL_TESTS_TESTUTIL_H

#include <criterion/criterion.h>
#include <stddef.h>

#include "spawn.h"
#include "util/strbuf.h"

/* Absolute path of the build tree the test binary belongs to (build/ or build/asan/). */
#define AM_TEST_BUILD_DIR AM_BUILD_DIR
/* Absolute path of the source tree. */
#define AM_TEST_SRC_DIR AM_SRC_DIR

/* Empty string when BPF programs can be loaded here, else the reason (not root, no bpf()). */
const char *am_test_bpf_unavailable(void);

/* Skip the calling test, with the reason, when BPF is not usable. */
#define AM_REQUIRE_BPF()                                                                           \
	do {                                                                                       \
		const char *am__why = am_test_bpf_unavailable();                                   \
		if (*am__why)                                                                      \
			cr_skip_test("skipped: %s", am__why);                                      \
	} while (0)

/* The line of TEXT that holds NEEDLE (asserted to be there): its start in *LINE, its length
 * without the newline returned. */
size_t am_test_line_with(const char *text, const char *needle, const char **line);
/* Assert that the LEN bytes at LINE hold WANT. */
void am_test_line_has(const char *line, size_t len, const char *want);

/* CLOCK_MONOTONIC in seconds, for test deadlines. */
double am_test_now_s(void);
/* CLOCK_MONOTONIC in milliseconds. */
long long am_test_now_ms(void);
/* Sleep MS milliseconds. */
void am_test_sleep_ms(int ms);
/* Descriptors this process has open (the entries of /proc/self/fd, its own reading one), or -1. */
int am_test_open_fds(void);

/* Create a fresh temporary directory under /tmp; returns a malloc'd path. */
char *am_test_mkdtemp(const char *tag);
/* Remove a directory tree created by am_test_mkdtemp. */
void am_test_rmtree(const char *path);

/* Write LEN bytes to PATH (creating parent directories). Returns 0 or -errno. */
int am_test_write_file(const char *path, const void *data, size_t len);
/* Read a whole file into B. Returns 0 or -errno. */
int am_test_read_file(const char *path, struct am_strbuf *b);

#endif
