/* util/pagedrop: the clean pages of a private file mapping are given back and read the same
 * again; a page written to (copied on write) is kept with what was written; anonymous memory
 * is never touched. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "testutil.h"
#include "util/pagedrop.h"

#define PAGES 16

Test(pagedrop, clean_file_pages_go_and_written_ones_stay)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), i;
	char *dir = am_test_mkdtemp("pagedrop"), path[4096];
	unsigned char *buf = malloc(PAGES * page), *map, *anon;
	unsigned long sum = 0;
	int fd;

	cr_assert_not_null(buf);
	for (i = 0; i < PAGES * page; i++)
		buf[i] = (unsigned char)(i * 31 + i / page);
	snprintf(path, sizeof(path), "%s/data", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, PAGES * page), (ssize_t)(PAGES * page));
	map = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	for (i = 0; i < PAGES * page; i += page)
		sum += map[i];
	cr_assert_gt(sum, 0);
	map[3 * page + 5] ^= 0xff; /* copied on write */
	cr_assert_eq(am_drop_clean_file_pages(map, PAGES * page), (PAGES - 1) * page);
	/* Nothing present any more: nothing given back. */
	cr_assert_eq(am_drop_clean_file_pages(map + 8 * page, 4 * page), 0);
	/* Read again: the file's bytes, and what was written where it was. */
	cr_assert_eq(map[3 * page + 5], (unsigned char)(buf[3 * page + 5] ^ 0xff));
	cr_assert_eq(memcmp(map, buf, 3 * page), 0);
	cr_assert_eq(memcmp(map + 4 * page, buf + 4 * page, (PAGES - 4) * page), 0);
	/* Anonymous memory, even touched, is left alone. */
	anon = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(anon, MAP_FAILED);
	memset(anon, 0x5a, 4 * page);
	cr_assert_eq(am_drop_clean_file_pages(anon, 4 * page), 0);
	cr_assert_eq(anon[page + 7], 0x5a);
	cr_assert_eq(am_drop_clean_file_pages(NULL, page), 0);
	munmap(anon, 4 * page);
	munmap(map, PAGES * page);
	close(fd);
	free(buf);
	am_test_rmtree(dir);
	free(dir);
}
