/* Renderings of exec records: hostile argument bytes come out escaped and unambiguous in the
 * table, and exact (string or base64) in JSON. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "export/exec_render.h"
#include "json_check.h"

static char *quote(const char *s, size_t len)
{
	static char out[256];
	struct am_strbuf b = {0};

	am_shell_quote(&b, s, len);
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	am_strbuf_free(&b);
	return out;
}

#define Q(lit) quote(lit, sizeof(lit) - 1)

Test(exec_render, shell_quote)
{
	cr_expect_str_eq(Q("/bin/echo"), "/bin/echo");
	cr_expect_str_eq(Q("--opt=a,b:c@d%e+f"), "--opt=a,b:c@d%e+f");
	cr_expect_str_eq(Q(""), "''");
	cr_expect_str_eq(Q("a b"), "'a b'");
	cr_expect_str_eq(Q("say \"hi\""), "'say \"hi\"'");
	cr_expect_str_eq(Q("it's"), "$'it\\'s'");
	cr_expect_str_eq(Q("new\nline\ttab\r"), "$'new\\nline\\ttab\\r'");
	cr_expect_str_eq(Q("back\\slash"), "'back\\slash'");
	cr_expect_str_eq(Q("esc\x1b[31m"), "$'esc\\x1b[31m'");
	cr_expect_str_eq(Q("\xff\xfe"), "$'\\xff\\xfe'");
	cr_expect_str_eq(Q("caf\xc3\xa9"), "'caf\xc3\xa9'");
	/* a truncated UTF-8 sequence is bytes, not a character */
	cr_expect_str_eq(Q("caf\xc3"), "$'caf\\xc3'");
	/* right-to-left override would reorder what follows on screen */
	cr_expect_str_eq(Q("a\xe2\x80\xae"
			   "b"),
			 "$'a\\u202eb'");
	cr_expect_str_eq(Q("$(rm -rf /)"), "'$(rm -rf /)'");
	cr_expect_str_eq(Q("[truncated]"), "'[truncated]'");
}

static const struct am_exec_arg args[] = {
    {"/bin/echo", 9},  {"a b", 3},  {"quo\"te's", 8}, {"new\nline", 8},
    {"\xc3\xbcni", 4}, {"\xff", 1}, {"", 0},
};

static struct am_exec_record exec_record(void)
{
	struct am_exec_record r = {0};

	r.kind = AM_EXEC_EVENT;
	r.ts_mono_ns = 1000;
	r.ret_mono_ns = 2000;
	r.ts_real_ns = 1764077056123456789ull; /* 2025-11-25T13:24:16.123456789Z */
	r.pid = 42;
	r.tid = 42;
	r.ppid = 7;
	r.uid = 1000;
	r.gid = 100;
	r.cgroup_id = 99;
	strcpy(r.comm, "echo");
	r.filename.data = "/bin/echo";
	r.filename.len = 9;
	r.argv = args;
	r.argc = sizeof(args) / sizeof(args[0]);
	return r;
}

Test(exec_render, text_line)
{
	struct am_exec_record r = exec_record();
	struct am_strbuf b = {0};

	am_exec_render_text(&b, &r, false);
	cr_expect_str_eq(b.data,
			 "echo             42      7       0       /bin/echo 'a b' $'quo\"te\\'s' "
			 "$'new\\nline' '\xc3\xbcni' $'\\xff' ''\n");
	am_strbuf_reset(&b);
	r.ret = -ENOENT;
	r.argc = 1;
	r.args_truncated = true;
	am_exec_render_text(&b, &r, false);
	cr_expect_str_eq(b.data,
			 "echo             42      7       ENOENT  /bin/echo [truncated]\n");
	am_strbuf_free(&b);
}

Test(exec_render, json_exec_is_exact)
{
	struct am_exec_record r = exec_record();
	struct am_strbuf b = {0};

	r.cgroup_path = "/system.slice/docker-x.scope";
	r.container_id = "abc";
	r.container_runtime = "docker";
	am_exec_render_json(&b, &r);
	cr_expect_str_eq(
	    b.data,
	    "{\"type\":\"exec\",\"time\":\"2025-11-25T13:24:16.123456789Z\",\"ts_ns\":1000,"
	    "\"pid\":42,\"tid\":42,\"ppid\":7,\"uid\":1000,\"gid\":100,\"comm\":\"echo\","
	    "\"cgroup_id\":99,\"cgroup\":\"/system.slice/docker-x.scope\","
	    "\"container_id\":\"abc\",\"container_runtime\":\"docker\",\"ret_ts_ns\":2000,"
	    "\"syscall\":\"execve\",\"filename\":\"/bin/echo\",\"args\":[\"/bin/echo\","
	    "\"a b\",\"quo\\\"te's\",\"new\\nline\",\"\xc3\xbcni\",{\"base64\":\"/w==\"},\"\"],"
	    "\"args_truncated\":false,\"filename_truncated\":false,\"read_failed\":false,"
	    "\"ret\":0}\n");
	am_strbuf_free(&b);
}

/* Whatever bytes a process passes, each record is one valid JSON line. */
Test(exec_render, json_is_valid_for_every_byte)
{
	struct am_exec_record r = exec_record();
	struct am_strbuf b = {0};
	char bytes[255], comm[17];
	struct am_exec_arg one;
	int i;

	for (i = 0; i < 255; i++)
		bytes[i] = (char)(i + 1);
	memcpy(comm, bytes + 120, 16);
	comm[16] = '\0';
	memcpy(r.comm, comm, sizeof(comm));
	one.data = bytes;
	one.len = sizeof(bytes);
	r.argv = &one;
	r.argc = 1;
	r.filename = one;
	am_exec_render_json(&b, &r);
	cr_expect(am_test_json_valid(b.data, b.len - 1), "%s", b.data);
	cr_expect_eq(strchr(b.data, '\n'), b.data + b.len - 1, "one line only");
	am_strbuf_free(&b);
}

Test(exec_render, json_failure_and_execveat)
{
	struct am_exec_record r = exec_record();
	struct am_strbuf b = {0};

	r.ret = -ENOENT;
	r.execveat = true;
	r.dirfd = 3;
	r.at_flags = 0x1000;
	r.argc = 0;
	am_exec_render_json(&b, &r);
	cr_expect(strstr(b.data, "\"syscall\":\"execveat\",\"dirfd\":3,\"at_flags\":4096,") != NULL,
		  "%s", b.data);
	cr_expect(strstr(b.data, "\"args\":[],") != NULL, "%s", b.data);
	cr_expect(strstr(b.data, "\"ret\":-2,\"errno\":\"ENOENT\"}\n") != NULL, "%s", b.data);
	am_strbuf_reset(&b);
	r.ret = -4095; /* no name: null, the number stays */
	am_exec_render_json(&b, &r);
	cr_expect(strstr(b.data, "\"ret\":-4095,\"errno\":null}\n") != NULL, "%s", b.data);
	am_strbuf_free(&b);
}

Test(exec_render, exit_records)
{
	struct am_exec_record r = exec_record();
	struct am_strbuf b = {0};

	r.kind = AM_EXIT_EVENT;
	r.exit_code = 3;
	r.lifetime_ns = 1500000;
	am_exec_render_text(&b, &r, false);
	cr_expect_str_eq(b.data,
			 "echo             42      7       EXIT    [exit 3 after 1.500 ms]\n");
	am_strbuf_reset(&b);
	r.exit_code = 0;
	r.exit_signal = 9;
	am_exec_render_text(&b, &r, false);
	cr_expect_str_eq(
	    b.data,
	    "echo             42      7       EXIT    [killed by SIGKILL after 1.500 ms]\n");
	am_strbuf_reset(&b);
	am_exec_render_json(&b, &r);
	cr_expect(strstr(b.data, "\"type\":\"exit\"") != NULL, "%s", b.data);
	cr_expect(strstr(b.data, "\"exit_code\":0,\"signal\":9,\"core_dumped\":false,"
				 "\"lifetime_ns\":1500000}\n") != NULL,
		  "%s", b.data);
	am_strbuf_free(&b);
}

Test(exec_render, hostile_comm_is_escaped)
{
	struct am_exec_record r = exec_record();
	struct am_strbuf b = {0};

	strcpy(r.comm, "x\ny");
	am_exec_render_text(&b, &r, false);
	cr_expect(!strncmp(b.data, "$'x\\ny'          42", 19), "%s", b.data);
	cr_expect_eq(strchr(b.data, '\n'), b.data + b.len - 1, "one line only");
	am_strbuf_free(&b);
}

Test(exec_render, stats_line)
{
	struct am_execsnoop_stats st = {.execs = 5,
					.exits = 2,
					.output_failures = 1,
					.lost_samples = 3,
					.drops = 4,
					.read_failures = 6};
	struct am_strbuf b = {0};

	am_exec_render_stats_json(&b, &st, 1764077056000000000ull, true);
	cr_expect_str_eq(
	    b.data,
	    "{\"type\":\"stats\",\"time\":\"2025-11-25T13:24:16.000000000Z\",\"final\":true,"
	    "\"events\":7,\"execs\":5,\"exits\":2,\"drops\":4,\"output_failures\":1,"
	    "\"stash_failures\":0,\"lost_samples\":3,\"malformed\":0,\"read_failures\":6,"
	    "\"unmatched\":0}\n");
	am_strbuf_free(&b);
}

/* A process in a PID namespace of its own (a container) shows its pids there besides the
 * host's; one in the host's namespace shows nothing more. */
Test(exec_render, pids_inside_another_pid_namespace)
{
	struct am_exec_record r = exec_record();
	struct am_strbuf b = {0};

	r.ns_pid = 42;
	r.ns_ppid = 7;
	am_exec_render_json(&b, &r);
	cr_expect_null(strstr(b.data, "ns_pid"), "same namespace: %s", b.data);
	am_strbuf_reset(&b);
	r.ns_pid = 1;
	r.ns_ppid = 0;
	am_exec_render_json(&b, &r);
	cr_expect(strstr(b.data, "\"pid\":42,\"tid\":42,\"ppid\":7,\"ns_pid\":1,\"ns_ppid\":0,") !=
		      NULL,
		  "%s", b.data);
	am_strbuf_reset(&b);
	r.argc = 1;
	am_exec_render_text(&b, &r, false);
	cr_expect_str_eq(
	    b.data, "echo             42      7       0       /bin/echo [pidns: pid 1 ppid 0]\n");
	am_strbuf_reset(&b);
	r.kind = AM_EXIT_EVENT;
	r.lifetime_ns = 1000000;
	am_exec_render_json(&b, &r);
	cr_expect(strstr(b.data, "\"type\":\"exit\"") && strstr(b.data, "\"ns_pid\":1,"), "%s",
		  b.data);
	am_strbuf_free(&b);
}
