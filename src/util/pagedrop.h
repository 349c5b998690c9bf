/* Giving back the page-cache pages a private file mapping holds, without changing what it
 * reads: libelf maps whole ELF files (copy-on-write), and every page read stays in the
 * process's RSS until unmapped, though it is the file's clean page cache. */
#ifndef ANTIMETAL_UTIL_PAGEDROP_H
#define ANTIMETAL_UTIL_PAGEDROP_H

#include <stddef.h>

/* Unmap from this process the pages of [ADDR, ADDR + LEN) that are present and still the
 * file's own (not copied on write: /proc/self/pagemap says which), with MADV_DONTNEED: a later
 * read maps the same bytes in again from the page cache. Pages written to, anonymous memory
 * and pages not present are left alone, so any range is safe to pass. Returns the bytes given
 * back (0 when pagemap cannot be read). */
size_t am_drop_clean_file_pages(const void *addr, size_t len);

#endif
