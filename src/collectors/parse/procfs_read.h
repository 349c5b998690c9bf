/* Reading small pseudo-files (procfs, sysfs, cgroupfs) under a configurable root, the way
 * node_exporter's --path.procfs works, so every collector also reads fixture trees. */
#ifndef ANTIMETAL_COLLECTORS_PROCFS_READ_H
#define ANTIMETAL_COLLECTORS_PROCFS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

/* Largest file read whole; pseudo-files report size 0, so the limit guards against a runaway
 * (or hostile fixture) file. */
#define AM_PROCFS_MAX_FILE (16u << 20)

/* A collector's private copy of its roots (the caller's strings may be freed on reload). */
struct am_roots_buf {
	char procfs[512];
	char sysfs[512];
	char devfs[512];
	char textfile[512];		 /* "" = none */
	uint64_t (*clock_ns)(void *ctx); /* the roots' clock, NULL for CLOCK_MONOTONIC */
	void *clock_ctx;
};

struct am_collect_roots;
/* Copy SRC (NULL fields, or a NULL SRC, mean /proc, /sys, /dev and CLOCK_MONOTONIC) into DST. */
void am_roots_store(struct am_roots_buf *dst, const struct am_collect_roots *src);
/* Now in nanoseconds on R's clock: the time base of a collector's rates. */
uint64_t am_roots_now_ns(const struct am_roots_buf *r);

/* Build ROOT/REL into PATH (PATHLEN bytes). Returns 0 or -ENAMETOOLONG. */
int am_procfs_path(char *path, size_t pathlen, const char *root, const char *rel);
/* Open ROOT/REL with am_file_open_regular (read-only, regular files only). Returns the fd or
 * -errno. */
int am_procfs_open(const char *root, const char *rel);
/* Replace BUF's content with the whole file ROOT/REL (NUL-terminated). Returns 0 or -errno;
 * logs nothing: the caller knows whether absence is normal. */
int am_procfs_read(const char *root, const char *rel, struct am_strbuf *buf);
/* Like am_procfs_read, but on failure logs "WHO: cannot read PATH: reason" once per *WARNED
 * flag (set after logging; cleared again by a later success). */
int am_procfs_read_logged(const char *root, const char *rel, struct am_strbuf *buf, const char *who,
			  bool *warned);
/* Read a per-network-namespace file ("dev", "snmp") from ROOT/1/net/, falling back to
 * ROOT/self/net/: PID 1's view is the host's when a host /proc is mounted into a container.
 * Logs like am_procfs_read_logged. */
int am_procfs_read_net(const char *root, const char *name, struct am_strbuf *buf, const char *who,
		       bool *warned);
/* Read a one-line sysfs attribute into OUT (trailing whitespace stripped). Returns 0 or
 * -errno. */
int am_procfs_read_line(const char *root, const char *rel, char *out, size_t outlen);
/* Read a file holding one unsigned decimal (entropy_avail, nf_conntrack_max) into *V. Returns 0,
 * -errno, or -EINVAL when the content is not one number. */
int am_procfs_read_u64(const char *root, const char *rel, uint64_t *v);

#endif
