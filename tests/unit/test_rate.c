/* rate: counter deltas across resets and 32/64-bit wraps; keyed rates between cycles. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "collector_testlib.h"
#include "collectors/parse/rate.h"

Test(rate, plain_increase)
{
	cr_assert_eq(am_counter_delta(100, 250, 64), 150);
	cr_assert_eq(am_counter_delta(7, 7, 32), 0);
}

Test(rate, wraps)
{
	cr_assert_eq(am_counter_delta(0xfffffff0u, 0x10, 32), 0x20);
	cr_assert_eq(am_counter_delta(UINT32_MAX, 0, 32), 1);
	cr_assert_eq(am_counter_delta(UINT64_MAX - 5, 4, 64), 10);
	cr_assert_eq(am_counter_delta(UINT64_MAX, 0, 64), 1);
}

Test(rate, resets)
{
	/* From the bottom half of the range: a restart, not a wrap. */
	cr_assert_eq(am_counter_delta(1000, 10, 32), 10);
	cr_assert_eq(am_counter_delta(1ull << 40, 7, 64), 7);
	/* A 64-bit counter near 2^32 is not a 32-bit wrap. */
	cr_assert_eq(am_counter_delta(0xfffffff0ull, 0x10, 64), 0x10);
	/* A "32-bit" counter above 2^32 cannot have wrapped at 2^32. */
	cr_assert_eq(am_counter_delta(1ull << 33, 5, 32), 5);
	/* Top half, but the wrapped distance would be huge: reset. */
	cr_assert_eq(am_counter_delta(0xc0000000u, 0xb0000000u, 32), 0xb0000000u);
}

Test(rate, keyed_rates_and_forgetting)
{
	struct am_rate_table t = {0};
	double r = -1;
	char key[32];
	int i;

	cr_assert_eq(am_rate_update(&t, "a", 100, 1000000000ull, 64, &r), 0);
	cr_assert_eq(am_rate_update(&t, "a", 300, 3000000000ull, 64, &r), 1);
	cr_assert_float_eq(r, 100.0, 1e-9);
	/* Same timestamp: no rate rather than a division by zero. */
	cr_assert_eq(am_rate_update(&t, "a", 400, 3000000000ull, 64, &r), 0);
	/* Many keys force the table to grow; earlier ones survive. */
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		cr_assert_eq(am_rate_update(&t, key, (uint64_t)i, 1, 64, &r), 0);
	}
	cr_assert_eq(am_rate_update(&t, "k7", 17, 1000000001ull, 64, &r), 1);
	cr_assert_float_eq(r, 10.0, 1e-9);
	am_rate_cycle(&t); /* ends the cycle in which everything was updated */
	cr_assert_eq(am_rate_update(&t, "k8", 9, 2000000001ull, 64, &r), 1);
	am_rate_cycle(&t); /* only k8 was updated: the others are forgotten */
	cr_assert_eq(am_rate_update(&t, "k7", 20, 3000000001ull, 64, &r), 0);
	cr_assert_eq(am_rate_update(&t, "k8", 10, 3000000001ull, 64, &r), 1);
	cr_assert_float_eq(r, 1.0, 1e-9);
	am_rate_free(&t);
}

Test(rate, emit_appends_gauges_with_the_counter_labels)
{
	struct am_rate_table t = {0};
	struct am_metric_set s = {0};

	am_metric_add(&s, AM_METRIC_DESC(.name = "c_total", .help = "c", .type = AM_METRIC_COUNTER),
		      10, "device", "a", NULL);
	am_metric_add(&s, AM_METRIC_DESC(.name = "c_total", .help = "c", .type = AM_METRIC_COUNTER),
		      5, "device", "b", NULL);
	am_rate_emit(
	    &t, &s, 0, "c_total",
	    AM_METRIC_DESC(.name = "c_per_second", .help = "rate", .type = AM_METRIC_GAUGE),
	    1000000000ull, 1);
	cr_assert_eq(s.n, 2);
	am_metric_set_reset(&s);
	am_metric_add(&s, AM_METRIC_DESC(.name = "other", .help = "o", .type = AM_METRIC_GAUGE), 1,
		      NULL);
	am_metric_add(&s, AM_METRIC_DESC(.name = "c_total", .help = "c", .type = AM_METRIC_COUNTER),
		      30, "device", "a", NULL);
	/* b restarted from zero: counted as 2 since the reset. */
	am_metric_add(&s, AM_METRIC_DESC(.name = "c_total", .help = "c", .type = AM_METRIC_COUNTER),
		      2, "device", "b", NULL);
	am_rate_emit(
	    &t, &s, 0, "c_total",
	    AM_METRIC_DESC(.name = "c_per_second", .help = "rate", .type = AM_METRIC_GAUGE),
	    3000000000ull, 1);
	cr_assert_eq(s.n, 5);
	cr_assert_float_eq(VALUE(&s, "c_per_second", "device", "a"), 10.0, 1e-9);
	cr_assert_float_eq(VALUE(&s, "c_per_second", "device", "b"), 1.0, 1e-9);
	cr_assert_eq(find_metric(&s, "c_per_second", "device", "a", NULL)->desc->type,
		     AM_METRIC_GAUGE);
	am_metric_set_free(&s);
	am_rate_free(&t);
}

Test(rate, emit_scales_milliseconds)
{
	struct am_rate_table t = {0};
	struct am_metric_set s = {0};

	am_metric_add(
	    &s, AM_METRIC_DESC(.name = "io_seconds_total", .help = "x", .type = AM_METRIC_COUNTER),
	    1.5, NULL);
	am_rate_emit(&t, &s, 0, "io_seconds_total",
		     AM_METRIC_DESC(.name = "io_ratio", .help = "x", .type = AM_METRIC_GAUGE),
		     1000000000ull, 1000);
	am_metric_set_reset(&s);
	am_metric_add(
	    &s, AM_METRIC_DESC(.name = "io_seconds_total", .help = "x", .type = AM_METRIC_COUNTER),
	    2.0, NULL);
	am_rate_emit(&t, &s, 0, "io_seconds_total",
		     AM_METRIC_DESC(.name = "io_ratio", .help = "x", .type = AM_METRIC_GAUGE),
		     2000000000ull, 1000);
	cr_assert_float_eq(VALUE(&s, "io_ratio"), 0.5, 1e-12);
	am_metric_set_free(&s);
	am_rate_free(&t);
}
