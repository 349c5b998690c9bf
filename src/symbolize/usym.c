#include "symbolize/usym.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "symbolize/usym_int.h"
#include "util/file.h"
#include "util/log.h"

struct am_usym *am_usym_new(const char *procfs, const char *tmpdir)
{
	struct am_usym *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	snprintf(u->procfs, sizeof(u->procfs), "%s", procfs ? procfs : "/proc");
	snprintf(u->tmpdir, sizeof(u->tmpdir), "%s", tmpdir ? tmpdir : "/tmp");
	/* dwfl_standard_find_debuginfo looks in the main file, then by build-id and
	 * .gnu_debuglink under debuginfo_path, then asks debuginfod when DEBUGINFOD_URLS is
	 * set; .gnu_debugdata (MiniDebugInfo) is read by dwfl_module_getsymtab itself. */
	u->cb.find_elf = dwfl_build_id_find_elf;
	u->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	u->cb.section_address = dwfl_offline_section_address;
	u->cb.debuginfo_path = &u->debuginfo_path;
	if (am_usym_set_debuginfo_path(u, getenv("ANTIMETAL_DEBUGINFO_PATH"))) {
		am_usym_free(u);
		return NULL;
	}
	return u;
}

int am_usym_set_debuginfo_path(struct am_usym *u, const char *path)
{
	char *dup = path && *path ? strdup(path) : NULL;

	if (path && *path && !dup)
		return -ENOMEM;
	free(u->debuginfo_path);
	u->debuginfo_path = dup;
	return 0;
}

int am_usym_set_rootfs(struct am_usym *u, const char *rootfs)
{
	const char *env = getenv("ANTIMETAL_DEBUGINFO_PATH");
	char debug[300];
	size_t n;

	if (!rootfs || !strcmp(rootfs, "/"))
		rootfs = "";
	n = strlen(rootfs);
	while (n > 1 && rootfs[n - 1] == '/')
		n--;
	if (n + sizeof("/tmp") > sizeof(u->tmpdir))
		return -ENAMETOOLONG;
	snprintf(u->rootfs, sizeof(u->rootfs), "%.*s", (int)n, rootfs);
	snprintf(u->tmpdir, sizeof(u->tmpdir), "%.*s/tmp", (int)n, rootfs);
	if (!n || (env && *env))
		return 0;
	/* libdw's default ":.debug:/usr/lib/debug", its absolute directory the node's */
	snprintf(debug, sizeof(debug), ":.debug:%.*s/usr/lib/debug", (int)n, rootfs);
	return am_usym_set_debuginfo_path(u, debug);
}

void am_usym_debuginfod_defaults(const char *cache_dir, int timeout_s)
{
	char t[16];

	if (!getenv("DEBUGINFOD_URLS") || !*getenv("DEBUGINFOD_URLS"))
		return;
	/* libdebuginfod reads these at every query: setting them before the first lookup is
	 * enough. setenv with overwrite 0 keeps what the operator chose. */
	if (cache_dir && *cache_dir && !getenv("DEBUGINFOD_CACHE_PATH")) {
		char parent[4096], *slash;

		/* libdebuginfod creates the cache directory, not its parents. */
		snprintf(parent, sizeof(parent), "%s", cache_dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			if (mkdir(parent, 0755) && errno != EEXIST)
				am_warn("debuginfod cache %s: %s", parent, strerror(errno));
		}
		setenv("DEBUGINFOD_CACHE_PATH", cache_dir, 0);
	}
	snprintf(t, sizeof(t), "%d", timeout_s);
	setenv("DEBUGINFOD_TIMEOUT", t, 0);
	/* Its default of 2 retries triples the wait on a dead server; a miss is remembered in
	 * the cache (cache_miss_s, 10 min) and asked again after that instead. */
	setenv("DEBUGINFOD_RETRY_LIMIT", "0", 0);
}

void am_ufile_release(struct ufile *f)
{
	free(f->syms);
	f->syms = NULL;
	f->nsyms = 0;
	f->syms_built = false;
	if (f->dwfl)
		dwfl_end(f->dwfl);
	f->dwfl = NULL;
	f->mod = NULL;
	free(f->loads);
	f->loads = NULL;
	f->nloads = 0;
	f->lines_charged = false;
	memset(f->images, 0, sizeof(f->images));
	free(f->cus);
	f->cus = NULL;
	f->ncus = f->capcus = 0;
}

void am_ufile_free(struct ufile *f)
{
	am_ufile_release(f);
	free(f);
}

void am_uproc_free(struct uproc *p)
{
	size_t i;

	for (i = 0; i < p->nmaps; i++)
		free((char *)p->maps[i].path);
	for (i = 0; i < p->njit; i++)
		free(p->jit[i].name);
	free(p->maps);
	free(p->files);
	free(p->bids);
	free(p->jit);
}

void am_usym_free(struct am_usym *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->nprocs; i++)
		am_uproc_free(&u->procs[i]);
	for (i = 0; i < u->nfiles; i++)
		am_ufile_free(u->files[i]);
	free(u->procs);
	free(u->files);
	free(u->debuginfo_path);
	free(u);
}

/* The capture of (PID, GEN); with ANY, the most recent capture of PID. */
static struct uproc *find_proc(const struct am_usym *u, uint32_t pid, uint64_t gen, bool any)
{
	size_t i;

	for (i = u->nprocs; i > 0; i--)
		if (u->procs[i - 1].pid == pid && (any || u->procs[i - 1].gen == gen))
			return &u->procs[i - 1];
	return NULL;
}

bool am_usym_has(const struct am_usym *u, uint32_t pid)
{
	return find_proc(u, pid, 0, true) != NULL;
}

bool am_usym_has_gen(const struct am_usym *u, uint32_t pid, uint64_t gen)
{
	return find_proc(u, pid, gen, false) != NULL;
}

unsigned am_usym_files_opened(const struct am_usym *u)
{
	return (unsigned)u->nfiles;
}

/* What keeping F's module costs on the heap: F, libdw's Dwfl and module (about 2 KiB), libelf's
 * section and program header tables, the PT_LOAD headers kept. The file's mapped pages are not
 * kept: they are given back after use (am_usym_trim). */
static void charge_base(struct am_usym *u, struct ufile *f, Elf *elf, size_t nph)
{
	size_t shnum = 0, shstrndx;
	Elf_Scn *scn = NULL;

	elf_getshdrnum(elf, &shnum);
	f->cfi_off = f->cfi_end = 0;
	while (!elf_getshdrstrndx(elf, &shstrndx) && (scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (sh.sh_type == SHT_NOBITS ||
		    (strcmp(name, ".eh_frame") && strcmp(name, ".eh_frame_hdr")))
			continue;
		if (!f->cfi_end || sh.sh_offset < f->cfi_off)
			f->cfi_off = sh.sh_offset;
		if (sh.sh_offset + sh.sh_size > f->cfi_end)
			f->cfi_end = sh.sh_offset + sh.sh_size;
	}
	am_ucache_add_image(f, elf);
	am_ucache_charge(u, f,
			 sizeof(*f) + 2048 + shnum * (sizeof(GElf_Shdr) + 32) +
			     nph * sizeof(GElf_Phdr) * 2);
}

/* Report the ELF at OPEN_PATH (already opened as FD) into a private Dwfl at base 0, so module
 * addresses are the file's own virtual addresses whatever the process's load address. */
int am_ufile_load(struct am_usym *u, struct ufile *f, const char *name, const char *open_path,
		  int fd)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	size_t i, nph;
	Elf *elf;
	int n;

	f->dwfl = dwfl_begin(&u->cb);
	if (!f->dwfl) {
		close(fd);
		return -ENOMEM;
	}
	dwfl_report_begin(f->dwfl);
	f->mod = dwfl_report_elf(f->dwfl, name, open_path, fd, 0, false);
	dwfl_report_end(f->dwfl, NULL, NULL);
	if (!f->mod) {
		/* dwfl consumes FD only on success. */
		close(fd);
		return -ENOEXEC;
	}
	elf = dwfl_module_getelf(f->mod, &f->bias);
	if (!elf || elf_getphdrnum(elf, &nph))
		return -ENOEXEC;
	f->loads = calloc(nph ? nph : 1, sizeof(*f->loads));
	if (!f->loads)
		return -ENOMEM;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			f->loads[f->nloads++] = ph;
	}
	n = dwfl_module_build_id(f->mod, &bits, &vaddr);
	f->build_id[0] = '\0';
	for (i = 0; n > 0 && i < (size_t)n && i < 20; i++)
		snprintf(f->build_id + 2 * i, 3, "%02x", bits[i]);
	charge_base(u, f, elf, nph);
	return 0;
}

static struct ufile *cached_file(const struct am_usym *u, uint64_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < u->nfiles; i++)
		if (u->files[i]->dev == dev && u->files[i]->ino == ino)
			return u->files[i];
	return NULL;
}

/* Load the ELF open as FD (consumed) into the cache under (DEV, INO). Returns NULL only when
 * out of memory. */
static struct ufile *add_file(struct am_usym *u, uint32_t pid, const char *name,
			      const char *open_path, int fd, uint64_t dev, uint64_t ino)
{
	struct ufile *f, **nf;
	int err;

	f = calloc(1, sizeof(*f));
	nf = realloc(u->files, (u->nfiles + 1) * sizeof(*nf));
	if (f)
		f->u = u;
	if (!f || !nf) {
		free(f);
		if (nf)
			u->files = nf;
		close(fd);
		return NULL;
	}
	u->files = nf;
	f->dev = dev;
	f->ino = ino;
	/* In the table before it is charged: the charge may release others, never it. */
	u->files[u->nfiles++] = f;
	am_ucache_touch(u, f);
	err = am_ufile_load(u, f, name, open_path, fd);
	if (err) {
		am_debug("pid %u: cannot read symbols of %s: %s", pid, name, strerror(-err));
		am_ufile_release(f); /* charged nothing: the charge comes last */
	}
	/* Unreadable files are cached too, so they are not retried for every process. */
	return f;
}

/* The file behind one mapping: /proc/PID/map_files/START-END is the exact object even when the
 * file was deleted, replaced or lives in another mount namespace; the root-relative path and
 * the plain path are the fallbacks when map_files is not readable (no CAP_SYS_ADMIN). */
static struct ufile *get_file(struct am_usym *u, uint32_t pid, const struct am_usym_map *m,
			      uint64_t dev, uint64_t ino)
{
	char path[3][4352];
	struct ufile *f = cached_file(u, dev, ino);
	size_t i;
	int fd = -1;

	if (f && !f->evicted)
		return f;
	snprintf(path[0], sizeof(path[0]), "%s/%u/map_files/%" PRIx64 "-%" PRIx64, u->procfs, pid,
		 m->start, m->end);
	snprintf(path[1], sizeof(path[1]), "%s/%u/root%s", u->procfs, pid, m->path);
	snprintf(path[2], sizeof(path[2]), "%s%s", u->rootfs, m->path);
	for (i = 0; i < 3 && fd < 0; i++)
		fd = am_file_open_regular(path[i]);
	if (f) {
		/* Released to stay in the budget: reopened now, while the process that maps it
		 * still lives. A failure leaves it released (its next use tries again). */
		if (fd < 0 || !am_ucache_reload_fd(u, f, m->path, path[i - 1], fd)) {
			u->cs.reload_failures++;
			am_debug("pid %u: %s could not be opened again (%s)", pid, m->path,
				 fd < 0 ? "gone" : "replaced");
		}
		return f;
	}
	if (fd < 0)
		return NULL;
	return add_file(u, pid, m->path, path[i - 1], fd, dev, ino);
}

static int cmp_jit(const void *a, const void *b)
{
	const struct jitsym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* /tmp/perf-PID.map: "START SIZE name" per line, hex, written by JITs (V8, the JVM agent...). */
/* /tmp is everyone's: as perf does, a map file counts only when it is the process's own (or
 * root's), and never through a link, or any user could make a root agent read a file of its
 * choosing into symbol names. */
static FILE *open_jit_map(const struct am_usym *u, uint32_t pid)
{
	char path[512];
	struct stat proc, st;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/%u", u->procfs, pid);
	if (stat(path, &proc))
		return NULL;
	snprintf(path, sizeof(path), "%s/perf-%u.map", u->tmpdir, pid);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_uid && st.st_uid != proc.st_uid) ||
	    !(f = fdopen(fd, "re"))) {
		close(fd);
		return NULL;
	}
	return f;
}

static void load_jit(struct am_usym *u, struct uproc *p)
{
	char line[4096];
	size_t cap = 0;
	FILE *f;

	f = open_jit_map(u, p->pid);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, size;
		int nameoff = 0;
		struct jitsym *nj;

		if (sscanf(line, "%llx %llx %n", &start, &size, &nameoff) < 2 || !nameoff)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (p->njit == cap) {
			cap = cap ? cap * 2 : 64;
			nj = realloc(p->jit, cap * sizeof(*nj));
			if (!nj)
				break;
			p->jit = nj;
		}
		p->jit[p->njit].start = start;
		p->jit[p->njit].end = start + size;
		p->jit[p->njit].name = strdup(line + nameoff);
		if (p->jit[p->njit].name)
			p->njit++;
	}
	fclose(f);
	if (p->njit > 1)
		qsort(p->jit, p->njit, sizeof(*p->jit), cmp_jit);
}

/* A new, empty capture of (PID, GEN); NULL when out of memory. */
static struct uproc *add_proc(struct am_usym *u, uint32_t pid, uint64_t gen)
{
	struct uproc *procs = realloc(u->procs, (u->nprocs + 1) * sizeof(*procs)), *p;

	if (!procs)
		return NULL;
	u->procs = procs;
	p = &u->procs[u->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->gen = gen;
	p->epoch = u->epoch;
	return p;
}

int am_usym_snapshot(struct am_usym *u, uint32_t pid, uint64_t gen)
{
	char path[512], line[4608], perms[8], pathbuf[4352];
	unsigned long long start, end, pgoff, ino;
	unsigned int maj, min;
	struct uproc *p;
	size_t cap = 0;
	FILE *f;

	p = find_proc(u, pid, gen, false);
	if (p) {
		p->epoch = u->epoch;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%u/maps", u->procfs, pid);
	f = am_file_fopen_regular(path);
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	p = add_proc(u, pid, gen);
	if (!p) {
		fclose(f);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		struct am_usym_map *m;
		struct ufile *file = NULL;
		int n = 0;

		pathbuf[0] = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff,
			   &maj, &min, &ino, &n) < 7)
			continue;
		if (!strchr(perms, 'x'))
			continue;
		if (n)
			snprintf(pathbuf, sizeof(pathbuf), "%s", line + n);
		pathbuf[strcspn(pathbuf, "\n")] = '\0';
		if (p->nmaps == cap) {
			void *nm, *nfl;

			cap = cap ? cap * 2 : 32;
			nm = realloc(p->maps, cap * sizeof(*p->maps));
			if (nm)
				p->maps = nm;
			nfl = realloc(p->files, cap * sizeof(*p->files));
			if (nfl)
				p->files = nfl;
			if (!nm || !nfl)
				break;
		}
		m = &p->maps[p->nmaps];
		m->start = start;
		m->end = end;
		m->pgoff = pgoff;
		m->path = strdup(pathbuf);
		if (!m->path)
			break;
		if (ino && pathbuf[0] == '/')
			file = get_file(u, pid, m, makedev(maj, min), ino);
		m->build_id = file ? file->build_id : "";
		m->readable = file && (file->mod || file->evicted);
		p->files[p->nmaps++] = file;
	}
	fclose(f);
	if (!p->nmaps) {
		/* A zombie, or a process past exit_mm: its maps read empty. Not a capture: the
		 * caller may know its mappings from elsewhere. */
		am_uproc_free(p);
		u->nprocs--;
		return -ESRCH;
	}
	load_jit(u, p);
	return 0;
}

/* Whether F is the file a record says was mapped: the same build-id, else the same inode
 * (the device numbers of stat and of the kernel's record differ on btrfs and overlayfs). */
static bool rec_matches(const struct ufile *f, const struct am_usym_rec_map *m)
{
	if (*m->build_id)
		return !strcmp(f->build_id, m->build_id);
	return !m->ino || f->ino == m->ino;
}

enum rec_outcome { REC_OK, REC_MISSING, REC_MISMATCH };

/* The file a recorded mapping names, or NULL with *WHY set. */
static struct ufile *rec_file(struct am_usym *u, uint32_t pid, const struct am_usym_rec_map *m,
			      enum rec_outcome *why)
{
	char path[4352];
	struct ufile *f;
	struct stat st;
	size_t i;
	int fd;

	*why = REC_OK;
	/* Same build-id, same contents: a copy opened for another process will do. */
	for (i = 0; *m->build_id && i < u->nfiles; i++)
		if ((u->files[i]->mod || u->files[i]->evicted) &&
		    !strcmp(u->files[i]->build_id, m->build_id))
			return u->files[i];
	*why = REC_MISSING;
	/* The process is gone: its file by name, in the node's tree. */
	if ((size_t)snprintf(path, sizeof(path), "%s%s", u->rootfs, m->path) >= sizeof(path))
		return NULL;
	fd = am_file_open_regular(path);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		close(fd);
		return NULL;
	}
	f = cached_file(u, st.st_dev, st.st_ino);
	if (f && f->evicted) {
		if (!am_ucache_reload_fd(u, f, m->path, path, fd))
			u->cs.reload_failures++;
	} else if (f)
		close(fd);
	else
		f = add_file(u, pid, m->path, path, fd, st.st_dev, st.st_ino);
	if (!f || !f->mod)
		return NULL;
	if (!rec_matches(f, m)) {
		*why = REC_MISMATCH;
		am_debug(
		    "pid %u: %s is no longer the file that was mapped (build-id %s, inode %llu; "
		    "now %s, %llu): its frames stay unknown",
		    pid, m->path, *m->build_id ? m->build_id : "-", (unsigned long long)m->ino,
		    *f->build_id ? f->build_id : "-", (unsigned long long)f->ino);
		return NULL;
	}
	*why = REC_OK;
	return f;
}

/* Whether [START, END) overlaps one of the first N mappings of P (sorted, not overlapping). */
static bool overlaps(const struct uproc *p, size_t n, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* the first mapping ending after START */
		size_t mid = lo + (hi - lo) / 2;

		if (p->maps[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && p->maps[lo].start < end;
}

/* Point each mapping's build-id at its storage: its file's, else the record's. */
static void repoint(struct uproc *p)
{
	size_t i;

	for (i = 0; p->bids && i < p->nmaps; i++)
		p->maps[i].build_id = p->files[i] ? p->files[i]->build_id : p->bids[i];
}

/* Make room in P's parallel arrays for N more mappings (the build-ids' storage moves:
 * repoint). */
static int grow_maps(struct uproc *p, size_t n)
{
	size_t cap = p->nmaps + n;
	void *nm = realloc(p->maps, cap * sizeof(*p->maps)), *nf, *nb;

	if (nm)
		p->maps = nm;
	nf = realloc(p->files, cap * sizeof(*p->files));
	if (nf)
		p->files = nf;
	nb = realloc(p->bids, cap * sizeof(*p->bids));
	if (nb) {
		if (!p->bids) /* mappings from /proc: their build-ids are their files' */
			memset(nb, 0, p->nmaps * sizeof(*p->bids));
		p->bids = nb;
	}
	return nm && nf && nb ? 0 : -ENOMEM;
}

static int cmp_start(const void *a, const void *b)
{
	const struct am_usym_map *x = *(struct am_usym_map *const *)a,
				 *y = *(struct am_usym_map *const *)b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort P's parallel arrays by start (into new arrays, then repoint). */
static int sort_maps(struct uproc *p)
{
	struct am_usym_map **order = calloc(p->nmaps ? p->nmaps : 1, sizeof(*order)), *maps;
	struct ufile **files;
	char(*bids)[41];
	size_t i, k;

	maps = calloc(p->nmaps ? p->nmaps : 1, sizeof(*maps));
	files = calloc(p->nmaps ? p->nmaps : 1, sizeof(*files));
	bids = calloc(p->nmaps ? p->nmaps : 1, sizeof(*bids));
	if (!order || !maps || !files || !bids) {
		free(order);
		free(maps);
		free(files);
		free(bids);
		return -ENOMEM;
	}
	for (i = 0; i < p->nmaps; i++)
		order[i] = &p->maps[i];
	qsort(order, p->nmaps, sizeof(*order), cmp_start);
	for (i = 0; i < p->nmaps; i++) {
		k = (size_t)(order[i] - p->maps);
		maps[i] = p->maps[k];
		files[i] = p->files[k];
		memcpy(bids[i], p->bids[k], sizeof(bids[i]));
	}
	free(order);
	free(p->maps);
	free(p->files);
	free(p->bids);
	p->maps = maps;
	p->files = files;
	p->bids = bids;
	repoint(p);
	return 0;
}

static void count_outcome(struct am_usym_rec_stats *st, enum rec_outcome why)
{
	if (!st)
		return;
	if (why == REC_OK)
		st->files++;
	else if (why == REC_MISSING)
		st->missing++;
	else
		st->mismatched++;
}

/* Append one recorded mapping to P (room was made). */
static int add_rec_map(struct am_usym *u, struct uproc *p, const struct am_usym_rec_map *r,
		       struct am_usym_rec_stats *st)
{
	struct am_usym_map *m = &p->maps[p->nmaps];
	enum rec_outcome why = REC_MISSING;
	struct ufile *file = NULL;

	m->start = r->start;
	m->end = r->end;
	m->pgoff = r->pgoff;
	m->build_id = ""; /* pointed at its storage by sort_maps */
	m->path = strdup(r->path);
	if (!m->path)
		return -ENOMEM;
	if (r->path[0] == '/') {
		file = rec_file(u, p->pid, r, &why);
		count_outcome(st, why);
	}
	snprintf(p->bids[p->nmaps], sizeof(p->bids[p->nmaps]), "%s", r->build_id);
	m->readable = file && (file->mod || file->evicted);
	p->files[p->nmaps++] = file;
	return 0;
}

int am_usym_capture_maps(struct am_usym *u, uint32_t pid, uint64_t gen,
			 const struct am_usym_rec_map *maps, size_t n, struct am_usym_rec_stats *st)
{
	struct uproc *p = find_proc(u, pid, gen, false);
	bool fresh = !p;
	size_t i, before;
	int err = 0;

	if (!n)
		return 0;
	if (fresh && !(p = add_proc(u, pid, gen)))
		return -ENOMEM;
	p->epoch = u->epoch;
	before = p->nmaps;
	err = grow_maps(p, n);
	/* What /proc showed of this generation stays: records fill only the gaps. */
	for (i = 0; i < n && !err; i++)
		if (maps[i].end > maps[i].start && !overlaps(p, before, maps[i].start, maps[i].end))
			err = add_rec_map(u, p, &maps[i], st);
	if (!err)
		err = sort_maps(p);
	if (err) { /* out of memory: leave the capture as it was */
		while (p->nmaps > before)
			free((char *)p->maps[--p->nmaps].path);
		repoint(p);
		if (fresh && !p->nmaps) {
			am_uproc_free(p);
			u->nprocs--;
		}
		return err;
	}
	if (fresh)
		load_jit(u, p);
	return (int)(p->nmaps - before);
}

/* Drop the processes whose generation (BY_GEN) or else pid is KEY. */
static void forget(struct am_usym *u, bool by_gen, uint64_t key)
{
	size_t i, k = 0;

	for (i = 0; i < u->nprocs; i++) {
		if ((by_gen ? u->procs[i].gen : u->procs[i].pid) == key)
			am_uproc_free(&u->procs[i]);
		else
			u->procs[k++] = u->procs[i];
	}
	u->nprocs = k;
}

void am_usym_forget(struct am_usym *u, uint32_t pid)
{
	forget(u, false, pid);
}

void am_usym_forget_gen(struct am_usym *u, uint64_t gen)
{
	forget(u, true, gen);
}

static int cmp_fsym(const void *a, const void *b)
{
	const struct fsym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return y->global - x->global; /* at one address, the global name first */
}

/* Function symbols of .symtab (or .dynsym, or the separate debuginfo's, as libdw picks). */
static void build_syms(struct ufile *f)
{
	int n = dwfl_module_getsymtab(f->mod), i;
	size_t k = 0, cap = 0;

	f->syms_built = true;
	for (i = 1; i < n; i++) {
		Elf *image = NULL;
		const char *name;
		GElf_Addr addr;
		GElf_Sym sym;
		int type;

		name = dwfl_module_getsym_info(f->mod, i, &sym, &addr, NULL, &image, NULL);
		am_ucache_add_image(f, image); /* the file's, its debug file's or MiniDebugInfo's */
		type = GELF_ST_TYPE(sym.st_info);
		if (!name || !*name || !addr || sym.st_shndx == SHN_UNDEF ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		/* Grown as found, not sized by all symbols: most of a big table are not
		 * functions (node: a third), and it is kept. */
		if (k == cap) {
			struct fsym *more;

			cap = cap ? cap + cap / 2 : 256;
			more = realloc(f->syms, cap * sizeof(*more));
			if (!more)
				break;
			f->syms = more;
		}
		f->syms[k].addr = addr;
		f->syms[k].size = sym.st_size;
		f->syms[k].name = name;
		f->syms[k].global = GELF_ST_BIND(sym.st_info) == STB_GLOBAL;
		k++;
	}
	f->nsyms = k;
	if (k > 1)
		qsort(f->syms, k, sizeof(*f->syms), cmp_fsym);
	if (k && k < cap) {
		struct fsym *fit = realloc(f->syms, k * sizeof(*fit));

		if (fit)
			f->syms = fit;
	}
	/* Every symbol and name was read: those pages go back now, the few names looked up
	 * later come in again one page each. */
	am_ucache_drop_pages(f);
	am_ucache_charge(f->u, f, k * sizeof(*f->syms));
}

/* The function containing ADDR (module address space), or NULL. */
static const struct fsym *find_sym(struct ufile *f, GElf_Addr addr)
{
	size_t lo = 0, hi;

	if (!f->syms_built)
		build_syms(f);
	hi = f->nsyms;
	if (!hi || addr < f->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* Several names at one address: the first of them (global first). */
	while (lo > 0 && f->syms[lo - 1].addr == f->syms[lo].addr)
		lo--;
	if (f->syms[lo].size && addr >= f->syms[lo].addr + f->syms[lo].size)
		return NULL; /* in a gap between functions */
	return &f->syms[lo];
}

/* ADDR of mapping M in F's module address space, through the PT_LOAD holding its file offset. */
static int module_addr(const struct ufile *f, const struct am_usym_map *m, uint64_t addr,
		       GElf_Addr *maddr)
{
	uint64_t off = addr - m->start + m->pgoff;
	size_t i;

	for (i = 0; i < f->nloads; i++) {
		const GElf_Phdr *ph = &f->loads[i];

		if (off < ph->p_offset || off >= ph->p_offset + ph->p_memsz)
			continue;
		*maddr = off - ph->p_offset + ph->p_vaddr + f->bias;
		return 0;
	}
	return -ENOENT;
}

static int resolve_file(struct ufile *f, const struct am_usym_map *m, uint64_t addr,
			struct am_usym_result *out)
{
	const struct fsym *sym;
	GElf_Addr maddr;

	if (module_addr(f, m, addr, &maddr))
		return -ENOENT;
	sym = find_sym(f, maddr);
	if (!sym)
		return -ENOENT;
	out->func = sym->name;
	out->offset = maddr - sym->addr;
	out->src_file = f;
	out->src_addr = maddr;
	return 0;
}

/* The index of P's mapping holding ADDR, or -1. */
static ssize_t find_map(const struct uproc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nmaps;

	/* /proc/PID/maps lists mappings in address order. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < p->maps[mid].start)
			hi = mid;
		else if (addr >= p->maps[mid].end)
			lo = mid + 1;
		else
			return (ssize_t)mid;
	}
	return -1;
}

/* Resolve LOOK in one capture; false when no mapping of it holds LOOK. */
static bool resolve_in(struct am_usym *u, struct uproc *p, uint64_t look,
		       struct am_usym_result *out)
{
	ssize_t k = find_map(p, look);
	size_t lo, hi;

	memset(out, 0, sizeof(*out));
	p->epoch = u->epoch;
	if (k >= 0) {
		out->map = &p->maps[k];
		if (am_ucache_ensure(u, p, (size_t)k))
			resolve_file(p->files[k], out->map, look, out);
	}
	if (!out->func && (!out->map || !p->files[out->map - p->maps])) {
		for (lo = 0, hi = p->njit; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;

			if (look < p->jit[mid].start) {
				hi = mid;
			} else if (look >= p->jit[mid].end) {
				lo = mid + 1;
			} else {
				out->func = p->jit[mid].name;
				out->offset = look - p->jit[mid].start;
				out->jit = true;
				break;
			}
		}
	}
	return out->map || out->func;
}

int am_usym_resolve(struct am_usym *u, uint32_t pid, uint64_t gen, uint64_t addr, bool return_addr,
		    struct am_usym_result *out)
{
	uint64_t look = return_addr && addr ? addr - 1 : addr;
	struct uproc *p = find_proc(u, pid, gen, false);
	size_t i;

	memset(out, 0, sizeof(*out));
	if (p && resolve_in(u, p, look, out))
		return 0;
	/* A capture taken just after exec can predate the libraries the loader maps next: look
	 * in the pid's other captures, newest first (the end-of-profile one among them). */
	for (i = u->nprocs; i > 0; i--)
		if (u->procs[i - 1].pid == pid && &u->procs[i - 1] != p &&
		    resolve_in(u, &u->procs[i - 1], look, out))
			return 0;
	memset(out, 0, sizeof(*out));
	return p || am_usym_has(u, pid) ? 0 : -ENOENT;
}

/* Locate ADDR in one capture; false when no mapping of it holds ADDR. */
static bool locate_in(struct am_usym *u, struct uproc *p, uint64_t addr, struct am_usym_loc *out)
{
	ssize_t k = find_map(p, addr);
	struct ufile *f;
	GElf_Addr maddr;

	p->epoch = u->epoch;
	if (k < 0)
		return false;
	out->map = &p->maps[k];
	f = p->files[k];
	if (f && am_ucache_ensure(u, p, (size_t)k))
		f->cfi_used = true;
	if (f && f->mod && !module_addr(f, out->map, addr, &maddr)) {
		out->file = f;
		out->mod = f->mod;
		out->mod_addr = maddr;
	}
	return true;
}

int am_usym_locate(struct am_usym *u, uint32_t pid, uint64_t gen, uint64_t addr,
		   struct am_usym_loc *out)
{
	struct uproc *p = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (u->last_locate < u->nprocs && u->procs[u->last_locate].pid == pid &&
	    u->procs[u->last_locate].gen == gen)
		p = &u->procs[u->last_locate];
	else if ((p = find_proc(u, pid, gen, false)))
		u->last_locate = (size_t)(p - u->procs);
	if (p && locate_in(u, p, addr, out))
		return 0;
	for (i = u->nprocs; i > 0; i--)
		if (u->procs[i - 1].pid == pid && &u->procs[i - 1] != p &&
		    locate_in(u, &u->procs[i - 1], addr, out))
			return 0;
	return -ENOENT;
}

/* The name of an inlined instance: its abstract origin's linkage name, else its plain name. */
static const char *inline_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *name = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a))
		name = dwarf_formstring(&a);
	if (!name && dwarf_attr_integrate(die, DW_AT_name, &a))
		name = dwarf_formstring(&a);
	return name ? name : "[inlined]";
}

/* Where the inlined instance DIE was called from, in CU. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *die, const char **file, unsigned *line)
{
	Dwarf_Files *files;
	Dwarf_Attribute a;
	Dwarf_Word w;
	size_t nfiles;

	*file = NULL;
	*line = 0;
	if (dwarf_attr(die, DW_AT_call_line, &a) && !dwarf_formudata(&a, &w))
		*line = (unsigned)w;
	if (dwarf_attr(die, DW_AT_call_file, &a) && !dwarf_formudata(&a, &w) &&
	    !dwarf_getsrcfiles(cu, &files, &nfiles) && w < nfiles)
		*file = dwarf_filesrc(files, w, NULL, NULL);
}

/* F's DWARF was read (for lines or .debug_frame): charge it once. */
static void charge_dwarf(struct ufile *f)
{
	if (f->lines_charged)
		return;
	f->lines_charged = true;
	am_ucache_charge_soft(f->u, f, am_ucache_dwarf_bytes(f));
}

struct Dwarf_CFI_s *am_usym_dwarf_cfi(struct am_usym *u, const struct am_usym_loc *loc,
				      uint64_t *bias)
{
	struct ufile *f = loc->file;
	Dwarf_CFI *cfi;

	(void)u; /* the file knows its symbolizer */
	/* dwfl_module_dwarf_cfi loads the whole DWARF (a separate debug file's: found by
	 * build-id, by debuglink, or from debuginfod), where .debug_frame is rare (libc's debug
	 * file has none, and loading it decompresses 11 MiB): a file found without one is not
	 * asked again, and none is loaded past what is left of the budget. */
	if (!f || !f->mod || f->no_dwarf_cfi || !am_ucache_dwarf_fits(f))
		return NULL;
	cfi = dwfl_module_dwarf_cfi(f->mod, bias);
	charge_dwarf(f);
	if (!cfi)
		f->no_dwarf_cfi = true;
	return cfi;
}

size_t am_usym_lines(const struct am_usym_result *r, struct am_usym_line *out, size_t max)
{
	struct ufile *f = (struct ufile *)r->src_file;
	Dwarf_Die *scopes = NULL, *cu;
	const char *file = NULL;
	Dwarf_Addr bias = 0;
	unsigned line = 0;
	Dwfl_Line *l;
	size_t n = 0;
	int ns, i;

	if (!f || !f->mod || !max)
		return 0;
	/* Within the budget only: libdw reads the whole DWARF, then a unit's whole line table,
	 * and the budget is spent on neither while full (the frame keeps its symbol). */
	if (!am_ucache_dwarf_fits(f)) {
		f->u->cs.lines_skipped++;
		return 0;
	}
	cu = dwfl_module_addrdie(f->mod, r->src_addr, &bias);
	charge_dwarf(f);
	if (!cu)
		return 0;
	if (!am_ucache_cu_charged(f, cu) && am_ucache_full(f->u)) {
		f->u->cs.lines_skipped++;
		return 0;
	}
	l = dwfl_module_getsrc(f->mod, r->src_addr);
	am_ucache_charge_cu(f->u, f, cu);
	if (l) {
		int ln = 0;

		file = dwfl_lineinfo(l, NULL, &ln, NULL, NULL, NULL);
		line = ln > 0 ? (unsigned)ln : 0;
	}
	/* Innermost scope first: every inlined instance holding the address, up to the
	 * function (dwarf_getscopes stops at its DW_TAG_subprogram's parents). */
	ns = dwarf_getscopes(cu, r->src_addr - bias, &scopes);
	for (i = 0; i < ns && n + 1 < max; i++) {
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram)
			break;
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		out[n].func = inline_name(&scopes[i]);
		out[n].file = file;
		out[n].line = line;
		n++;
		call_site(cu, &scopes[i], &file, &line);
	}
	free(scopes);
	if (!n && !file)
		return 0;
	out[n].func = NULL;
	out[n].file = file;
	out[n].line = line;
	return n + 1;
}

void am_usym_lines_done(struct am_usym *u, const void *src_file)
{
	if (src_file)
		am_ucache_lines_done(u, (struct ufile *)src_file);
}
