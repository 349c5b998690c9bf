/* OTLP log records, decoded by the decoders npm's @opentelemetry/otlp-transformer generated
 * from the official protos (tests/tools/otlp_logs_decode.js): exact attributes for exec and
 * exit records, hostile arguments kept byte for byte, the syslog severity mapping of kernel log
 * records, the resource, gzip. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/otlp_logs.h"
#include "otlp_decode.h"
#include "testutil.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

#define DECODER AM_TEST_SRC_DIR "/tests/tools/otlp_logs_decode.js"

/* Encode B, decode it with node; the decoder's JSON lines in OUT. */
static void decode(const struct am_otlp_logs *b,
		   const Opentelemetry__Proto__Resource__V1__Resource *res, bool gzip,
		   struct am_strbuf *out)
{
	void *buf;
	size_t len;

	cr_assert_eq(am_otlp_logs_encode(b, res, gzip, &buf, &len), 0);
	if (gzip)
		cr_assert(len > 2 && ((unsigned char *)buf)[0] == 0x1f);
	am_test_otlp_decode(DECODER, NULL, buf, len, out);
	free(buf);
}

static void expect_has(const struct am_strbuf *out, const char *needle)
{
	cr_expect(out->data && strstr(out->data, needle), "missing %s in\n%s", needle,
		  out->data ? out->data : "(nothing)");
}

static char long_arg[5000];

static struct am_exec_arg hostile[] = {
    {"/bin/true", 9},	{"", 0},	   {"new\nline", 8}, {"\xff\xfe-not-utf8", 11},
    {"caf\xc3\xa9", 5}, {"say \"hi\"", 8}, {NULL, 0},
};

static struct am_exec_record exec_record(void)
{
	struct am_exec_record r = {0};

	memset(long_arg, 'x', sizeof(long_arg));
	hostile[6].data = long_arg;
	hostile[6].len = sizeof(long_arg);
	r.kind = AM_EXEC_EVENT;
	r.ts_real_ns = 1764077056123456789ull;
	r.pid = 4242;
	r.tid = 4242;
	r.ppid = 17;
	r.uid = 1000;
	r.gid = 100;
	r.cgroup_id = 9876;
	r.cgroup_path =
	    "/system.slice/"
	    "docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope";
	r.container_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	r.container_runtime = "docker";
	snprintf(r.comm, sizeof(r.comm), "true");
	r.filename.data = "/bin/true";
	r.filename.len = 9;
	r.argv = hostile;
	r.argc = sizeof(hostile) / sizeof(hostile[0]);
	return r;
}

Test(otlp_logs, exec_record_has_the_process_conventions_and_exact_arguments)
{
	struct am_otlp_logs b = {0};
	struct am_exec_record r;
	struct am_strbuf out = {0}, want = {0};

	am_test_require_otlp_decoder();
	r = exec_record();
	cr_assert_eq(am_otlp_logs_add_exec(&b, &r, 1764077056200000000ull), 0);
	cr_assert_eq(b.nrecords, 1);
	decode(&b, NULL, false, &out);
	expect_has(&out, "\"time\":\"1764077056123456789\"");
	expect_has(&out, "\"observed\":\"1764077056200000000\"");
	expect_has(&out, "\"severity\":9,\"severityText\":\"INFO\"");
	expect_has(&out, "\"eventName\":\"process.exec\"");
	expect_has(&out, "\"process.pid\":4242");
	expect_has(&out, "\"process.parent_pid\":17");
	expect_has(&out, "\"process.user.id\":1000");
	expect_has(&out, "\"process.executable.path\":\"/bin/true\"");
	expect_has(&out, "\"process.executable.name\":\"true\"");
	expect_has(&out, "\"process.command\":\"/bin/true\"");
	expect_has(&out, "\"container.id\":"
			 "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"");
	expect_has(&out, "\"container.runtime\":\"docker\"");
	expect_has(&out, "\"process.linux.cgroup\":\"0::/system.slice/docker-0123456789abcdef");
	expect_has(&out, "\"antimetal.cgroup.id\":9876");
	/* Every argument exactly: empty kept, newline kept, not-UTF-8 as bytes, 5000 bytes whole.
	 */
	am_strbuf_puts(
	    &want, "\"process.command_args\":[\"/bin/true\",\"\",\"new\\nline\","
		   "{\"bytes\":\"fffe2d6e6f742d75746638\"},\"caf\xc3\xa9\",\"say \\\"hi\\\"\",\"");
	for (size_t i = 0; i < sizeof(long_arg); i++)
		am_strbuf_putc(&want, 'x');
	am_strbuf_puts(&want, "\"]");
	expect_has(&out, want.data);
	/* The body is the readable command line: hostile bytes shell-escaped, valid UTF-8. */
	expect_has(&out, "\"body\":\"/bin/true '' $'new\\\\nline' $'\\\\xff\\\\xfe-not-utf8' "
			 "'caf\xc3\xa9' 'say \\\"hi\\\"' xxxx");
	cr_expect_null(strstr(out.data, "truncated"));
	am_strbuf_free(&want);
	am_strbuf_free(&out);
	am_otlp_logs_free(&b);
}

Test(otlp_logs, failed_exec_is_a_warning_with_its_error)
{
	struct am_otlp_logs b = {0};
	struct am_exec_record r = exec_record();
	struct am_strbuf out = {0};

	am_test_require_otlp_decoder();
	r.ret = -2;
	r.argc = 1;
	r.args_truncated = true;
	cr_assert_eq(am_otlp_logs_add_exec(&b, &r, 1), 0);
	decode(&b, NULL, false, &out);
	expect_has(&out, "\"severity\":13,\"severityText\":\"WARN\"");
	expect_has(&out, "\"error.type\":\"ENOENT\"");
	expect_has(&out, "\"antimetal.exec.errno\":2");
	expect_has(&out, "\"antimetal.process.command_args.truncated\":true");
	expect_has(&out, "\"body\":\"/bin/true [failed: ENOENT]\"");
	am_strbuf_free(&out);
	am_otlp_logs_free(&b);
}

Test(otlp_logs, exit_record_has_its_exit_code_or_signal)
{
	struct am_otlp_logs b = {0};
	struct am_exec_record r = {0};
	struct am_strbuf out = {0};

	am_test_require_otlp_decoder();
	r.kind = AM_EXIT_EVENT;
	r.ts_real_ns = 5000000000ull;
	r.pid = 77;
	r.ppid = 1;
	r.exit_code = 3;
	r.lifetime_ns = 1500000;
	snprintf(r.comm, sizeof(r.comm), "worker");
	cr_assert_eq(am_otlp_logs_add_exec(&b, &r, 6000000000ull), 0);
	r.exit_code = 0;
	r.exit_signal = 9;
	cr_assert_eq(am_otlp_logs_add_exec(&b, &r, 6000000000ull), 0);
	cr_assert_eq(b.nrecords, 2);
	decode(&b, NULL, false, &out);
	expect_has(&out, "\"eventName\":\"process.exit\"");
	expect_has(&out, "\"process.exit.code\":3");
	expect_has(&out, "\"body\":\"worker (pid 77) exited with code 3 after 1.500 ms\"");
	expect_has(&out, "\"antimetal.process.exit.signal\":9");
	expect_has(&out, "\"body\":\"worker (pid 77) killed by SIGKILL after 1.500 ms\"");
	expect_has(&out, "\"antimetal.process.lifetime_ns\":1500000");
	am_strbuf_free(&out);
	am_otlp_logs_free(&b);
}

Test(otlp_logs, syslog_levels_map_to_the_data_model_severities)
{
	static const int want[8] = {21, 19, 18, 17, 13, 10, 9, 5};
	static const char *const text[8] = {"emerg",   "alert",	 "crit", "err",
					    "warning", "notice", "info", "debug"};
	struct am_otlp_logs b = {0};
	struct am_strbuf out = {0};
	char needle[256], msg[64];
	int lvl;

	am_test_require_otlp_decoder();
	for (lvl = 0; lvl < 8; lvl++) {
		struct am_kmsg_event k = {.seq = 100 + (uint64_t)lvl,
					  .ts_boot_us = 1234567,
					  .ts_real_ns = 1764077000000000000ull + (uint64_t)lvl,
					  .severity = lvl,
					  .facility = 0};

		cr_expect_eq(am_otlp_syslog_severity(lvl), want[lvl]);
		snprintf(msg, sizeof(msg), "level %d message", lvl);
		k.text = msg;
		k.len = strlen(msg);
		cr_assert_eq(am_otlp_logs_add_kmsg(&b, &k, 1764077000500000000ull), 0);
	}
	cr_expect_eq(am_otlp_syslog_severity(8), 0);
	cr_expect_eq(am_otlp_syslog_severity(-1), 0);
	decode(&b, NULL, true, &out);
	for (lvl = 0; lvl < 8; lvl++) {
		snprintf(
		    needle, sizeof(needle),
		    "{\"time\":\"%llu\",\"observed\":\"1764077000500000000\",\"severity\":%d,"
		    "\"severityText\":\"%s\",\"eventName\":\"\",\"body\":\"level %d message\","
		    "\"attributes\":{\"syslog.facility.code\":0,\"antimetal.kmsg.sequence\":%d,"
		    "\"antimetal.kmsg.boot_time_us\":1234567}",
		    1764077000000000000ull + (unsigned long long)lvl, want[lvl], text[lvl], lvl,
		    100 + lvl);
		expect_has(&out, needle);
	}
	am_strbuf_free(&out);
	am_otlp_logs_free(&b);
}

Test(otlp_logs, kernel_text_is_whole_and_bytes_when_not_utf8)
{
	static const char oom[] =
	    "Out of memory: Killed process 1234 (stress) total-vm:1048576kB, anon-rss:524288kB, "
	    "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1100kB oom_score_adj:0";
	struct am_kmsg_event k = {.seq = 1, .severity = 3, .facility = 0};
	struct am_otlp_logs b = {0};
	struct am_strbuf out = {0};

	am_test_require_otlp_decoder();
	k.text = oom;
	k.len = sizeof(oom) - 1;
	cr_assert_eq(am_otlp_logs_add_kmsg(&b, &k, 1), 0);
	k.text = "usb \xff\x80 garbage\nsecond line";
	k.len = strlen(k.text);
	k.facility = 1;
	cr_assert_eq(am_otlp_logs_add_kmsg(&b, &k, 1), 0);
	decode(&b, NULL, false, &out);
	expect_has(&out, "\"severity\":17,\"severityText\":\"err\"");
	expect_has(&out, oom);
	expect_has(&out, "\"body\":{\"bytes\":\"75736220ff802067617262616765");
	expect_has(&out, "0a7365636f6e64206c696e65\"}");
	expect_has(&out, "\"syslog.facility.code\":1");
	am_strbuf_free(&out);
	am_otlp_logs_free(&b);
}

Test(otlp_logs, resource_and_scope_frame_every_record)
{
	AnyValue v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	KeyValue kv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT, *kvs[1] = {&kv};
	Opentelemetry__Proto__Resource__V1__Resource res =
	    OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	struct am_kmsg_event k = {.seq = 1, .severity = 6, .text = "hello", .len = 5};
	struct am_otlp_logs b = {0};
	struct am_strbuf out = {0};
	size_t before;
	const char *p;
	int i;

	am_test_require_otlp_decoder();
	v.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v.string_value = "test-host";
	kv.key = "host.name";
	kv.value = &v;
	res.n_attributes = 1;
	res.attributes = kvs;
	for (i = 0; i < 300; i++) {
		before = am_otlp_logs_bytes(&b);
		cr_assert_eq(am_otlp_logs_add_kmsg(&b, &k, 1), 0);
		cr_assert_gt(am_otlp_logs_bytes(&b), before);
	}
	decode(&b, &res, i % 2, &out);
	/* One line per record, each under the resource and the scope. */
	for (i = 0, p = out.data; p && (p = strstr(p, "\"resource\":{\"host.name\":\"test-host\"},"
						      "\"scope\":\"antimetal-agent\"}\n"));
	     p++)
		i++;
	cr_expect_eq(i, 300, "%d records decoded, %zu bytes of output", i, out.len);
	am_otlp_logs_reset(&b);
	cr_expect_eq(b.nrecords, 0);
	cr_expect_eq(am_otlp_logs_bytes(&b), 0);
	am_strbuf_free(&out);
	am_otlp_logs_free(&b);
}
