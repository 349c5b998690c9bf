/* The JSON writer must produce valid, lossless output for hostile bytes. */
#include <criterion/criterion.h>
#include <string.h>

#include "util/json.h"

static char *render_bytes(const void *data, size_t len, struct am_strbuf *b)
{
	am_strbuf_reset(b);
	am_json_bytes(b, data, len);
	return b->data;
}

Test(json, escapes_quotes_backslashes_and_controls)
{
	struct am_strbuf b = {0};

	cr_assert_str_eq(render_bytes("a \"b\" \\c\n\t\x01\x7f", 12, &b),
			 "\"a \\\"b\\\" \\\\c\\n\\t\\u0001\\u007f\"");
	am_strbuf_free(&b);
}

Test(json, keeps_valid_utf8_verbatim)
{
	struct am_strbuf b = {0};

	cr_assert_str_eq(render_bytes("h\xc3\xa9llo \xe2\x9c\x93", 10, &b),
			 "\"h\xc3\xa9llo \xe2\x9c\x93\"");
	am_strbuf_free(&b);
}

Test(json, invalid_utf8_and_nul_become_base64)
{
	struct am_strbuf b = {0};

	cr_assert_str_eq(render_bytes("a\xff", 2, &b), "{\"base64\":\"Yf8=\"}");
	cr_assert_str_eq(render_bytes("a\0b", 3, &b), "{\"base64\":\"YQBi\"}");
	/* overlong encoding and a lone surrogate are not UTF-8 */
	cr_assert_eq(am_utf8_valid("\xc0\xaf", 2), 0);
	cr_assert_eq(am_utf8_valid("\xed\xa0\x80", 3), 0);
	cr_assert_eq(am_utf8_valid("\xf4\x90\x80\x80", 4), 0);
	cr_assert_eq(am_utf8_valid("", 0), 1);
	am_strbuf_free(&b);
}

Test(json, empty_string_and_doubles)
{
	struct am_strbuf b = {0};

	cr_assert_str_eq(render_bytes("", 0, &b), "\"\"");
	am_strbuf_reset(&b);
	am_json_kv_double(&b, "x", 0.0 / 0.0, true);
	am_json_kv_double(&b, "y", 1.5, false);
	cr_assert_str_eq(b.data, "\"x\":null,\"y\":1.5");
	am_strbuf_free(&b);
}

Test(json, base64_matches_rfc4648_vectors)
{
	const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	struct am_strbuf b = {0};
	size_t i;

	for (i = 0; i < 7; i++) {
		am_strbuf_reset(&b);
		am_base64(&b, in[i], strlen(in[i]));
		cr_assert_str_eq(b.len ? b.data : "", want[i]);
	}
	am_strbuf_free(&b);
}
