/* The symbolizer's file cache within a byte budget: what each file's libdw module costs is
 * charged as it is used (usym.c calls in), the least recently used modules are released when
 * the total passes the budget, and a released file is reopened through a process that maps
 * it on its next use. am_usym_trim ends an epoch (the daemon's profile window): captures not
 * used during it and the files only they mapped are dropped. */
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolize/usym_int.h"
#include "util/file.h"
#include "util/log.h"
#include "util/pagedrop.h"
#include "util/sorted.h"

void am_ucache_touch(struct am_usym *u, struct ufile *f)
{
	f->used = ++u->clock;
}

static void evict(struct am_usym *u, struct ufile *f)
{
	u->cs.bytes -= f->cost;
	f->cost = 0;
	am_ufile_release(f);
	f->evicted = true;
}

/* Release the least recently used modules, never KEEP, until the charge is within the budget:
 * first those holding DWARF (line tables, .debug_frame), which am_usym_trim releases anyway,
 * then the others. A module alone over the budget stays until the next one is loaded. */
static void enforce(struct am_usym *u, const struct ufile *keep)
{
	while (u->budget && u->cs.bytes > u->budget) {
		struct ufile *lru = NULL;
		size_t i;

		for (i = 0; i < u->nfiles; i++) {
			struct ufile *f = u->files[i];

			if (f == keep || !f->cost)
				continue;
			if (!lru || (f->lines_charged && !lru->lines_charged) ||
			    (f->lines_charged == lru->lines_charged && f->used < lru->used))
				lru = f;
		}
		if (!lru)
			return;
		evict(u, lru);
		u->cs.evictions++;
	}
}

void am_ucache_charge(struct am_usym *u, struct ufile *f, size_t bytes)
{
	f->cost += bytes;
	u->cs.bytes += bytes;
	enforce(u, f);
	if (u->cs.bytes > u->cs.peak_bytes)
		u->cs.peak_bytes = u->cs.bytes;
}

bool am_ucache_reload_fd(struct am_usym *u, struct ufile *f, const char *name, const char *path,
			 int fd)
{
	char build_id[sizeof(f->build_id)];
	struct stat st;

	/* A file with a build-id is the same contents wherever it is found (the same library in
	 * another image layer, or shared with a gone process's record by build-id): the build-id
	 * compared after loading decides. Without one, the inode must match (not the device:
	 * stat's and /proc/PID/maps' device numbers differ on btrfs and overlayfs). */
	if (fstat(fd, &st) || (!f->build_id[0] && (uint64_t)st.st_ino != f->ino)) {
		close(fd);
		return false;
	}
	memcpy(build_id, f->build_id, sizeof(build_id));
	am_ucache_touch(u, f);
	f->evicted = false;
	if (am_ufile_load(u, f, name, path, fd) || strcmp(build_id, f->build_id)) {
		u->cs.bytes -= f->cost;
		f->cost = 0;
		am_ufile_release(f);
		memcpy(f->build_id, build_id, sizeof(build_id));
		f->evicted = true;
		return false;
	}
	u->cs.reloads++;
	return true;
}

bool am_ucache_ensure(struct am_usym *u, const struct uproc *p, size_t k)
{
	const struct am_usym_map *m = &p->maps[k];
	struct ufile *f = p->files[k];
	char path[3][4352];
	size_t i;
	int fd = -1;

	if (!f)
		return false;
	am_ucache_touch(u, f);
	if (!f->evicted)
		return f->mod != NULL;
	/* As when it was first opened: the exact object while the process lives, else the path
	 * in its root or the node's (paths.rootfs), if it is still the same file. */
	snprintf(path[0], sizeof(path[0]), "%s/%u/map_files/%" PRIx64 "-%" PRIx64, u->procfs,
		 p->pid, m->start, m->end);
	snprintf(path[1], sizeof(path[1]), "%s/%u/root%s", u->procfs, p->pid, m->path);
	snprintf(path[2], sizeof(path[2]), "%s%s", u->rootfs, m->path);
	for (i = 0; i < 3; i++) {
		if (m->path[0] != '/' || (fd = am_file_open_regular(path[i])) < 0)
			continue;
		if (am_ucache_reload_fd(u, f, m->path, path[i], fd))
			return true;
	}
	u->cs.reload_failures++;
	am_debug("pid %u: %s could not be opened again (gone or replaced): its frames stay unknown",
		 p->pid, m->path);
	return false;
}

/* libdw's Dwarf_Line (addresses, file, line, column, flags, the context and function of an
 * inlined row), one per row of a line table, all rows of a unit at once. */
#define LINE_ROW_BYTES 64
/* A unit's own structures: the CU, its abbreviations, its file table. */
#define CU_BYTES 2048

bool am_ucache_cu_charged(const struct ufile *f, Dwarf_Die *cu)
{
	uint64_t off = dwarf_dieoffset(cu);
	size_t k = am_lower_bound_u64(f->cus, f->ncus, off);

	return k < f->ncus && f->cus[k] == off;
}

bool am_ucache_full(const struct am_usym *u)
{
	return u->budget && u->cs.bytes >= u->budget;
}

void am_ucache_charge_soft(struct am_usym *u, struct ufile *f, size_t bytes)
{
	f->cost += bytes;
	u->cs.bytes += bytes;
	if (u->cs.bytes > u->cs.peak_bytes)
		u->cs.peak_bytes = u->cs.bytes;
}

void am_ucache_charge_cu(struct am_usym *u, struct ufile *f, Dwarf_Die *cu)
{
	uint64_t off = dwarf_dieoffset(cu);
	size_t lo = am_lower_bound_u64(f->cus, f->ncus, off), nlines = 0;
	Dwarf_Lines *lines;

	if (lo < f->ncus && f->cus[lo] == off)
		return;
	if (f->ncus == f->capcus) {
		size_t cap = f->capcus ? f->capcus * 2 : 16;
		uint64_t *n = realloc(f->cus, cap * sizeof(*n));

		if (!n)
			return;
		f->cus = n;
		f->capcus = cap;
	}
	memmove(f->cus + lo + 1, f->cus + lo, (f->ncus - lo) * sizeof(*f->cus));
	f->cus[lo] = off;
	f->ncus++;
	/* Parsed already by the lookup: this only counts its rows. */
	if (dwarf_getsrclines(cu, &lines, &nlines))
		nlines = 0;
	am_ucache_charge_soft(u, f, CU_BYTES + nlines * LINE_ROW_BYTES + sizeof(*f->cus));
}

void am_ucache_add_image(struct ufile *f, Elf *image)
{
	size_t i;

	for (i = 0; image && i < sizeof(f->images) / sizeof(f->images[0]); i++) {
		if (f->images[i] == image)
			return;
		if (!f->images[i]) {
			f->images[i] = image;
			return;
		}
	}
}

size_t am_ucache_drop_pages(struct ufile *f)
{
	size_t i, bytes = 0;

	for (i = 0; i < sizeof(f->images) / sizeof(f->images[0]) && f->images[i]; i++) {
		size_t len = 0;
		const char *raw = elf_rawfile(f->images[i], &len);

		/* An image read into memory (MiniDebugInfo) is anonymous: left alone. */
		bytes += am_drop_clean_file_pages(raw, len);
	}
	return bytes;
}

/* What libdw puts on the heap reading ELF's DWARF: it decompresses a compressed section whole,
 * into memory; the others stay in the mapped file, whose pages are given back after each
 * epoch. *HAS_INFO tells whether ELF holds DWARF at all. */
static size_t dwarf_heap(Elf *elf, bool *has_info)
{
	size_t bytes = 0, shstrndx;
	Elf_Scn *scn = NULL;

	*has_info = false;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;
		GElf_Shdr sh;
		GElf_Chdr ch;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || (strncmp(name, ".debug_", 7) && strncmp(name, ".zdebug_", 8)))
			continue;
		*has_info |= !strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info");
		if ((sh.sh_flags & SHF_COMPRESSED) && gelf_getchdr(scn, &ch))
			bytes += ch.ch_size;
	}
	return bytes;
}

/* Open the separate debug file libdw's lookup would most likely find for F: by build-id under
 * each absolute directory of the debuginfo path, then by .gnu_debuglink LINK next to the file,
 * in its .debug/, and under each absolute directory. Not libdw's own callback: that keeps
 * what it opens in the module. A file only debuginfod has is not found (charged nothing). */
static int open_debug_file(const struct ufile *f, const char *mainfile, const char *link)
{
	const char *path = f->u->debuginfo_path ? f->u->debuginfo_path : "/usr/lib/debug";
	const char *slash = mainfile ? strrchr(mainfile, '/') : NULL;
	int dirlen = slash ? (int)(slash - mainfile) : 0, fd = -1, pass;
	char buf[4096];

	if (link && slash) {
		snprintf(buf, sizeof(buf), "%.*s/%s", dirlen, mainfile, link);
		if (strcmp(buf, mainfile) && (fd = am_file_open_regular(buf)) >= 0)
			return fd;
		snprintf(buf, sizeof(buf), "%.*s/.debug/%s", dirlen, mainfile, link);
		if ((fd = am_file_open_regular(buf)) >= 0)
			return fd;
	}
	for (pass = 0; pass < 2 && fd < 0; pass++) {
		const char *d = path;

		while (*d && fd < 0) {
			size_t len = strcspn(d, ":");

			if (*d == '/' && pass == 0 && f->build_id[0])
				snprintf(buf, sizeof(buf), "%.*s/.build-id/%.2s/%s.debug", (int)len,
					 d, f->build_id, f->build_id + 2);
			else if (*d == '/' && pass == 1 && link && slash)
				snprintf(buf, sizeof(buf), "%.*s%.*s/%s", (int)len, d, dirlen,
					 mainfile, link);
			else
				buf[0] = '\0';
			if (buf[0])
				fd = am_file_open_regular(buf);
			d += len + (d[len] == ':');
		}
	}
	return fd;
}

/* The same before libdw reads it: the file's own DWARF, else its separate debug file's,
 * opened only to read its section headers. */
static size_t dwarf_heap_before(struct ufile *f)
{
	const char *mainfile = NULL, *link;
	size_t bytes;
	Dwarf_Addr bias;
	GElf_Word crc = 0;
	Elf *elf = dwfl_module_getelf(f->mod, &bias), *dbg;
	bool info;
	int fd;

	bytes = dwarf_heap(elf, &info);
	if (info || !elf)
		return bytes;
	dwfl_module_info(f->mod, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
	link = dwelf_elf_gnu_debuglink(elf, &crc);
	fd = open_debug_file(f, mainfile, link);
	if (fd < 0)
		return 0;
	dbg = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	bytes = dwarf_heap(dbg, &info);
	elf_end(dbg);
	close(fd);
	return bytes;
}

/* Found before libdw reads the DWARF: it decompresses the sections in place, and their headers
 * lose SHF_COMPRESSED (measured after, libc's debug file's 11 MiB counted as nothing). */
static size_t dwarf_need(struct ufile *f)
{
	if (!f->dwarf_need_known) {
		f->dwarf_need = dwarf_heap_before(f);
		f->dwarf_need_known = true;
	}
	return f->dwarf_need;
}

size_t am_ucache_dwarf_bytes(struct ufile *f)
{
	Dwarf_Addr bias;
	Dwarf *dw;

	dw = dwfl_module_getdwarf(f->mod, &bias);
	am_ucache_add_image(f, dw ? dwarf_getelf(dw) : NULL);
	return dwarf_need(f);
}

bool am_ucache_dwarf_fits(struct ufile *f)
{
	struct am_usym *u = f->u;

	if (f->lines_charged)
		return true;
	dwarf_need(f);
	if (!u->budget)
		return true;
	return u->cs.bytes < u->budget && f->dwarf_need <= u->budget - u->cs.bytes;
}

void am_ucache_lines_done(struct am_usym *u, struct ufile *f)
{
	if (!f->lines_charged || !f->cost || !am_ucache_full(u))
		return;
	evict(u, f);
	u->cs.evictions++;
}

size_t am_usym_drop_pages(struct am_usym *u)
{
	size_t i, bytes = 0;

	for (i = 0; i < u->nfiles; i++) {
		struct ufile *f = u->files[i];
		size_t len = 0;
		const char *raw;

		if (!f->mod || !f->cfi_used || f->cfi_end <= f->cfi_off)
			continue;
		f->cfi_used = false;
		raw = elf_rawfile(f->images[0], &len);
		if (raw && f->cfi_end <= len)
			bytes +=
			    am_drop_clean_file_pages(raw + f->cfi_off, f->cfi_end - f->cfi_off);
	}
	u->cs.pages_dropped += bytes;
	return bytes;
}

/* Every mapped page of every loaded module goes back. */
static void drop_all_pages(struct am_usym *u)
{
	size_t i;

	for (i = 0; i < u->nfiles; i++) {
		if (!u->files[i]->mod)
			continue;
		u->files[i]->cfi_used = false;
		u->cs.pages_dropped += am_ucache_drop_pages(u->files[i]);
	}
}

void am_usym_set_budget(struct am_usym *u, size_t bytes)
{
	u->budget = bytes;
	enforce(u, NULL);
}

/* Drop the files no capture maps. */
static void drop_unmapped(struct am_usym *u)
{
	size_t i, k, n = 0;

	for (i = 0; i < u->nfiles; i++)
		u->files[i]->referenced = false;
	for (i = 0; i < u->nprocs; i++)
		for (k = 0; k < u->procs[i].nmaps; k++)
			if (u->procs[i].files[k])
				u->procs[i].files[k]->referenced = true;
	for (i = 0; i < u->nfiles; i++) {
		struct ufile *f = u->files[i];

		if (f->referenced) {
			u->files[n++] = f;
			continue;
		}
		u->cs.bytes -= f->cost;
		am_ufile_free(f);
		u->cs.files_dropped++;
	}
	u->nfiles = n;
}

void am_usym_trim(struct am_usym *u)
{
	size_t i, n = 0;

	for (i = 0; i < u->nprocs; i++) {
		if (u->procs[i].epoch == u->epoch) {
			u->procs[n++] = u->procs[i];
			continue;
		}
		am_uproc_free(&u->procs[i]);
		u->cs.procs_dropped++;
	}
	u->nprocs = n;
	u->last_locate = 0;
	drop_unmapped(u);
	u->epoch++;
	/* Line tables read past the budget during the epoch (am_ucache_charge_soft) go now,
	 * with their modules: those holding DWARF first. */
	enforce(u, NULL);
	/* What the epoch's CFI and symbol lookups mapped in goes back. */
	drop_all_pages(u);
}

void am_usym_cache_stats(const struct am_usym *u, struct am_usym_cache_stats *out)
{
	size_t i;

	*out = u->cs;
	out->budget = u->budget;
	out->files = (unsigned)u->nfiles;
	out->loaded = 0;
	for (i = 0; i < u->nfiles; i++)
		out->loaded += u->files[i]->mod != NULL;
}
