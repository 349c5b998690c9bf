#include "export/otlp_body.h"

#include <errno.h>
#include <stdlib.h>

#include "util/gzip.h"

int am_otlp_body_finish(void *buf, size_t len, bool gzip, void **out, size_t *outlen)
{
	struct am_strbuf z = {0};
	int rc;

	*out = NULL;
	*outlen = 0;
	if (!gzip) {
		*out = buf;
		*outlen = len;
		return 0;
	}
	rc = am_gzip(buf, len, &z);
	free(buf);
	if (rc || z.oom) {
		am_strbuf_free(&z);
		return -ENOMEM; /* zlib fails on memory only, for a whole buffer in memory */
	}
	*out = z.data;
	*outlen = z.len;
	return 0;
}
