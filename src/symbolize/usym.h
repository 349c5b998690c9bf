/* User-space symbols through libdw (elfutils): per-process mappings captured from
 * /proc/PID/maps while the process lives, ELF files (executables and shared libraries, PIE or
 * not, .symtab or .dynsym, separate debuginfo) opened once and cached by (device, inode), build-ids
 * recorded, JIT symbols from /tmp/perf-PID.map. */
#ifndef ANTIMETAL_SYMBOLIZE_USYM_H
#define ANTIMETAL_SYMBOLIZE_USYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct am_usym;

/* One executable mapping of a process. */
struct am_usym_map {
	uint64_t start, end, pgoff;
	const char *path;     /* as /proc/PID/maps shows it: "/usr/lib/...", "[vdso]", "" (anon) */
	const char *build_id; /* lowercase hex, "" when the file has none or could not be read */
	bool readable;	      /* the file's symbols could be loaded */
};

struct am_usym_result {
	const char *func;	       /* symbol name, or NULL when unknown */
	uint64_t offset;	       /* ADDR - symbol address when FUNC is set */
	const struct am_usym_map *map; /* the mapping holding ADDR, or NULL */
	bool jit;		       /* FUNC came from /tmp/perf-PID.map */
	const void *src_file;	       /* for am_usym_lines: the file and the address in it */
	uint64_t src_addr;
};

/* One source line at an address: in FUNC (an inlined function's name, NULL for the function
 * the address's symbol names), at FILE:LINE. */
struct am_usym_line {
	const char *func; /* linkage (mangled) name when DWARF has one, else the plain name */
	const char *file; /* as the line table names it; NULL when unknown */
	unsigned line;
};

/* A symbolizer reading processes under PROCFS (NULL: "/proc") and JIT maps under TMPDIR
 * (NULL: "/tmp"). Returns NULL on allocation failure. */
struct am_usym *am_usym_new(const char *procfs, const char *tmpdir);
/* Where separate debug files are looked for, in libdw's form: colon-separated directories, ""
 * for the binary's own directory, ".debug" relative to it, absolute ones searched for
 * .build-id/xx/yyyy.debug and for the .gnu_debuglink name (NULL: libdw's default
 * ":.debug:/usr/lib/debug"). am_usym_new takes $ANTIMETAL_DEBUGINFO_PATH. Applies to files
 * opened afterwards. Returns 0 or -ENOMEM. */
int am_usym_set_debuginfo_path(struct am_usym *u, const char *path);
/* Read the node's files under ROOTFS (paths.rootfs: "/host" in a container with the node's /
 * there; NULL, "" or "/": this process's own root): the plain-path fallback for mappings whose
 * /proc/PID/map_files and /proc/PID/root are gone or unreadable (processes that exited), JIT
 * maps in ROOTFS/tmp, and separate debug files in ROOTFS/usr/lib/debug (unless
 * $ANTIMETAL_DEBUGINFO_PATH says otherwise). Without it an agent in a container opens its
 * image's files of the same names instead of the node's, or none. Call before any capture.
 * Returns 0, -ENAMETOOLONG or -ENOMEM. */
int am_usym_set_rootfs(struct am_usym *u, const char *rootfs);
/* When $DEBUGINFOD_URLS is set (libdw then asks those servers for debug files it cannot find
 * locally), default $DEBUGINFOD_CACHE_PATH to CACHE_DIR (NULL: libdebuginfod's own
 * ~/.cache/debuginfod_client), $DEBUGINFOD_TIMEOUT to TIMEOUT_S and $DEBUGINFOD_RETRY_LIMIT to 0,
 * keeping values already set.
 * Call before any thread starts (it sets the environment). */
void am_usym_debuginfod_defaults(const char *cache_dir, int timeout_s);
/* The daemon's debuginfod cache, and the timeout both the daemon and the CLI use (libdebuginfod's
 * own is 90 s). */
#define AM_USYM_DEBUGINFOD_CACHE     "/var/cache/antimetal-agent/debuginfod"
#define AM_USYM_DEBUGINFOD_TIMEOUT_S 5
/* Release every snapshot and cached file. */
void am_usym_free(struct am_usym *u);

/* Capture PID's executable mappings as generation GEN (any value that changes when the process
 * execs, e.g. the address of its mm; 0 when unknown), opening (or reusing) each ELF file now so
 * the process may exit afterwards. A (pid, gen) already captured is left as it is; other
 * generations of the pid are kept, so samples from before an exec still resolve. Returns 0, or
 * -errno (-ESRCH when the process is gone, a zombie's empty maps included) without logging:
 * callers decide how loud that is. */
int am_usym_snapshot(struct am_usym *u, uint32_t pid, uint64_t gen);
/* A mapping known from a kernel record (perf's PERF_RECORD_MMAP2) instead of /proc: what a
 * process had mapped, possibly after it exited. */
struct am_usym_rec_map {
	uint64_t start, end, pgoff;
	const char *path;     /* as the kernel named it: "/usr/lib/...", "[vdso]", "" (anonymous) */
	const char *build_id; /* lowercase hex from the record, "" when it carried none */
	uint64_t ino;	      /* the inode that was mapped; 0 when unknown */
};

/* What am_usym_capture_maps found, added to the counts already there. */
struct am_usym_rec_stats {
	unsigned files;	     /* mappings whose file was found and is the one mapped */
	unsigned missing;    /* file gone or unreadable: frames stay unknown */
	unsigned mismatched; /* another file there now (build-id or inode differs): unknown */
};

/* Capture generation GEN of PID from MAPS (sorted by start, not overlapping) rather than from
 * /proc, for a process that is gone. A file is taken from the cache when one with the
 * record's build-id is open, else opened by its plain path (/proc/PID/root and map_files went
 * with the process) and kept only if it is the file that was mapped: the same build-id, or
 * without one the same inode. A missing or different file leaves the mapping's frames unknown
 * with its module name (and the record's build-id), never another file's symbols. When
 * (PID, GEN) was captured already (too early, before the loader mapped everything), only the
 * mappings it lacks are added: what /proc showed stays. ST may be NULL. Returns the number of
 * mappings added, or -ENOMEM. */
int am_usym_capture_maps(struct am_usym *u, uint32_t pid, uint64_t gen,
			 const struct am_usym_rec_map *maps, size_t n,
			 struct am_usym_rec_stats *st);
/* Whether generation GEN of PID was captured. */
bool am_usym_has_gen(const struct am_usym *u, uint32_t pid, uint64_t gen);

/* Drop every capture of PID (the pid may have been reused since). */
void am_usym_forget(struct am_usym *u, uint32_t pid);
/* Drop every capture of generation GEN, whatever the pid. */
void am_usym_forget_gen(struct am_usym *u, uint64_t gen);
/* Whether any generation of PID was captured. */
bool am_usym_has(const struct am_usym *u, uint32_t pid);
/* The generation am_profiler gives the capture it takes of live processes at the end. */
#define AM_USYM_GEN_FINAL UINT64_MAX

/* Symbolize ADDR in generation GEN of PID; when that capture lacks a mapping for ADDR (or does
 * not exist), in PID's other captures, newest first. RETURN_ADDR marks a caller frame's return
 * address, looked up at ADDR - 1 so a call that ends a function is charged to that function.
 * Returns 0, or -ENOENT when PID was never captured (OUT is then unknown). */
int am_usym_resolve(struct am_usym *u, uint32_t pid, uint64_t gen, uint64_t addr, bool return_addr,
		    struct am_usym_result *out);
struct Dwfl_Module;
/* Where an address lies, for the unwinder (unwind.h): its mapping and the libdw module of the
 * mapped file, which every process mapping that file shares (its CFI is read once). */
struct am_usym_loc {
	const struct am_usym_map *map;
	struct Dwfl_Module *mod; /* NULL when the file could not be read (or anonymous memory) */
	uint64_t mod_addr;	 /* the address in MOD's address space; valid with MOD */
	void *file;		 /* for am_usym_dwarf_cfi */
};
/* Locate ADDR in generation GEN of PID, looked up as am_usym_resolve does (other captures of the
 * pid when that one lacks it). Returns 0, or -ENOENT when no captured mapping holds ADDR. */
int am_usym_locate(struct am_usym *u, uint32_t pid, uint64_t gen, uint64_t addr,
		   struct am_usym_loc *out);

struct Dwarf_CFI_s;
/* The .debug_frame CFI of LOC's module (dwfl_module_dwarf_cfi), with its bias; NULL when it
 * has none. It loads the file's DWARF (the separate debug file's too), which the cache charges
 * and releases at the next am_usym_trim. */
struct Dwarf_CFI_s *am_usym_dwarf_cfi(struct am_usym *u, const struct am_usym_loc *loc,
				      uint64_t *bias);
/* Give back the pages of .eh_frame and .eh_frame_hdr that CFI lookups mapped in since the last
 * call, in the files located since (util/pagedrop.h; cheap: those sections only). Returns the
 * bytes. */
size_t am_usym_drop_pages(struct am_usym *u);

/* The source lines of the address R was resolved for, from the file's DWARF (its own or a
 * separate debug file's): the innermost inlined function first, each next one the function it
 * was inlined into at the FILE:LINE given, the last the symbol's own function (FUNC NULL): the
 * order of pprof's Location.line. Up to MAX entries; returns the count, 0 without line info.
 * Strings live as long as the file's module (see am_usym_set_budget). */
size_t am_usym_lines(const struct am_usym_result *r, struct am_usym_line *out, size_t max);
/* Every frame of SRC_FILE (a result's) had its lines read: with the budget spent, its module is
 * released now, its DWARF and line tables with it, so reading the lines file by file holds
 * one file's DWARF past the budget at most, not every file's until am_usym_trim. */
void am_usym_lines_done(struct am_usym *u, const void *src_file);
/* Number of distinct ELF files opened so far (the cache's size). */
unsigned am_usym_files_opened(const struct am_usym *u);

/* The file cache's bound. Each file's libdw module is charged what keeping it costs on the
 * heap: its headers, our sorted table of its function symbols, and its compressed DWARF
 * sections, which libdw decompresses whole, once its source lines were read. The files
 * themselves are mapped (libelf): the pages read while building the symbol table are given
 * back at once, those the unwinder's CFI lookups and line lookups read during an epoch at
 * am_usym_trim (util/pagedrop.h), so what stays mapped is bounded by one epoch's lookups. When
 * the total passes the budget, the least recently used modules are released (the file's
 * identity stays) and reopened on their next use through a process mapping them
 * (/proc/PID/map_files, its root, the plain path), kept only if still the same inode and
 * build-id. */
struct am_usym_cache_stats {
	size_t bytes;	    /* charged now, by the loaded modules */
	size_t budget;	    /* 0: no bound */
	size_t peak_bytes;  /* the most charged at once */
	unsigned files;	    /* files known (loaded or released) */
	unsigned loaded;    /* of them, with their module loaded */
	uint64_t evictions; /* modules released to stay within the budget */
	uint64_t reloads;   /* released modules opened again */
	uint64_t
	    reload_failures;	/* ... that could not be (file gone or replaced): unknown frames */
	uint64_t files_dropped; /* files no kept capture maps any more, dropped by am_usym_trim */
	uint64_t procs_dropped; /* captures unused for a whole epoch, dropped by am_usym_trim */
	uint64_t pages_dropped; /* bytes of mapped ELF pages given back by am_usym_trim */
	uint64_t lines_skipped; /* am_usym_lines calls answered without lines: the budget was
				   spent (the frame keeps its symbol, not its file:line) */
};
/* Bound the modules kept to BYTES (0: none, the default). Strings and modules a result or a
 * location points into stay valid until the next call that may load a file (snapshot, capture,
 * resolve, locate, lines) or am_usym_trim. */
void am_usym_set_budget(struct am_usym *u, size_t bytes);
/* End of an epoch (the daemon's profile window): drop the captures not used since the last
 * trim (processes that exited or were not sampled: a live one is captured again from /proc
 * when it is sampled), then the files no remaining capture maps, and release modules down to
 * the budget. */
void am_usym_trim(struct am_usym *u);
void am_usym_cache_stats(const struct am_usym *u, struct am_usym_cache_stats *out);

#endif
