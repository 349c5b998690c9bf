/* Reading files whole or by their first line. Nothing is logged: the caller knows whether a
 * missing file is normal. */
#ifndef ANTIMETAL_UTIL_FILE_H
#define ANTIMETAL_UTIL_FILE_H

#include <stddef.h>

#include "util/strbuf.h"

/* Replace BUF's content with the whole file PATH (NUL-terminated). Reads until EOF, since
 * pseudo-files report size 0; -EFBIG past MAX bytes. Returns 0 or -errno. */
int am_file_read(const char *path, size_t max, struct am_strbuf *buf);
/* fgets(3) the first line of PATH (newline kept) into BUF. Returns 0, -errno when it cannot
 * be opened, or -EIO when it has no line. */
int am_file_first_line(const char *path, char *buf, size_t len);

#endif
