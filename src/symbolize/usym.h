/* User-space symbols through libdw (elfutils): per-process mappings captured from
 * /proc/PID/maps while the process lives, ELF files (executables and shared libraries, PIE or
 * not, .symtab or .dynsym, separate debuginfo) opened once and cached by (device, inode), build-ids
 * recorded, JIT symbols from /tmp/perf-PID.map. */
#ifndef ANTIMETAL_SYMBOLIZE_USYM_H
#define ANTIMETAL_SYMBOLIZE_USYM_H

#include <stdbool.h>
#include <stdint.h>

struct am_usym;

/* One executable mapping of a process. */
struct am_usym_map {
	uint64_t start, end, pgoff;
	const char *path;     /* as /proc/PID/maps shows it: "/usr/lib/...", "[vdso]", "" (anon) */
	const char *build_id; /* lowercase hex, "" when the file has none or could not be read */
	bool readable;        /* the file's symbols could be loaded */
};

struct am_usym_result {
	const char *func;            /* symbol name, or NULL when unknown */
	uint64_t offset;             /* ADDR - symbol address when FUNC is set */
	const struct am_usym_map *map; /* the mapping holding ADDR, or NULL */
	bool jit;                    /* FUNC came from /tmp/perf-PID.map */
};

/* A symbolizer reading processes under PROCFS (NULL: "/proc") and JIT maps under TMPDIR
 * (NULL: "/tmp"). Returns NULL on allocation failure. */
struct am_usym *am_usym_new(const char *procfs, const char *tmpdir);
/* Release every snapshot and cached file. */
void am_usym_free(struct am_usym *u);

/* Capture PID's executable mappings, opening (or reusing) each ELF file now so the process
 * may exit afterwards. A pid already captured is left as it is. Returns 0, or -errno (-ESRCH
 * when the process is gone) without logging: callers decide how loud that is. */
int am_usym_snapshot(struct am_usym *u, uint32_t pid);
/* Capture PID again, replacing an earlier capture (the process called exec). Returns as
 * am_usym_snapshot; on failure the earlier capture is kept. */
int am_usym_refresh(struct am_usym *u, uint32_t pid);
/* Whether PID was captured. */
bool am_usym_has(const struct am_usym *u, uint32_t pid);
/* Symbolize ADDR in PID. RETURN_ADDR marks a caller frame's return address, looked up at
 * ADDR - 1 so a call that ends a function is charged to that function. Returns 0, or -ENOENT
 * when PID was never captured (OUT is then unknown). */
int am_usym_resolve(struct am_usym *u, uint32_t pid, uint64_t addr, bool return_addr,
		    struct am_usym_result *out);
/* Number of distinct ELF files opened so far (the cache's size). */
unsigned am_usym_files_opened(const struct am_usym *u);

#endif
