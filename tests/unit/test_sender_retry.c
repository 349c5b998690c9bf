/* The sender's retry arithmetic: Retry-After in both of RFC 9110's forms (and what is not one),
 * and the exponential backoff's growth, cap and jitter bounds. */
#include <criterion/criterion.h>
#include <errno.h>

#include "export/sender_retry.h"

/* Sun, 06 Nov 1994 08:49:37 GMT: RFC 9110's example date. */
#define RFC_NOW 784111777

Test(retry_after, delay_seconds)
{
	uint32_t ms = 1;

	cr_assert_eq(am_retry_after_parse("120", RFC_NOW, &ms), 0);
	cr_assert_eq(ms, 120000u);
	cr_assert_eq(am_retry_after_parse("0", RFC_NOW, &ms), 0);
	cr_assert_eq(ms, 0u);
	cr_assert_eq(am_retry_after_parse(" 7 ", RFC_NOW, &ms), 0);
	cr_assert_eq(ms, 7000u);
}

Test(retry_after, http_dates_in_the_three_forms)
{
	uint32_t ms = 0;

	cr_assert_eq(am_retry_after_parse("Sun, 06 Nov 1994 08:49:47 GMT", RFC_NOW, &ms), 0);
	cr_assert_eq(ms, 10000u);
	cr_assert_eq(am_retry_after_parse("Sunday, 06-Nov-94 08:50:37 GMT", RFC_NOW, &ms), 0);
	cr_assert_eq(ms, 60000u);
	cr_assert_eq(am_retry_after_parse("Sun Nov  6 08:49:39 1994", RFC_NOW, &ms), 0);
	cr_assert_eq(ms, 2000u);
}

Test(retry_after, a_date_in_the_past_means_now)
{
	uint32_t ms = 1;

	cr_assert_eq(am_retry_after_parse("Sun, 06 Nov 1994 08:00:00 GMT", RFC_NOW, &ms), 0);
	cr_assert_eq(ms, 0u);
}

Test(retry_after, long_waits_are_capped)
{
	uint32_t ms = 0;

	cr_assert_eq(am_retry_after_parse("86400", RFC_NOW, &ms), 0);
	cr_assert_eq(ms, AM_RETRY_AFTER_MAX_MS);
	cr_assert_eq(am_retry_after_parse("99999999999999999999999", RFC_NOW, &ms), 0);
	cr_assert_eq(ms, AM_RETRY_AFTER_MAX_MS);
	cr_assert_eq(am_retry_after_parse("Fri, 01 Jan 2100 00:00:00 GMT", RFC_NOW, &ms), 0);
	cr_assert_eq(ms, AM_RETRY_AFTER_MAX_MS);
}

Test(retry_after, anything_else_is_refused)
{
	static const char *const bad[] = {
	    "", " ", "-5", "1.5", "5s", "soon", "12 34", "+3", "Sun, 99 Foo 1994"};
	uint32_t ms = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(am_retry_after_parse(bad[i], RFC_NOW, &ms), -EINVAL, "'%s'", bad[i]);
	cr_assert_eq(am_retry_after_parse(NULL, RFC_NOW, &ms), -EINVAL);
	cr_assert_eq(ms, 42u, "a refused value left a wait behind");
}

Test(backoff, grows_by_half_and_stops_at_the_cap)
{
	/* 2^31: a jitter factor of exactly 1. */
	const uint32_t mid = 1u << 31;

	cr_assert_eq(am_backoff_ms(5000, 30000, 0, mid), 5000u);
	cr_assert_eq(am_backoff_ms(5000, 30000, 1, mid), 7500u);
	cr_assert_eq(am_backoff_ms(5000, 30000, 2, mid), 11250u);
	cr_assert_eq(am_backoff_ms(5000, 30000, 10, mid), 30000u);
	cr_assert_eq(am_backoff_ms(5000, 30000, 1000000, mid), 30000u);
}

Test(backoff, jitter_stays_within_half_either_side_and_under_the_cap)
{
	uint32_t lo = am_backoff_ms(1000, 30000, 0, 0), hi = am_backoff_ms(1000, 30000, 0, ~0u);
	uint32_t r, v, seen_lo = ~0u, seen_hi = 0;
	unsigned i;

	cr_assert_eq(lo, 500u);
	cr_assert_geq(hi, 1499u);
	cr_assert_leq(hi, 1500u);
	for (i = 0, r = 12345; i < 1000; i++) {
		r = r * 1103515245u + 12345u;
		v = am_backoff_ms(1000, 30000, 0, r);
		cr_assert(v >= 500 && v <= 1500, "%u", v);
		seen_lo = v < seen_lo ? v : seen_lo;
		seen_hi = v > seen_hi ? v : seen_hi;
	}
	cr_assert_lt(seen_lo, 700u, "jitter does not spread low");
	cr_assert_gt(seen_hi, 1300u, "jitter does not spread high");
	/* At the cap the jitter only shortens the wait. */
	cr_assert_eq(am_backoff_ms(1000, 2000, 50, ~0u), 2000u);
	cr_assert_eq(am_backoff_ms(1000, 2000, 50, 0), 1000u);
}
