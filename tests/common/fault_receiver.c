#include "fault_receiver.h"

#include <criterion/criterion.h>
#include <stdio.h>

#include "http_get.h"

void am_test_receiver_mode(int cport, const char *query)
{
	struct am_http_response r = {0};
	char path[512];

	snprintf(path, sizeof(path), "/mode?%s", query);
	cr_assert_eq(am_http_get("127.0.0.1", cport, path, 5000, &r), 0);
	cr_assert_eq(r.status, 200);
	am_http_response_free(&r);
}
