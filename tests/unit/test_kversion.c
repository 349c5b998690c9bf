/* Kernel release parsing and ordering on strings taken from real distributions. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/utsname.h>

#include "core/kversion.h"

struct row {
	const char *release;
	unsigned int major, minor, patch, rc;
	const char *extra;
};

static const struct row rows[] = {
    {"4.18.0-553.el8_10.x86_64", 4, 18, 0, 0, "-553.el8_10.x86_64"},
    {"5.15.0-1034-aws", 5, 15, 0, 0, "-1034-aws"},
    {"6.18.44-fc-v782", 6, 18, 44, 0, "-fc-v782"},
    {"5.4.0-rc1", 5, 4, 0, 1, "-rc1"},
    {"6.1.0-28-cloud-amd64", 6, 1, 0, 0, "-28-cloud-amd64"},
    {"5.10.226", 5, 10, 226, 0, ""},
    {"6.8", 6, 8, 0, 0, ""},
    {"6.11.0-rc7-next-20240913", 6, 11, 0, 7, "-rc7-next-20240913"},
    {"4.19.0+", 4, 19, 0, 0, "+"},
    {"5.14.0-427.13.1.el9_4.aarch64", 5, 14, 0, 0, "-427.13.1.el9_4.aarch64"},
    {"6.5.0_custom", 6, 5, 0, 0, "_custom"},
};

Test(kversion, parses_real_world_releases)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct am_kver v;

		cr_assert_eq(am_kver_parse(rows[i].release, &v), 0, "%s", rows[i].release);
		cr_assert_eq(v.major, rows[i].major, "%s", rows[i].release);
		cr_assert_eq(v.minor, rows[i].minor, "%s", rows[i].release);
		cr_assert_eq(v.patch, rows[i].patch, "%s", rows[i].release);
		cr_assert_eq(v.rc, rows[i].rc, "%s", rows[i].release);
		cr_assert_str_eq(v.extra, rows[i].extra, "%s", rows[i].release);
	}
}

Test(kversion, rejects_malformed)
{
	static const char *const bad[] = {
	    "",	      "linux",		 "5",	   "5.",     ".5",     "5..1",	       "5.x",
	    "5.4.",   "5.4.x",		 "-5.4.0", " 5.4.0", "5.4.0 ", "5.4.0garbage", "5.4.0.1",
	    "v5.4.0", "99999999999.1.0", "5,4,0",
	};
	size_t i;
	struct am_kver v;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(am_kver_parse(bad[i], &v), -EINVAL, "accepted \"%s\"", bad[i]);
	cr_assert_eq(am_kver_parse(NULL, &v), -EINVAL);
}

static int cmp(const char *a, const char *b)
{
	struct am_kver x, y;

	cr_assert_eq(am_kver_parse(a, &x), 0, "%s", a);
	cr_assert_eq(am_kver_parse(b, &y), 0, "%s", b);
	return am_kver_cmp(&x, &y);
}

Test(kversion, orders_versions)
{
	cr_assert_lt(cmp("4.18.0-553.el8_10.x86_64", "5.4.0-rc1"), 0);
	cr_assert_lt(cmp("5.4.0-rc1", "5.4.0"), 0);
	cr_assert_lt(cmp("5.4.0-rc1", "5.4.0-rc2"), 0);
	cr_assert_gt(cmp("5.4.1", "5.4.0-rc9"), 0);
	cr_assert_lt(cmp("5.9.16", "5.10.0"), 0, "numeric, not lexical");
	cr_assert_eq(cmp("5.15.0-1034-aws", "5.15.0-91-generic"), 0, "suffix does not count");
	cr_assert_gt(cmp("6.18.44-fc-v782", "6.1.0-28-cloud-amd64"), 0);
	cr_assert_eq(cmp("6.8", "6.8.0"), 0);
}

Test(kversion, at_least_gates_features)
{
	struct am_kver v;

	cr_assert_eq(am_kver_parse("5.15.0-1034-aws", &v), 0);
	cr_assert(am_kver_at_least(&v, 5, 15, 0));
	cr_assert(am_kver_at_least(&v, 5, 8, 0));
	cr_assert_not(am_kver_at_least(&v, 5, 16, 0));
	cr_assert_eq(am_kver_parse("5.8.0-rc3", &v), 0);
	cr_assert(am_kver_at_least(&v, 5, 8, 0), "an rc has the features of its release");
	cr_assert_eq(am_kver_parse("4.18.0-553.el8_10.x86_64", &v), 0);
	cr_assert_not(am_kver_at_least(&v, 5, 2, 0));
}

Test(kversion, version_code)
{
	struct am_kver v;

	cr_assert_eq(am_kver_parse("4.18.0-553.el8_10.x86_64", &v), 0);
	cr_assert_eq(am_kver_code(&v), 0x041200u);
	cr_assert_eq(am_kver_parse("4.9.337", &v), 0);
	cr_assert_eq(am_kver_code(&v), (4u << 16) + (9u << 8) + 255u, "patch saturates");
}

Test(kversion, host_release_parses)
{
	struct utsname u;
	struct am_kver v;

	cr_assert_eq(uname(&u), 0);
	cr_assert_eq(am_kver_host(&v), 0, "uname -r \"%s\" rejected", u.release);
	cr_assert_geq(v.major, 3);
}
