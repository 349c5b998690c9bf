/* Reading files whole or by their first line, and opening files that must not block. Nothing is
 * logged: the caller knows whether a missing file is normal.
 *
 * Every path here may be controlled by a user or the host (a --procfs tree, a config file, a
 * BPF object directory, /tmp/perf-PID.map), so every open is O_NONBLOCK: a FIFO planted where a
 * file is expected must not stop the agent's one loop. Where a regular file is expected, anything
 * else is refused with AM_ENOTREG (procfs and sysfs files are regular files too). */
#ifndef ANTIMETAL_UTIL_FILE_H
#define ANTIMETAL_UTIL_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "util/strbuf.h"

/* Errno-style code (past the kernel's range) for "not a regular file": a FIFO, a socket or a
 * device where a file was expected. Print it with am_file_strerror. */
#define AM_ENOTREG 4300

/* strerror(ERR) that also names AM_ENOTREG. */
const char *am_file_strerror(int err);

/* open(2) PATH read-only, non-blocking and close-on-exec, and refuse anything but a regular
 * file: -EISDIR for a directory, -AM_ENOTREG for a FIFO, socket or device. Returns the fd or
 * -errno. */
int am_file_open_regular(const char *path);
/* The same relative to directory DFD (openat(2)). */
int am_file_openat_regular(int dfd, const char *rel);
/* fopen(PATH, "re") through am_file_open_regular; NULL with errno set (AM_ENOTREG too). */
FILE *am_file_fopen_regular(const char *path);

/* Replace BUF's content with the whole regular file PATH (NUL-terminated). Reads until EOF,
 * since pseudo-files report size 0; -EFBIG past MAX bytes. Returns 0 or -errno. */
int am_file_read(const char *path, size_t max, struct am_strbuf *buf);
/* am_file_read, also accepting a character device: a configuration may be /dev/null, and a
 * non-blocking read of a terminal fails (EAGAIN) rather than waits. */
int am_file_read_or_chr(const char *path, size_t max, struct am_strbuf *buf);
/* fgets(3) the first line of the regular file PATH (newline kept) into BUF. Returns 0, -errno
 * when it cannot be opened, or -EIO when it has no line. */
int am_file_first_line(const char *path, char *buf, size_t len);

#endif
