/* The kallsyms table: parsing (text symbols only, modules), sorting and the binary search. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/kallsyms.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
	dir = am_test_mkdtemp("kallsyms");
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	am_test_rmtree(dir);
	free(dir);
}

TestSuite(kallsyms, .init = setup, .fini = teardown);

static const char *write_fixture(const char *text)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/kallsyms", dir);
	cr_assert_eq(am_test_write_file(path, text, strlen(text)), 0);
	return path;
}

Test(kallsyms, text_symbols_sorted_and_searched)
{
	/* Out of order, with data symbols (d, b, A) that must not match and a module symbol. */
	const char *path = write_fixture("ffffffff81002000 T do_syscall_64\n"
					 "ffffffff81000000 T _stext\n"
					 "ffffffff81003000 d some_data\n"
					 "ffffffffc0001000 t nf_hook_slow\t[nf_tables]\n"
					 "ffffffff81001000 t vfs_read\n"
					 "0000000000000000 A fixed_percpu_data\n"
					 "ffffffff81004000 W weak_fn\n"
					 "garbage line\n");
	struct am_kallsyms k;
	const struct am_ksym *s;
	uint64_t off = 0;

	cr_assert_eq(am_kallsyms_load(path, &k), 0);
	cr_assert_eq(k.n, 5, "text symbols: %zu", k.n);
	s = am_kallsyms_lookup(&k, 0xffffffff81001010, &off);
	cr_assert_not_null(s);
	cr_assert_str_eq(s->name, "vfs_read");
	cr_assert_eq(off, 0x10);
	s = am_kallsyms_lookup(&k, 0xffffffff81002000, &off);
	cr_assert_str_eq(s->name, "do_syscall_64");
	cr_assert_eq(off, 0);
	/* The data symbol at ...3000 is skipped: still inside do_syscall_64's range. */
	s = am_kallsyms_lookup(&k, 0xffffffff81003004, NULL);
	cr_assert_str_eq(s->name, "do_syscall_64");
	s = am_kallsyms_lookup(&k, 0xffffffff81004001, NULL);
	cr_assert_str_eq(s->name, "weak_fn");
	s = am_kallsyms_lookup(&k, 0xffffffffc0001234, NULL);
	cr_assert_str_eq(s->name, "nf_hook_slow");
	cr_assert_str_eq(s->module, "nf_tables");
	cr_assert_str_eq(am_kallsyms_lookup(&k, 0xffffffff81000000, NULL)->module, "");
	cr_assert_null(am_kallsyms_lookup(&k, 0xffffffff80ffffff, NULL), "below the first");
	am_kallsyms_free(&k);
}

Test(kallsyms, hidden_addresses_are_an_error)
{
	const char *path =
	    write_fixture("0000000000000000 T _stext\n0000000000000000 t vfs_read\n");
	struct am_kallsyms k;

	cr_assert_eq(am_kallsyms_load(path, &k), -EPERM);
}

Test(kallsyms, missing_file_is_an_error)
{
	struct am_kallsyms k;

	cr_assert_eq(am_kallsyms_load("/nonexistent/kallsyms", &k), -ENOENT);
}

Test(kallsyms, the_running_kernel)
{
	struct am_kallsyms k;
	const struct am_ksym *s;
	size_t i;

	if (am_kallsyms_load(NULL, &k))
		cr_skip_test("skipped: /proc/kallsyms addresses hidden (needs root)");
	cr_assert_gt(k.n, 1000);
	for (i = 0; i < k.n && strcmp(k.syms[i].name, "vfs_read"); i++)
		;
	cr_assert_lt(i, k.n, "no vfs_read in /proc/kallsyms");
	s = am_kallsyms_lookup(&k, k.syms[i].addr + 1, NULL);
	/* Aliases share addresses; whichever is found starts at vfs_read's address. */
	cr_assert_eq(s->addr, k.syms[i].addr);
	am_kallsyms_free(&k);
}

/* The streamed resolution gives what the table gives: names, modules, offsets, and nothing
 * below the first symbol. */
static void assert_same(const struct am_kallsyms *k, const struct am_kallsyms_set *s, uint64_t addr)
{
	uint64_t off_t = 0, off_s = 0;
	const struct am_ksym *a = am_kallsyms_lookup(k, addr, &off_t);
	const struct am_ksym *b = am_kallsyms_set_lookup(s, addr, &off_s);

	if (!a) {
		cr_assert_null(b, "%#llx: the table has no symbol, the set has %s",
			       (unsigned long long)addr, b->name);
		return;
	}
	cr_assert_not_null(b, "%#llx: the set has no symbol, the table has %s",
			   (unsigned long long)addr, a->name);
	cr_assert_str_eq(b->name, a->name, "%#llx", (unsigned long long)addr);
	cr_assert_str_eq(b->module, a->module, "%#llx", (unsigned long long)addr);
	cr_assert_eq(b->addr, a->addr, "%#llx", (unsigned long long)addr);
	cr_assert_eq(off_s, off_t, "%#llx", (unsigned long long)addr);
}

Test(kallsyms, streamed_names_match_the_table_on_a_fixture)
{
	/* Aliases at one address (the later line wins in both), a module, data symbols, an
	 * address below every symbol and repeated addresses. */
	const char *path = write_fixture("ffffffff81002000 T do_syscall_64\n"
					 "ffffffff81000000 T _stext\n"
					 "ffffffff81001000 t vfs_read\n"
					 "ffffffff81001000 T alias_of_vfs_read\n"
					 "ffffffff81003000 d some_data\n"
					 "ffffffffc0001000 t nf_hook_slow\t[nf_tables]\n"
					 "ffffffff81004000 W weak_fn\n");
	uint64_t addrs[] = {0xffffffff81001010, 0xffffffff81002000, 0xffffffff81003004,
			    0xffffffff80ffffff, 0xffffffffc0001234, 0xffffffff81001010,
			    0xffffffff81004001, 0xffffffff81000000, 0xffffffffffffffff};
	struct am_kallsyms k;
	struct am_kallsyms_set s;
	size_t i;

	cr_assert_eq(am_kallsyms_load(path, &k), 0);
	cr_assert_eq(am_kallsyms_resolve(path, addrs, sizeof(addrs) / sizeof(addrs[0]), &s), 0);
	cr_assert_eq(s.n, sizeof(addrs) / sizeof(addrs[0]) - 1, "repeats kept once");
	cr_assert_eq(s.first, 0xffffffff81000000);
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		assert_same(&k, &s, addrs[i]);
	cr_assert_str_eq(am_kallsyms_set_lookup(&s, 0xffffffff81001010, NULL)->name,
			 "alias_of_vfs_read");
	cr_assert_str_eq(am_kallsyms_set_lookup(&s, 0xffffffffc0001234, NULL)->module, "nf_tables");
	cr_assert_null(am_kallsyms_set_lookup(&s, 0x1234, NULL), "not among those resolved");
	am_kallsyms_set_free(&s);
	am_kallsyms_free(&k);
}

Test(kallsyms, streamed_errors_match_the_table)
{
	struct am_kallsyms_set s;
	uint64_t a = 0xffffffff81000000;

	cr_assert_eq(am_kallsyms_resolve("/nonexistent/kallsyms", &a, 1, &s), -ENOENT);
	cr_assert_eq(am_kallsyms_resolve(write_fixture("0000000000000000 T _stext\n"
						       "0000000000000000 t vfs_read\n"),
					 &a, 1, &s),
		     -EPERM);
}

Test(kallsyms, streamed_names_match_the_table_on_the_running_kernel)
{
	enum { N = 4000 };
	struct am_kallsyms k;
	struct am_kallsyms_set s;
	uint64_t *addrs = malloc(N * sizeof(*addrs));
	size_t i;

	cr_assert_not_null(addrs);
	if (am_kallsyms_load(NULL, &k))
		cr_skip_test("skipped: /proc/kallsyms addresses hidden (needs root)");
	cr_assert_gt(k.n, 1000);
	srand(12);
	/* Inside symbols of the core kernel and of modules, on their first byte, and a few past
	 * the last symbol and below the first. */
	for (i = 0; i < N - 2; i++) {
		size_t j = (size_t)rand() % k.n;
		uint64_t span = j + 1 < k.n ? k.syms[j + 1].addr - k.syms[j].addr : 4096;

		addrs[i] = k.syms[j].addr + (i % 4 == 0 || !span ? 0 : (uint64_t)rand() % span);
	}
	addrs[N - 2] = k.syms[0].addr - 1;
	addrs[N - 1] = k.syms[k.n - 1].addr + 100;
	cr_assert_eq(am_kallsyms_resolve(NULL, addrs, N, &s), 0);
	cr_assert_eq(s.first, k.syms[0].addr);
	for (i = 0; i < N; i++)
		assert_same(&k, &s, addrs[i]);
	am_kallsyms_set_free(&s);
	am_kallsyms_free(&k);
	free(addrs);
}
