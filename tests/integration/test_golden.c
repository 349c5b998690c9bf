/* Golden end-to-end output, node_exporter's way: `antimetal-agent collect --all` over the real
 * fixture tree (tests/fixtures/{proc,sys,dev}/real), in both formats, must equal the checked-in
 * files under tests/fixtures/golden/ byte for byte. Any change to a metric's name, help, labels,
 * value or order shows up here as a diff.
 *
 * After an intended change, regenerate and review the diff before committing:
 *     make golden-update        (AM_GOLDEN_UPDATE=1 build/tests/integration/test_golden) */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define AGENT	 AM_TEST_BUILD_DIR "/antimetal-agent"
#define FIXTURES AM_TEST_SRC_DIR "/tests/fixtures"
#define GOLDEN	 FIXTURES "/golden"

/* The fixtures' figures in ticks and pages were recorded where these hold (x86-64 Linux);
 * elsewhere the same files mean other values, so the comparison would say nothing. */
static void require_recording_host(void)
{
	if (sysconf(_SC_CLK_TCK) != 100 || sysconf(_SC_PAGESIZE) != 4096)
		cr_skip_test(
		    "skipped: the golden files assume USER_HZ 100 and 4 KiB pages, this host "
		    "has %ld and %ld",
		    sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
}

/* The one host-dependent part of the output, the collection time, made constant; and in JSON
 * one metric a line, so that a difference diffs as the metric that changed. */
static void normalize(struct am_strbuf *b)
{
	struct am_strbuf out = {0};
	regmatch_t m;
	regex_t re;
	const char *p = b->data ? b->data : "";

	cr_assert_eq(regcomp(&re, "\"timestamp_ns\":[0-9]+", REG_EXTENDED), 0);
	while (!regexec(&re, p, 1, &m, 0)) {
		am_strbuf_append(&out, p, (size_t)m.rm_so);
		am_strbuf_puts(&out, "\"timestamp_ns\":0");
		p += m.rm_eo;
	}
	am_strbuf_puts(&out, p);
	regfree(&re);
	am_strbuf_free(b);
	*b = (struct am_strbuf){0};
	for (p = out.data ? out.data : ""; *p; p++) {
		am_strbuf_putc(b, *p);
		if ((*p == ',' || *p == '[') && !strncmp(p + 1, "{\"name\":", 8))
			am_strbuf_putc(b, '\n');
	}
	am_strbuf_free(&out);
}

/* Every collector over the real fixtures in FORMAT; asserts a clean run. uname, os, time,
 * timex and filesystem are left out: they ask the running kernel (uname(2), adjtimex(2), the
 * clock, statfs(2)) or the root file system, not the fixture roots, so their output is this
 * host's and cannot be golden; their parsers have fixture tests of their own. */
static void collect_all(const char *format, struct am_strbuf *out)
{
	char *argv[] = {AGENT,	    "collect",
			"load",	    "cpu",
			"memory",   "disk",
			"network",  "tcp",
			"pressure", "processes",
			"cgroup",   "kmsg",
			"hardware", "filefd",
			"entropy",  "conntrack",
			"softnet",  "udp_queues",
			"arp",	    "selinux",
			"self",	    "netclass",
			"textfile", "edac",
			"--procfs", FIXTURES "/proc/real",
			"--sysfs",  FIXTURES "/sys/real",
			"--devfs",  FIXTURES "/dev/real",
			"--format", (char *)format,
			NULL};
	struct am_strbuf err = {0};
	int st;

	cr_assert_eq(access(AGENT, X_OK), 0, "%s not built", AGENT);
	st = am_test_run(argv, out, &err);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "collect --all exited %d: %s", st,
		  err.data ? err.data : "");
	/* A warning means a fixture file was not understood: that is a difference too. */
	cr_assert(!err.len, "collect --all warned:\n%s", err.data);
	am_strbuf_free(&err);
	normalize(out);
}

/* Compare OUT with GOLDEN/NAME, failing with a unified diff; or rewrite the file when
 * AM_GOLDEN_UPDATE=1. */
static void check_golden(const char *name, const struct am_strbuf *out)
{
	char path[4096], actual[4096];
	struct am_strbuf want = {0}, diff = {0};
	const char *update = getenv("AM_GOLDEN_UPDATE");
	char *tmp;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN, name);
	if (update && !strcmp(update, "1")) {
		cr_assert_eq(am_test_write_file(path, out->data, out->len), 0, "writing %s", path);
		cr_log_info("golden: rewrote %s (%zu bytes)", path, out->len);
		return;
	}
	cr_assert_eq(am_test_read_file(path, &want), 0,
		     "%s missing: run `make golden-update` to create it", path);
	if (want.len == out->len && (!want.len || !memcmp(want.data, out->data, want.len))) {
		am_strbuf_free(&want);
		return;
	}
	tmp = am_test_mkdtemp("golden");
	cr_assert_not_null(tmp);
	snprintf(actual, sizeof(actual), "%s/%s", tmp, name);
	cr_assert_eq(am_test_write_file(actual, out->data, out->len), 0);
	am_test_run((char *[]){"/usr/bin/diff", "-u", path, actual, NULL}, &diff, NULL);
	am_test_rmtree(tmp);
	free(tmp);
	cr_assert_fail(
	    "collect --all differs from %s (if intended: make golden-update, then review "
	    "git diff):\n%.20000s",
	    path, diff.data ? diff.data : "(diff printed nothing)");
}

Test(golden, collect_all_prometheus_text_matches)
{
	struct am_strbuf out = {0};

	require_recording_host();
	collect_all("prom", &out);
	check_golden("collect_all.prom", &out);
	am_strbuf_free(&out);
}

Test(golden, collect_all_json_matches)
{
	struct am_strbuf out = {0};

	require_recording_host();
	collect_all("json", &out);
	check_golden("collect_all.json", &out);
	am_strbuf_free(&out);
}
