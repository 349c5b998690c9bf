/* Writing an output file where other users may have planted links: the agent often runs as
 * root and writes into shared directories (/tmp, a profile directory), so an output is never
 * written through a symbolic link to a regular file, never created through one, and never left
 * half-written. */
#ifndef ANTIMETAL_UTIL_OUTPUT_FILE_H
#define ANTIMETAL_UTIL_OUTPUT_FILE_H

#include <stddef.h>

/* Errno-style code for "PATH is a symbolic link" (to a regular file or to nothing, or where a
 * directory is expected): writing
 * through it could overwrite or create a file of another user's choosing. Print it with
 * am_output_strerror. */
#define AM_ELINKED 4301

/* strerror(ERR) that also names AM_ELINKED (and util/file.h's AM_ENOTREG). */
const char *am_output_strerror(int err);

/* Replace PATH with DATA whole: written to a temporary file of unpredictable name (mkstemp) in
 * PATH's directory, then renamed over PATH, so a reader sees the old file or the new one. A
 * device, FIFO or socket at PATH (/dev/null, or /dev/stdout's pipe through its link) is written
 * in place instead, without creating anything. Refused: a directory (-EISDIR) and a symbolic
 * link whose target is a regular file or missing (-AM_ELINKED). On a failed or short write
 * (ENOSPC) the temporary file is removed and PATH is untouched. Returns 0 or -errno; nothing
 * is logged. */
int am_output_replace(const char *path, const void *data, size_t len);

/* Whether am_output_replace(PATH) can succeed, checked before the work that produces the data:
 * PATH is not refused as above and a temporary file can be made beside it (which is removed
 * again), or, for a device, it is writable. Returns 0 or -errno; nothing is created. */
int am_output_check(const char *path);

/* Whether DIR is a directory outputs may be written into: 0, -AM_ELINKED when it is a symbolic
 * link (its files would land wherever the link points), -ENOTDIR, or -errno from lstat. */
int am_output_dir_check(const char *dir);

#endif
