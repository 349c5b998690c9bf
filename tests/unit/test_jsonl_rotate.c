/* JSON lines output: size rotation keeps whole lines, at most KEEP old files, in order; and
 * the line envelope is self-describing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/jsonl.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
	dir = am_test_mkdtemp("jsonl");
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	am_test_rmtree(dir);
	free(dir);
}

static void path_of(char *buf, size_t len, const char *suffix)
{
	snprintf(buf, len, "%s/out.jsonl%s", dir, suffix);
}

/* Line N: {"n":N,"pad":"xxxx"} padded to exactly 100 bytes with the newline. */
static void make_line(char *buf, int n)
{
	int len = snprintf(buf, 101, "{\"n\":%06d,\"pad\":\"", n);

	memset(buf + len, 'x', (size_t)(100 - len - 3));
	memcpy(buf + 97, "\"}\n", 3);
	buf[100] = '\0';
}

/* Read FILE's lines; check each is one of ours, whole, and consecutive. Returns the count and
 * the first number in *FIRST. */
static int check_file(const char *file, int *first)
{
	struct am_strbuf b = {0};
	int count = 0, prev = -1;
	char *p, *nl;

	cr_assert_eq(am_test_read_file(file, &b), 0, "cannot read %s", file);
	for (p = b.data; p && *p; p = nl + 1) {
		int n;

		nl = strchr(p, '\n');
		cr_assert_not_null(nl, "%s ends in a partial line", file);
		cr_assert_eq(nl - p, 99, "%s: a line was cut", file);
		cr_assert_eq(sscanf(p, "{\"n\":%d,", &n), 1);
		if (prev >= 0)
			cr_assert_eq(n, prev + 1, "%s: line %d follows %d", file, n, prev);
		else
			*first = n;
		prev = n;
		count++;
	}
	am_strbuf_free(&b);
	return count;
}

Test(jsonl, rotates_by_size_and_keeps_n_files, .init = setup, .fini = teardown)
{
	struct am_jsonl w;
	char path[512], p1[512], p2[512], p3[512], line[101];
	struct stat st;
	int i, first = 0, c0, c1, c2;

	path_of(path, sizeof(path), "");
	path_of(p1, sizeof(p1), ".1");
	path_of(p2, sizeof(p2), ".2");
	path_of(p3, sizeof(p3), ".3");
	/* 4096 bytes hold 40 lines of 100 bytes: 200 lines make 5 files, 2 kept. */
	cr_assert_eq(am_jsonl_open(&w, path, 4096, 2), 0);
	for (i = 0; i < 200; i++) {
		make_line(line, i);
		cr_assert_eq(am_jsonl_write(&w, line, 100), 0);
	}
	cr_assert_eq(w.lines, 200u);
	cr_assert_eq(w.errors, 0u);
	am_jsonl_close(&w);
	cr_assert_eq(stat(p3, &st), -1, "more than 2 rotated files kept");
	c0 = check_file(path, &first);
	cr_assert_eq(c0, 40);
	cr_assert_eq(first, 160);
	c1 = check_file(p1, &first);
	cr_assert_eq(c1, 40);
	cr_assert_eq(first, 120);
	c2 = check_file(p2, &first);
	cr_assert_eq(c2, 40);
	cr_assert_eq(first, 80);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_leq(st.st_size, 4096);
}

Test(jsonl, appends_to_an_existing_file_and_counts_its_size, .init = setup, .fini = teardown)
{
	struct am_jsonl w;
	char path[512], p1[512], line[101];
	int i, first = 0;

	path_of(path, sizeof(path), "");
	path_of(p1, sizeof(p1), ".1");
	cr_assert_eq(am_jsonl_open(&w, path, 4096, 1), 0);
	for (i = 0; i < 30; i++) {
		make_line(line, i);
		cr_assert_eq(am_jsonl_write(&w, line, 100), 0);
	}
	am_jsonl_close(&w);
	/* Reopened (a restart): the 3000 bytes already there count toward the limit. */
	cr_assert_eq(am_jsonl_open(&w, path, 4096, 1), 0);
	cr_assert_eq(w.size, 3000u);
	for (; i < 50; i++) {
		make_line(line, i);
		cr_assert_eq(am_jsonl_write(&w, line, 100), 0);
	}
	am_jsonl_close(&w);
	cr_assert_eq(check_file(p1, &first), 40);
	cr_assert_eq(first, 0);
	cr_assert_eq(check_file(path, &first), 10);
	cr_assert_eq(first, 40);
}

Test(jsonl, keep_zero_truncates, .init = setup, .fini = teardown)
{
	struct am_jsonl w;
	char path[512], p1[512], line[101];
	struct stat st;
	int i, first = 0;

	path_of(path, sizeof(path), "");
	path_of(p1, sizeof(p1), ".1");
	cr_assert_eq(am_jsonl_open(&w, path, 4096, 0), 0);
	for (i = 0; i < 45; i++) {
		make_line(line, i);
		cr_assert_eq(am_jsonl_write(&w, line, 100), 0);
	}
	am_jsonl_close(&w);
	cr_assert_eq(stat(p1, &st), -1);
	cr_assert_eq(check_file(path, &first), 5);
	cr_assert_eq(first, 40);
}

Test(jsonl, oversized_line_is_written_whole_alone, .init = setup, .fini = teardown)
{
	struct am_jsonl w;
	char path[512], p1[512];
	char *big = malloc(5001);
	struct stat st;

	path_of(path, sizeof(path), "");
	path_of(p1, sizeof(p1), ".1");
	memset(big, 'a', 5000);
	big[4999] = '\n';
	cr_assert_eq(am_jsonl_open(&w, path, 4096, 3), 0);
	cr_assert_eq(am_jsonl_write(&w, "{}\n", 3), 0);
	cr_assert_eq(am_jsonl_write(&w, big, 5000), 0);
	cr_assert_eq(am_jsonl_write(&w, "{}\n", 3), 0);
	am_jsonl_close(&w);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 3);
	cr_assert_eq(stat(p1, &st), 0);
	cr_assert_eq(st.st_size, 5000);
	free(big);
}

Test(jsonl, unwritable_path_fails_cleanly, .init = setup, .fini = teardown)
{
	struct am_jsonl w;
	char path[512];

	snprintf(path, sizeof(path), "%s/no/such/dir/out.jsonl", dir);
	cr_assert_lt(am_jsonl_open(&w, path, 4096, 1), 0);
	am_jsonl_close(&w);
}

Test(jsonl, envelope_is_self_describing)
{
	struct am_strbuf b = {0};

	am_jsonl_begin(&b, "event", "web\"1", 1700000000123456789ull);
	am_strbuf_puts(&b, ",\"x\":1");
	am_jsonl_end(&b);
	cr_assert_str_eq(b.data, "{\"type\":\"event\",\"host\":\"web\\\"1\","
				 "\"timestamp\":\"2023-11-14T22:13:20.123456789Z\","
				 "\"timestamp_ns\":1700000000123456789,\"x\":1}\n");
	am_strbuf_free(&b);
}

/* Lines written after the file was deleted used to count as written and vanish until the next
 * SIGHUP: the writer notices (st_nlink 0) and starts a new file at the path. */
Test(jsonl, a_deleted_file_is_created_again, .init = setup, .fini = teardown)
{
	char path[512], line[101];
	struct am_jsonl w;
	int first;

	path_of(path, sizeof(path), "");
	cr_assert_eq(am_jsonl_open(&w, path, 1 << 20, 2), 0);
	make_line(line, 0);
	cr_assert_eq(am_jsonl_write(&w, line, 100), 0);
	cr_assert_eq(unlink(path), 0);
	make_line(line, 1);
	cr_assert_eq(am_jsonl_write(&w, line, 100), 0);
	make_line(line, 2);
	cr_assert_eq(am_jsonl_write(&w, line, 100), 0);
	cr_assert_eq(w.reopened, 1);
	am_jsonl_close(&w);
	cr_assert_eq(check_file(path, &first), 2);
	cr_assert_eq(first, 1);
}

/* A link planted at the path (the agent runs as root, the file may sit in /tmp) must not make
 * it append into the link's target. */
Test(jsonl, a_symlink_at_the_path_is_refused, .init = setup, .fini = teardown)
{
	char path[512], target[512];
	struct am_jsonl w;
	struct stat st;

	path_of(path, sizeof(path), "");
	path_of(target, sizeof(target), ".target");
	cr_assert_eq(am_test_write_file(target, "", 0), 0);
	cr_assert_eq(symlink(target, path), 0);
	cr_assert_lt(am_jsonl_open(&w, path, 1 << 20, 2), 0);
	am_jsonl_close(&w);
	cr_assert_eq(stat(target, &st), 0);
	cr_assert_eq(st.st_size, 0);
}
