#include "util/pagedrop.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT (1ull << 63)
#define PM_FILE	   (1ull << 61) /* a page-cache page (or shared anonymous memory) */
#define CHUNK	   512

/* Give back the run [START, END) when it is not empty. */
static size_t drop_run(uintptr_t start, uintptr_t end)
{
	if (end <= start || madvise((void *)start, end - start, MADV_DONTNEED))
		return 0;
	return end - start;
}

size_t am_drop_clean_file_pages(const void *addr, size_t len)
{
	long psz = sysconf(_SC_PAGESIZE);
	uintptr_t page = psz > 0 ? (uintptr_t)psz : 4096, start, end, va, run = 0;
	uint64_t e[CHUNK];
	size_t dropped = 0;
	int fd;

	if (!addr || !len)
		return 0;
	/* Only whole pages inside the range: the pages at its ends may hold other data. */
	start = ((uintptr_t)addr + page - 1) & ~(page - 1);
	end = ((uintptr_t)addr + len) & ~(page - 1);
	if (end <= start)
		return 0;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	for (va = start; va < end;) {
		size_t n = (end - va) / page, i;
		ssize_t got;

		if (n > CHUNK)
			n = CHUNK;
		got = pread(fd, e, n * sizeof(*e), (off_t)(va / page * sizeof(*e)));
		if (got <= 0)
			break;
		n = (size_t)got / sizeof(*e);
		for (i = 0; i < n; i++, va += page) {
			/* A copied-on-write page is anonymous (no PM_FILE): dropping it would
			 * bring the file's bytes back in place of what was written. */
			if ((e[i] & PM_PRESENT) && (e[i] & PM_FILE)) {
				if (!run)
					run = va;
				continue;
			}
			if (run)
				dropped += drop_run(run, va);
			run = 0;
		}
	}
	if (run)
		dropped += drop_run(run, va);
	close(fd);
	return dropped;
}
