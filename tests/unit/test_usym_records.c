/* Captures built from kernel mapping records instead of /proc (am_usym_capture_maps), with this
 * very test binary as the mapped file: symbols when the file is the one mapped (same build-id,
 * or same inode), unknown with the module name when it was replaced or is missing, and an
 * early /proc capture completed without being overridden. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symbolize/usym.h"
#include "testutil.h"

#define FAKE_PID 999999999u /* no such process: only records can describe it */

__attribute__((noinline)) int records_test_target(int x)
{
	return x * 5 + 2;
}

/* This binary's executable mapping as a record would give it. */
static void own_text(struct am_usym_rec_map *m, char *path, size_t len, char *bid)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_usym_result r;
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", path, len - 1);

	cr_assert_gt(n, 0);
	path[n] = '\0';
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)getpid(), 0), 0);
	cr_assert_eq(
	    am_usym_resolve(u, (uint32_t)getpid(), 0, (uintptr_t)records_test_target, false, &r),
	    0);
	cr_assert_not_null(r.map);
	cr_assert_eq(strlen(r.map->build_id), 40, "the test binary has no build-id");
	strcpy(bid, r.map->build_id);
	cr_assert_eq(stat(path, &st), 0);
	*m = (struct am_usym_rec_map){.start = r.map->start,
				      .end = r.map->end,
				      .pgoff = r.map->pgoff,
				      .path = path,
				      .build_id = bid,
				      .ino = st.st_ino};
	am_usym_free(u);
}

static const char *func_at(struct am_usym *u, uint64_t gen, uintptr_t addr,
			   const struct am_usym_map **map)
{
	struct am_usym_result r;

	cr_assert_eq(am_usym_resolve(u, FAKE_PID, gen, addr, false, &r), 0);
	*map = r.map;
	return r.func;
}

Test(usym_records, the_mapped_file_by_build_id_or_inode_gives_symbols)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_usym_rec_stats st = {0};
	struct am_usym_rec_map m;
	const struct am_usym_map *map;
	char path[4096], bid[41];
	const char *f;

	own_text(&m, path, sizeof(path), bid);
	cr_assert_eq(am_usym_capture_maps(u, FAKE_PID, 1, &m, 1, &st), 1);
	cr_assert(am_usym_has_gen(u, FAKE_PID, 1));
	f = func_at(u, 1, (uintptr_t)records_test_target + 1, &map);
	cr_assert_not_null(f);
	cr_assert_str_eq(f, "records_test_target");
	cr_assert_str_eq(map->build_id, bid);
	cr_assert(map->readable);

	/* No build-id in the record (kernel before 5.12): the inode vouches for the file. */
	m.build_id = "";
	cr_assert_eq(am_usym_capture_maps(u, FAKE_PID, 2, &m, 1, &st), 1);
	f = func_at(u, 2, (uintptr_t)records_test_target, &map);
	cr_assert_str_eq(f, "records_test_target");
	cr_assert_eq(st.files, 2);
	cr_assert_eq(st.missing + st.mismatched, 0);
	am_usym_free(u);
}

Test(usym_records, a_replaced_or_missing_file_stays_unknown_with_its_module)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_usym_rec_stats st = {0};
	struct am_usym_rec_map m;
	const struct am_usym_map *map;
	char path[4096], bid[41], other[41];

	own_text(&m, path, sizeof(path), bid);
	/* Another build-id than the file's: what was mapped is not there any more. */
	snprintf(other, sizeof(other), "%040d", 7);
	m.build_id = other;
	cr_assert_eq(am_usym_capture_maps(u, FAKE_PID, 1, &m, 1, &st), 1);
	cr_assert_null(func_at(u, 1, (uintptr_t)records_test_target, &map),
		       "a different file's symbols were used");
	cr_assert_not_null(map);
	cr_assert_str_eq(map->path, path, "the module is still named");
	cr_assert_str_eq(map->build_id, other, "the record's build-id is kept (for pprof)");
	cr_assert(!map->readable);
	cr_assert_eq(st.mismatched, 1);

	/* Without a build-id, another inode is another file. */
	m.build_id = "";
	m.ino += 1;
	cr_assert_eq(am_usym_capture_maps(u, FAKE_PID, 2, &m, 1, &st), 1);
	cr_assert_null(func_at(u, 2, (uintptr_t)records_test_target, &map));
	cr_assert_eq(st.mismatched, 2);

	/* Gone altogether. */
	m.path = "/nonexistent/antimetal/brief";
	cr_assert_eq(am_usym_capture_maps(u, FAKE_PID, 3, &m, 1, &st), 1);
	cr_assert_null(func_at(u, 3, (uintptr_t)records_test_target, &map));
	cr_assert_str_eq(map->path, "/nonexistent/antimetal/brief");
	cr_assert_eq(st.missing, 1);
	cr_assert_eq(st.files, 0);
	am_usym_free(u);
}

Test(usym_records, an_early_capture_is_completed_not_overridden)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	struct am_usym_rec_map m[2];
	struct am_usym_result r;
	char path[4096], bid[41];
	uint32_t me = (uint32_t)getpid();

	own_text(&m[0], path, sizeof(path), bid);
	cr_assert_eq(am_usym_snapshot(u, me, 5), 0);
	/* The same range claimed by another file, and a range /proc did not show. */
	m[0].path = "/nonexistent/other";
	m[0].build_id = "";
	m[1] = (struct am_usym_rec_map){
	    .start = 0x1000, .end = 0x2000, .path = "/nonexistent/gap", .build_id = ""};
	cr_assert_eq(am_usym_capture_maps(u, me, 5, &m[1], 1, NULL), 1);
	cr_assert_eq(am_usym_capture_maps(u, me, 5, m, 1, NULL), 0);
	cr_assert_eq(am_usym_resolve(u, me, 5, (uintptr_t)records_test_target, false, &r), 0);
	cr_assert_str_eq(r.func, "records_test_target", "what /proc showed stays");
	cr_assert_eq(am_usym_resolve(u, me, 5, 0x1800, false, &r), 0);
	cr_assert_not_null(r.map);
	cr_assert_str_eq(r.map->path, "/nonexistent/gap");
	am_usym_free(u);
}

Test(usym_records, a_zombie_is_not_captured_from_its_empty_maps)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	pid_t child = fork();

	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(0);
	am_test_wait_zombie(child); /* exited, not reaped: /proc/PID/maps reads empty */
	cr_assert_eq(am_usym_snapshot(u, (uint32_t)child, 1), -ESRCH);
	cr_assert(!am_usym_has(u, (uint32_t)child));
	waitpid(child, NULL, 0);
	am_usym_free(u);
}

/* In a container the node's files are under paths.rootfs: a gone process's file is opened by
 * its name there, never by the same name in the agent's own root (its image). */
Test(usym_records, a_gone_process_file_is_read_under_the_rootfs)
{
	struct am_usym_rec_stats st = {0};
	struct am_usym_rec_map m;
	const struct am_usym_map *map;
	char path[4096], bid[41], copy[4200];
	char *root = am_test_mkdtemp("usym-rootfs");
	struct am_strbuf exe = {0};
	struct am_usym *u;

	cr_assert_not_null(root);
	own_text(&m, path, sizeof(path), bid);
	cr_assert_eq(am_test_read_file(path, &exe), 0);
	snprintf(copy, sizeof(copy), "%s/opt/am-rootfs-test/records", root);
	cr_assert_eq(am_test_write_file(copy, exe.data, exe.len), 0);
	m.path = "/opt/am-rootfs-test/records"; /* only under ROOT */

	u = am_usym_new(NULL, NULL);
	cr_assert_eq(am_usym_capture_maps(u, FAKE_PID, 1, &m, 1, &st), 1);
	cr_assert_eq(st.missing, 1, "the file was found outside the root");
	cr_assert_null(func_at(u, 1, (uintptr_t)records_test_target + 1, &map));
	am_usym_free(u);

	memset(&st, 0, sizeof(st));
	u = am_usym_new(NULL, NULL);
	snprintf(copy, sizeof(copy), "%s/", root); /* a trailing slash is the same root */
	cr_assert_eq(am_usym_set_rootfs(u, copy), 0);
	cr_assert_eq(am_usym_capture_maps(u, FAKE_PID, 1, &m, 1, &st), 1);
	cr_assert_eq(st.files, 1, "missing %u, mismatched %u", st.missing, st.mismatched);
	cr_assert_str_eq(func_at(u, 1, (uintptr_t)records_test_target + 1, &map),
			 "records_test_target");
	cr_assert_str_eq(map->path, "/opt/am-rootfs-test/records");
	cr_assert_str_eq(map->build_id, bid);
	am_usym_free(u);
	am_test_rmtree(root);
	free(root);
	am_strbuf_free(&exe);
}
