/* The header lines both senders (OTLP, remote_write) are given: built by one function with one
 * set of checks, HTTP's own headers refused for both, the protocol's own for its sender, and no
 * message quoting a value (it may be a credential). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "agent/otel_env.h"
#include "export/http_headers.h"

Test(http_headers, lines_are_name_colon_value_in_order)
{
	struct am_http_headers h = {0};
	char why[256];

	cr_assert_eq(am_http_headers_add(&h, "X-Scope-OrgID", "team-a", NULL, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(am_http_headers_add(&h, "api-key", "s e,cret", NULL, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(h.n, 2);
	cr_assert_str_eq(h.lines[0], "X-Scope-OrgID: team-a");
	cr_assert_str_eq(h.lines[1], "api-key: s e,cret");
	cr_assert(am_http_headers_has(&h, "x-scope-orgid"));
	cr_assert_not(am_http_headers_has(&h, "X-Scope"));
	am_http_headers_free(&h);
	cr_assert_eq(h.n, 0);
	cr_assert_null(h.lines);
}

Test(http_headers, names_must_be_tokens_and_values_free_of_control_characters)
{
	struct am_http_headers h = {0};
	char why[256];

	cr_assert_eq(am_http_header_check("X Bad", "1", NULL, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "'X Bad' is not a valid header name");
	cr_assert_eq(
	    am_http_header_check("Authorization: Bearer s3cret", "", NULL, why, sizeof(why)),
	    -EINVAL);
	cr_assert_str_eq(why, "'Authorization...' is not a valid header name");
	cr_assert_eq(am_http_header_check("", "1", NULL, why, sizeof(why)), -EINVAL);
	cr_assert_eq(am_http_headers_add(&h, "X-A", "tok\r\nX-Evil: 1", NULL, why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "the value of X-A has a control character");
	cr_assert_eq(h.n, 0, "nothing added on a refusal");
	cr_assert_eq(am_http_header_check("X-A", "a\x7f", NULL, why, sizeof(why)), -EINVAL);
	cr_assert_eq(am_http_header_check("X-A", "", NULL, why, sizeof(why)), 0,
		     "empty is a value");
}

Test(http_headers, protocol_headers_refused_for_every_sender_and_the_callers_own)
{
	static const char *const http[] = {
	    "Content-Type",	 "content-encoding", "Content-Length", "HOST",
	    "Transfer-Encoding", "Connection",	     "Expect",	       "Upgrade"};
	static const char *const rw[] = {"X-Prometheus-Remote-Write-Version", NULL};
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(http) / sizeof(http[0]); i++) {
		cr_assert_eq(am_http_header_check(http[i], "x", NULL, why, sizeof(why)), -EINVAL,
			     "%s accepted", http[i]);
		cr_assert_not_null(strstr(why, "is set by the protocol"), "%s", why);
	}
	cr_assert_eq(
	    am_http_header_check("X-Prometheus-Remote-Write-Version", "2", NULL, why, sizeof(why)),
	    0, "not reserved unless the caller says so");
	cr_assert_eq(
	    am_http_header_check("x-prometheus-remote-write-version", "2", rw, why, sizeof(why)),
	    -EINVAL);
	cr_assert_eq(am_http_header_check("User-Agent", "probe/1", rw, why, sizeof(why)), 0,
		     "the user may replace it");
	cr_assert_eq(am_http_header_check("Authorization", "Bearer t", NULL, why, sizeof(why)), 0,
		     "OTLP's only way to send credentials");
}

/* The agent's side: "k=v" lists (OTEL_EXPORTER_OTLP_HEADERS' form) into checked lines. */
Test(http_headers, otel_lists_build_through_the_same_checks)
{
	static const char *const rw[] = {"X-Prometheus-Remote-Write-Version", NULL};
	struct am_http_headers h = {0};
	char why[256];

	cr_assert_eq(am_otel_headers_build("Authorization=Bearer%20abc, x-tenant = a ", NULL, &h,
					   why, sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(h.n, 2);
	cr_assert_str_eq(h.lines[0], "Authorization: Bearer abc");
	cr_assert_str_eq(h.lines[1], "x-tenant: a");
	am_http_headers_free(&h);
	cr_assert_eq(am_otel_headers_build("Content-Type=text/plain", NULL, &h, why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "Content-Type is set by the protocol, not a header to configure");
	am_http_headers_free(&h);
	cr_assert_eq(
	    am_otel_headers_build("X-Prometheus-Remote-Write-Version=2", rw, &h, why, sizeof(why)),
	    -EINVAL);
	am_http_headers_free(&h);
	cr_assert_eq(am_otel_headers_check("a b=1", why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "'a b' is not a valid header name");
	cr_assert_eq(am_otel_headers_check("novalue", why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "'novalue' is not key=value");
}
