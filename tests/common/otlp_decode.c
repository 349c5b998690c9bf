#include "otlp_decode.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define NODE "/usr/bin/node"

void am_test_require_otlp_decoder(void)
{
	struct stat st;

	if (access(NODE, X_OK))
		cr_skip_test("skipped: node is not installed (scripts/install-deps.sh)");
	if (stat(AM_TEST_SRC_DIR "/tests/tools/otlp/node_modules/@opentelemetry/otlp-transformer",
		 &st))
		cr_skip_test("skipped: tests/tools/otlp/node_modules is missing (npm ci there)");
}

void am_test_otlp_decode(const char *script, const char *mode, const void *buf, size_t len,
			 struct am_strbuf *out)
{
	char *dir = am_test_mkdtemp("otlpdec"), path[512];
	char *argv[] = {NODE, (char *)script, (char *)mode, path, NULL};
	struct am_strbuf err = {0};
	int status;

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/req.pb", dir);
	cr_assert_eq(am_test_write_file(path, buf, len), 0);
	if (!mode)
		argv[2] = path, argv[3] = NULL;
	status = am_test_run(argv, out, &err);
	cr_assert_eq(status, 0, "decoder failed: %s", err.data ? err.data : "");
	am_strbuf_free(&err);
	am_test_rmtree(dir);
	free(dir);
}
