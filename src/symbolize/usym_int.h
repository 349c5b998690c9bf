/* Internal to src/symbolize: the symbolizer's tables (usym.c) and its file cache's bound
 * (usym_cache.c). */
#ifndef ANTIMETAL_SYMBOLIZE_USYM_INT_H
#define ANTIMETAL_SYMBOLIZE_USYM_INT_H

#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize/usym.h"

/* A function symbol, in the module's address space. */
struct fsym {
	GElf_Addr addr, size;
	const char *name; /* into libdw's string table, valid while the Dwfl lives */
	bool global;
};

/* One ELF file, opened once for every process that maps it. Within a byte budget its libdw
 * module (symbols, CFI, DWARF) may be released and the file reopened on its next use: the
 * identity (device, inode, build-id) stays, so the processes that map it keep pointing here. */
struct ufile {
	struct am_usym *u;
	struct fsym *syms; /* sorted by address; built on first lookup (libdw's own lookup is a
			      linear scan per address) */
	size_t nsyms;
	bool syms_built;
	uint64_t dev, ino;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	GElf_Addr bias;
	GElf_Phdr *loads; /* PT_LOAD headers: file offset -> ELF virtual address */
	size_t nloads;
	char build_id[41];
	/* The cache's accounting (see struct am_usym_cache_stats). */
	size_t cost;		   /* bytes charged while the module is loaded */
	uint64_t used;		   /* the cache's clock at its last use */
	bool evicted;		   /* module released: reopened on the next use */
	bool lines_charged;	   /* its DWARF was read (lines, .debug_frame) and charged */
	bool no_dwarf_cfi;	   /* its DWARF has no .debug_frame (kept across releases) */
	bool dwarf_need_known;	   /* DWARF_NEED found (kept across releases) */
	size_t dwarf_need;	   /* what reading its DWARF puts on the heap */
	bool cfi_used;		   /* located for the unwinder since the last am_usym_drop_pages */
	uint64_t cfi_off, cfi_end; /* where .eh_frame and .eh_frame_hdr lie in the file */
	bool referenced;	   /* am_usym_trim's mark */
	/* The ELF images libdw read symbols and DWARF from (the file, its debug file, its
	 * MiniDebugInfo), whose mapped pages are given back after use (util/pagedrop.h). */
	Elf *images[3];
	/* Compilation units whose line tables were read, charged once each (sorted). */
	uint64_t *cus;
	size_t ncus, capcus;
};

struct jitsym {
	uint64_t start, end;
	char *name;
};

struct uproc {
	uint32_t pid;
	uint64_t gen;
	uint64_t epoch; /* the cache's epoch at its last use: am_usym_trim drops older ones */
	struct am_usym_map *maps; /* sorted by start */
	struct ufile **files;	  /* parallel to maps; NULL for anonymous/special mappings */
	char (*bids)[41];	  /* parallel to maps when captured from records: the record's
				     build-id, which MAPS point at (the file may not be there) */
	size_t nmaps;
	struct jitsym *jit; /* sorted by start */
	size_t njit;
};

struct am_usym {
	char procfs[256], tmpdir[256];
	char rootfs[256];     /* prefix of files' plain paths: "" for this process's root */
	char *debuginfo_path; /* libdw's form: "dir:dir...", NULL for its default */
	Dwfl_Callbacks cb;    /* every file's Dwfl points here */
	struct ufile **files;
	size_t nfiles;
	struct uproc *procs;
	size_t nprocs;
	size_t last_locate; /* index of the capture am_usym_locate found last: an unwinder asks
			       for one process's frames in a row */
	size_t budget;	    /* bytes of loaded modules kept; 0: no bound */
	uint64_t clock;	    /* ticks at every use of a file: least recently used goes first */
	uint64_t epoch;	    /* am_usym_trim calls so far */
	struct am_usym_cache_stats cs;
};

/* Release F's module (symbols, CFI, DWARF, the mapped file), keeping its identity. */
void am_ufile_release(struct ufile *f);
/* Release F and free it. */
void am_ufile_free(struct ufile *f);
/* Free what capture P holds (not P itself). */
void am_uproc_free(struct uproc *p);
/* Report the ELF at OPEN_PATH (already open as FD, consumed) into F's private Dwfl, and charge
 * its base cost. Returns 0 or -errno; on error F has no module. */
int am_ufile_load(struct am_usym *u, struct ufile *f, const char *name, const char *open_path,
		  int fd);

/* usym_cache.c */
/* F was used now (least recently used goes first). */
void am_ucache_touch(struct am_usym *u, struct ufile *f);
/* Charge BYTES more to F's module, then release others (never F) down to the budget. */
void am_ucache_charge(struct am_usym *u, struct ufile *f, size_t bytes);
/* The same without releasing any: DWARF read for source lines, which is only read while the
 * charge is under the budget (am_ucache_full) and so passes it by one unit's tables at most. */
void am_ucache_charge_soft(struct am_usym *u, struct ufile *f, size_t bytes);
/* Whether the charge has reached the budget. */
bool am_ucache_full(const struct am_usym *u);
/* Whether F's DWARF is read already or fits in what is left of the budget: a debug file's
 * compressed sections are decompressed whole (11 MiB for libc's), and none is read past that
 * (its size is found once from the section headers, before libdw reads anything). */
bool am_ucache_dwarf_fits(struct ufile *f);
/* The lines of F's frames are all read: with the budget spent, F's module (its DWARF, its line
 * tables) is released now, not at am_usym_trim. */
void am_ucache_lines_done(struct am_usym *u, struct ufile *f);
/* Whether unit CU's line table was charged to F. */
bool am_ucache_cu_charged(const struct ufile *f, Dwarf_Die *cu);
/* Whether mapping K of capture P has its file's module loaded, reopening a released one. */
bool am_ucache_ensure(struct am_usym *u, const struct uproc *p, size_t k);
/* Reopen released F from FD (consumed), opened at PATH; false when it is not the same file
 * (the caller counts the failure). */
bool am_ucache_reload_fd(struct am_usym *u, struct ufile *f, const char *name, const char *path,
			 int fd);
/* What reading F's DWARF put on the heap (compressed sections, decompressed whole), charged
 * when its lines are first read; records the DWARF's image. */
size_t am_ucache_dwarf_bytes(struct ufile *f);
/* Charge the line table of compilation unit CU of F, unless charged already. */
void am_ucache_charge_cu(struct am_usym *u, struct ufile *f, Dwarf_Die *cu);
/* Remember IMAGE as one of F's (once). */
void am_ucache_add_image(struct ufile *f, Elf *image);
/* Give back the mapped pages of F's images (see util/pagedrop.h); returns the bytes. */
size_t am_ucache_drop_pages(struct ufile *f);

#endif
