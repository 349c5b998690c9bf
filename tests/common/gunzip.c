#include "gunzip.h"

#include <criterion/criterion.h>
#include <string.h>
#include <zlib.h>

void am_test_gunzip(const void *data, size_t len, struct am_strbuf *out)
{
	unsigned char chunk[65536];
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK); /* 16: gzip header, not zlib's */
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = inflate(&z, Z_NO_FLUSH);
		cr_assert(rc == Z_OK || rc == Z_STREAM_END, "not gzip: inflate %d", rc);
		am_strbuf_append(out, chunk, sizeof(chunk) - z.avail_out);
	} while (rc != Z_STREAM_END);
	inflateEnd(&z);
	am_strbuf_putc(out, '\0');
	out->len--;
}
