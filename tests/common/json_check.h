/* A strict JSON validator for tests (RFC 8259): renderers' output must parse, not just look
 * right. */
#ifndef ANTIMETAL_TESTS_JSON_CHECK_H
#define ANTIMETAL_TESTS_JSON_CHECK_H

#include <stddef.h>

/* Nonzero when S[0..LEN) is exactly one JSON value, with optional surrounding whitespace. */
int am_test_json_valid(const char *s, size_t len);

#endif
