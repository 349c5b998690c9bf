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
