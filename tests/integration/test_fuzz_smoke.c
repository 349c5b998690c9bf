/* A short run of every parser fuzzer (tests/fuzz/run_smoke.sh: about one second each, seeded
 * from the fixtures). The fuzzers carry their own ASan/UBSan, so the sanitizer copy of this
 * test does not run them a second time. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

Test(fuzz_smoke, every_parser_survives_a_short_run, .timeout = 300)
{
	char *argv[] = {AM_TEST_SRC_DIR "/tests/fuzz/run_smoke.sh", NULL};
	struct am_strbuf out = {0}, err = {0};
	const char *b = AM_TEST_BUILD_DIR;
	int st;

	if (strlen(b) >= 5 && !strcmp(b + strlen(b) - 5, "/asan"))
		cr_skip_test("skipped: run by the normal build (the fuzzers have ASan built in)");
	if (access("/usr/bin/clang", X_OK))
		cr_skip_test("skipped: clang (with libFuzzer) is not installed");
	st = am_test_run(argv, &out, &err);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fuzz smoke failed:\n%s\n%s",
		  out.data ? out.data : "", err.data ? err.data : "");
	cr_assert_not_null(strstr(out.data, "fuzz: kmsg ok"), "%s", out.data);
	cr_assert_not_null(strstr(out.data, "fuzz: stat ok"), "%s", out.data);
	am_strbuf_free(&out);
	am_strbuf_free(&err);
}
