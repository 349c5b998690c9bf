/* Basic authentication against bcrypt hashes: right and wrong passwords, unknown users, the
 * cache of successes, and the budget that keeps a flood of guesses from taking the loop. */
#include <criterion/criterion.h>
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "export/basic_auth.h"
#include "testutil.h"

static void hash_of(const char *pass, unsigned long cost, char *out, size_t len)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd = {0};

	cr_assert_not_null(crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, sizeof(salt)));
	cr_assert_not_null(crypt_r(pass, salt, &cd));
	cr_assert_lt(strlen(cd.output), len);
	memcpy(out, cd.output, strlen(cd.output) + 1);
}

Test(basic_auth, only_bcrypt_hashes_are_taken)
{
	struct am_basic_auth a = {0};
	char h[128];

	hash_of("pw", 4, h, sizeof(h));
	cr_assert(am_basic_auth_hash_ok(h));
	cr_assert(!am_basic_auth_hash_ok("pw"));
	cr_assert(!am_basic_auth_hash_ok("$6$salt$abcdef")); /* SHA-512 crypt: not bcrypt */
	cr_assert(!am_basic_auth_hash_ok("$2y$99$abcdefghijklmnopqrstuu"));
	cr_assert_eq(am_basic_auth_add(&a, "u", "plain"), -EINVAL);
	cr_assert_eq(am_basic_auth_add(&a, "u", h), 0);
	am_basic_auth_free(&a);
}

Test(basic_auth, right_wrong_unknown_and_missing)
{
	struct am_basic_auth a = {0};
	char h[128];

	hash_of("s3cret", 4, h, sizeof(h));
	cr_assert_eq(am_basic_auth_add(&a, "prom", h), 0);
	cr_assert_eq(am_basic_auth_check(&a, "prom", "s3cret"), AM_AUTH_OK);
	cr_assert_eq(am_basic_auth_check(&a, "prom", "s3cret"), AM_AUTH_OK); /* cached */
	cr_assert_eq(am_basic_auth_check(&a, "prom", "s3cre"), AM_AUTH_DENIED);
	cr_assert_eq(am_basic_auth_check(&a, "other", "s3cret"), AM_AUTH_DENIED);
	cr_assert_eq(am_basic_auth_check(&a, NULL, NULL), AM_AUTH_DENIED);
	cr_assert_eq(a.denied, 3);
	am_basic_auth_free(&a);
}

/* Cost 12 takes tens of milliseconds a check: guesses run out of budget within the second,
 * and a scraper whose success is cached still gets in. */
Test(basic_auth, guesses_are_budgeted_and_a_cached_scraper_still_gets_in, .timeout = 60)
{
	struct am_basic_auth a = {0};
	long long t0;
	char h[128], guess[32];
	int i, busy = 0;

	hash_of("right", 12, h, sizeof(h));
	cr_assert_eq(am_basic_auth_add(&a, "prom", h), 0);
	cr_assert_eq(am_basic_auth_check(&a, "prom", "right"), AM_AUTH_OK);
	t0 = am_test_now_ms();
	for (i = 0; i < 200 && am_test_now_ms() - t0 < 900; i++) {
		snprintf(guess, sizeof(guess), "guess%d", i);
		busy += am_basic_auth_check(&a, "prom", guess) == AM_AUTH_BUSY;
	}
	cr_assert_gt(busy, 0, "200 guesses never ran out of budget");
	cr_assert_eq(a.throttled, (uint64_t)busy);
	cr_assert_eq(am_basic_auth_check(&a, "prom", "right"), AM_AUTH_OK);
	am_basic_auth_free(&a);
}
