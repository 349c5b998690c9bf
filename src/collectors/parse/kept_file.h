/* Pseudo-files kept open between cycles. procfs, sysfs and cgroupfs regenerate a file's text on
 * every read from offset 0, so a descriptor kept from one cycle to the next is re-read with one
 * pread(2): no path lookup, no open (the kernel's allocation of a file and its seq_file) and no
 * close. What it costs: each kept descriptor holds the seq_file's page (about 4 KiB of kernel
 * memory, charged to the agent's cgroup), so every user keeps a bounded number. A descriptor
 * whose file went away (a removed cgroup or interface, an exited process) fails its read; the
 * caller opens the file again by name. */
#ifndef ANTIMETAL_COLLECTORS_KEPT_FILE_H
#define ANTIMETAL_COLLECTORS_KEPT_FILE_H

#include <stdbool.h>

#include "util/strbuf.h"

/* Whether FD (a file or a directory) is on procfs, sysfs or cgroupfs, whose files are worth
 * keeping open; false for a fixture tree, whose files a test may replace between cycles. */
bool am_kept_pseudo_fs(int fd);

/* The whole file open as FD, read from offset 0 into B (NUL-terminated); a FIFO (a planted
 * fixture) reads what it has, without waiting. TO_EOF: read until a read returns 0, as a file
 * of many records needs (a seq_file hands out at most its buffer, a page, per read). Otherwise
 * a read shorter than asked ends it, saving a read: right for files whose text is one record
 * (cgroupfs and sysfs attributes, which the kernel formats whole) and for regular files.
 * Returns 0 or -errno (-EFBIG past AM_PROCFS_MAX_FILE). */
int am_kept_pread(int fd, bool to_eof, struct am_strbuf *b);

/* Whether a read error ERR of a kept descriptor means its file is gone (open it again by name)
 * rather than a refusal the file gives every time (EINVAL from an interface that is down). */
bool am_kept_gone(int err);

/* Read file NAME (one record, see am_kept_pread) under directory DIR into B through *FD: a kept
 * descriptor (*FD >= 0) is re-read, and opened again by name once when its file is gone;
 * otherwise NAME is opened, read, and kept in *FD when KEEP (else closed; kept also when the read
 * failed with EINVAL, EOPNOTSUPP or ENODATA, errors of the moment). Returns 0 or -errno. */
int am_kept_read(int *fd, int dir, const char *name, bool keep, struct am_strbuf *b);

/* A collector's few fixed files under its roots (/proc/meminfo, /proc/1/net/snmp), kept open by
 * relative path. */
#define AM_KEPT_PATHS_MAX 16
struct am_kept_paths {
	struct {
		char rel[48];
		int fd;
	} v[AM_KEPT_PATHS_MAX];
	int n;
};

/* am_procfs_read through SET (read to the end, see am_kept_pread): ROOT/REL re-read from its kept
 * descriptor, else opened (a regular file only: -AM_ENOTREG for a FIFO or device) and kept when it
 * is on procfs, sysfs or cgroupfs and SET has room (a REL of 48 bytes or more is never kept).
 * Returns 0 or -errno. */
int am_kept_paths_read(struct am_kept_paths *set, const char *root, const char *rel,
		       struct am_strbuf *buf);
/* am_procfs_read_logged through SET. */
int am_kept_paths_read_logged(struct am_kept_paths *set, const char *root, const char *rel,
			      struct am_strbuf *buf, const char *who, bool *warned);
/* am_procfs_read_net through SET: ROOT/1/net/NAME, else ROOT/self/net/NAME. */
int am_kept_paths_read_net(struct am_kept_paths *set, const char *root, const char *name,
			   struct am_strbuf *buf, const char *who, bool *warned);
/* Close what SET keeps. */
void am_kept_paths_close(struct am_kept_paths *set);

#endif
