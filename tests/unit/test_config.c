/* The daemon's YAML configuration: defaults, every key, and every kind of mistake reported
 * with the file, line and column libyaml marks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "collectors/system/collector.h"
#include "core/cgroup_path.h"
#include "testutil.h"

static int load(struct am_config *c, const char *text, char *err, size_t errlen)
{
	am_config_defaults(c);
	err[0] = '\0';
	return am_config_load_string(c, text, strlen(text), "t.yaml", err, errlen);
}

/* TEXT must fail with exactly MSG ("t.yaml:L:C: ..."). */
static void expect_error(const char *text, const char *msg)
{
	struct am_config c;
	char err[1024];

	cr_assert_eq(load(&c, text, err, sizeof(err)), -EINVAL, "accepted: %s", text);
	cr_assert_str_eq(err, msg, "for:\n%s", text);
}

Test(config, defaults)
{
	struct am_config c;

	am_config_defaults(&c);
	cr_assert_eq(c.http_enabled, true);
	cr_assert_str_eq(c.http_address, "127.0.0.1");
	cr_assert_eq(c.http_port, 9840u);
	cr_assert_str_eq(c.jsonl_path, "");
	cr_assert_eq(c.jsonl_max_bytes, 10u << 20);
	cr_assert_eq(c.jsonl_keep, 5u);
	cr_assert_eq(c.interval_ms, 15000u);
	cr_assert_eq(c.log_level, AM_LOG_INFO);
	cr_assert_str_eq(c.procfs, "/proc");
	cr_assert_str_eq(c.sysfs, "/sys");
	cr_assert_eq(c.profiler_window_ms, 60000u);
	cr_assert_eq(c.profiler_frequency_hz, 19u);
	cr_assert_eq(c.profiler_demangle, true);
	cr_assert_eq(c.profiler_max_stack, 127u);
	cr_assert_eq(c.profiler_lines, true);
	cr_assert_eq(c.execsnoop_enabled, true);
	cr_assert(am_config_collector_enabled(&c, "cpu"));
	cr_assert_eq(am_config_collector_interval_ms(&c, "cpu"), 15000u);
}

Test(config, empty_file_and_comments_keep_defaults)
{
	struct am_config c, d;
	char err[256];

	am_config_defaults(&d);
	cr_assert_eq(load(&c, "", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(&c, &d, sizeof(c)), 0);
	cr_assert_eq(load(&c, "# nothing here\n---\n", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(&c, &d, sizeof(c)), 0);
	/* An empty section is allowed too. */
	cr_assert_eq(load(&c, "http:\njsonl: ~\n", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(&c, &d, sizeof(c)), 0);
}

Test(config, every_key)
{
	static const char text[] = "hostname: web-1\n"
				   "log_level: debug\n"
				   "paths:\n"
				   "  procfs: /host/proc\n"
				   "  sysfs: /host/sys\n"
				   "  devfs: /host/dev\n"
				   "http:\n"
				   "  enabled: false\n"
				   "  address: \"::1\"\n"
				   "  port: 19999\n"
				   "jsonl:\n"
				   "  path: /var/log/agent.jsonl\n"
				   "  max_size: 2M\n"
				   "  keep: 3\n"
				   "collectors:\n"
				   "  enabled: yes\n"
				   "  interval: 5s\n"
				   "  cpu:\n"
				   "    interval: 500ms\n"
				   "  memory:\n"
				   "    enabled: off\n"
				   "execsnoop:\n"
				   "  enabled: false\n"
				   "profiler:\n"
				   "  enabled: true\n"
				   "  frequency: 49\n"
				   "  window: 2m\n"
				   "  output_dir: /tmp/prof\n"
				   "  retention: 7\n"
				   "  demangle: false\n"
				   "  max_stack: 32\n"
				   "  call_graph: dwarf,16384\n"
				   "  lines: false\n";
	struct am_config c;
	char err[512];

	cr_assert_not_null(am_collector_find("cpu"), "the cpu collector is not registered");
	cr_assert_not_null(am_collector_find("memory"), "the memory collector is not registered");
	cr_assert_eq(load(&c, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.hostname, "web-1");
	cr_assert_eq(c.log_level, AM_LOG_DEBUG);
	cr_assert_str_eq(c.procfs, "/host/proc");
	cr_assert_str_eq(c.sysfs, "/host/sys");
	cr_assert_str_eq(c.devfs, "/host/dev");
	cr_assert_eq(c.http_enabled, false);
	cr_assert_str_eq(c.http_address, "::1");
	cr_assert_eq(c.http_port, 19999u);
	cr_assert_str_eq(c.jsonl_path, "/var/log/agent.jsonl");
	cr_assert_eq(c.jsonl_max_bytes, 2u << 20);
	cr_assert_eq(c.jsonl_keep, 3u);
	cr_assert_eq(c.interval_ms, 5000u);
	cr_assert_eq(am_config_collector_interval_ms(&c, "cpu"), 500u);
	cr_assert(am_config_collector_enabled(&c, "cpu"));
	cr_assert_not(am_config_collector_enabled(&c, "memory"));
	cr_assert_eq(am_config_collector_interval_ms(&c, "memory"), 5000u);
	cr_assert_eq(c.execsnoop_enabled, false);
	cr_assert_eq(c.profiler_enabled, true);
	cr_assert_eq(c.profiler_frequency_hz, 49u);
	cr_assert_eq(c.profiler_window_ms, 120000u);
	cr_assert_str_eq(c.profiler_dir, "/tmp/prof");
	cr_assert_eq(c.profiler_retention, 7u);
	cr_assert_eq(c.profiler_demangle, false);
	cr_assert_eq(c.profiler_max_stack, 32u);
	cr_assert_str_eq(c.profiler_call_graph, "dwarf,16384");
	cr_assert_eq(c.profiler_lines, false);
}

Test(config, collectors_off_by_default_with_one_on)
{
	struct am_config c;
	char err[512];

	cr_assert_eq(
	    load(&c, "collectors:\n  enabled: false\n  cpu: {enabled: true}\n", err, sizeof(err)),
	    0, "%s", err);
	cr_assert(am_config_collector_enabled(&c, "cpu"));
	cr_assert_not(am_config_collector_enabled(&c, "memory"));
}

Test(config, syntax_error_names_line_and_column)
{
	struct am_config c;
	char err[512];

	cr_assert_eq(load(&c, "http:\n  port: 1\n bad indent: [\n", err, sizeof(err)), -EINVAL);
	cr_assert(!strncmp(err, "t.yaml:3:", 9), "got: %s", err);
	cr_assert_not_null(strstr(err, "YAML error"), "got: %s", err);
	cr_assert_eq(load(&c, "a: \"unterminated\n", err, sizeof(err)), -EINVAL);
	cr_assert(!strncmp(err, "t.yaml:", 7) && strstr(err, "YAML error"), "got: %s", err);
}

Test(config, unknown_keys)
{
	expect_error("hostname: a\nlog_level: info\nbogus: 1\n", "t.yaml:3:1: unknown key 'bogus'");
	expect_error("http:\n  prot: 80\n", "t.yaml:2:3: unknown key 'http.prot'");
	expect_error("http.port: 80\n", "t.yaml:1:1: unknown key 'http.port'");
	expect_error("collectors:\n  nosuch:\n    enabled: true\n",
		     "t.yaml:2:3: unknown collector 'nosuch'");
	expect_error("collectors:\n  cpu:\n    speed: 3\n",
		     "t.yaml:3:5: unknown key 'collectors.cpu.speed'");
	expect_error("profiler:\n  enabled: true\n  freq: 3\n",
		     "t.yaml:3:3: unknown key 'profiler.freq'");
}

Test(config, bad_values)
{
	expect_error("http:\n  port: abc\n",
		     "t.yaml:2:9: http.port: 'abc' is not an integer from 1 to 65535");
	expect_error("http:\n  port: 70000\n",
		     "t.yaml:2:9: http.port: '70000' is not an integer from 1 to 65535");
	expect_error("http:\n  port: -1\n",
		     "t.yaml:2:9: http.port: '-1' is not an integer from 1 to 65535");
	expect_error("http:\n  enabled: maybe\n",
		     "t.yaml:2:12: http.enabled: 'maybe' is not a boolean (true or false)");
	expect_error("http:\n  address: localhost\n",
		     "t.yaml:2:12: http.address: 'localhost' is not an IPv4 or IPv6 address");
	expect_error("log_level: loud\n",
		     "t.yaml:1:12: log_level: 'loud' is not one of error, warning, info, debug");
	expect_error("collectors:\n  interval: 10 parsecs\n",
		     "t.yaml:2:13: collectors.interval: '10 parsecs' is not a duration from 100ms "
		     "to 86400000ms (like 500ms, 15s, 2m)");
	expect_error("collectors:\n  interval: 50ms\n",
		     "t.yaml:2:13: collectors.interval: '50ms' is not a duration from 100ms to "
		     "86400000ms (like 500ms, 15s, 2m)");
	expect_error("collectors:\n  cpu:\n    interval: 0s\n",
		     "t.yaml:3:15: collectors.cpu.interval: '0s' is not a duration from 100ms to "
		     "24h (like 500ms, 15s, 2m)");
	expect_error("jsonl:\n  max_size: 1X\n",
		     "t.yaml:2:13: jsonl.max_size: '1X' is not a size from 4096 to 1099511627776 "
		     "bytes (suffixes K, M, G)");
	expect_error("profiler:\n  frequency: 0\n",
		     "t.yaml:2:14: profiler.frequency: '0' is not an integer from 1 to 10000");
	expect_error("profiler:\n  max_stack: 65536\n",
		     "t.yaml:2:14: profiler.max_stack: '65536' is not an integer from 1 to 65535");
	expect_error("profiler:\n  call_graph: dwarf,12\n",
		     "t.yaml:2:15: profiler.call_graph: 'dwarf,12' is not fp, dwarf[,SIZE] or "
		     "auto[,SIZE] (SIZE: bytes, a multiple of 8 up to 32768)");
	expect_error("profiler:\n  output_dir: \"\"\n",
		     "t.yaml:2:15: profiler.output_dir: a path is required");
}

Test(config, bad_types)
{
	expect_error("hostname: [a, b]\n",
		     "t.yaml:1:11: hostname: expected a single value, not a list");
	expect_error("hostname:\n  x: 1\n",
		     "t.yaml:2:3: hostname: expected a single value, not a mapping");
	expect_error("http: 5\n", "t.yaml:1:7: 'http' is a section: expected a mapping of keys");
	expect_error("http:\n  port:\n", "t.yaml:2:8: http.port: missing value");
	expect_error("- a\n- b\n", "t.yaml:1:1: the configuration must be a mapping of keys");
	expect_error("? [a]\n: 1\n", "t.yaml:1:3: keys must be plain names");
	expect_error("http:\n  port: 1\n  port: 2\n", "t.yaml:3:3: duplicate key 'port'");
}

Test(config, quoted_numbers_and_booleans_are_strings)
{
	struct am_config c;
	char err[512];

	expect_error("http:\n  port: \"80\"\n",
		     "t.yaml:2:9: http.port: expected an integer, not a quoted string");
	expect_error("http:\n  enabled: 'true'\n",
		     "t.yaml:2:12: http.enabled: expected a boolean, not a quoted string");
	expect_error(
	    "collectors:\n  cpu:\n    interval: \"5s\"\n",
	    "t.yaml:3:15: collectors.cpu.interval: expected a duration, not a quoted string");
	/* Strings may be quoted, of course. */
	cr_assert_eq(load(&c, "hostname: \"h 1\"\nhttp:\n  address: '::1'\nlog_level: \"debug\"\n",
			  err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(c.hostname, "h 1");
	cr_assert_str_eq(c.http_address, "::1");
}

/* Values YAML accepts but that would be read differently than written (issue 16). */
Test(config, ambiguous_values_are_refused_where_they_stand)
{
	static const char nul[] = "jsonl:\n  path: \"/tmp/a\\0b\"\n";

	expect_error("http:\n  port: !!str 80\n",
		     "t.yaml:2:9: tags (like !!str) are not supported: write the value plainly");
	expect_error("http:\n  port: 010\n",
		     "t.yaml:2:9: http.port: '010' has a leading zero (octal in YAML 1.1): write "
		     "it without");
	expect_error("http:\n  port: 80\n---\nhttp:\n  port: 81\n",
		     "t.yaml:3:1: a second YAML document: the file is one document");
	expect_error(nul, "t.yaml:2:9: jsonl.path: the value contains a NUL character");
	expect_error("hostname: &h a\nlog_level: *h\n",
		     "t.yaml:2:12: aliases (*name) are not supported here");
}

/* Depth is bounded while libyaml streams events: its document loader takes seconds on tens of
 * thousands of levels (4 s at depth 40,000 before the fix), and a reload would stall the
 * loop that long. */
Test(config, deep_nesting_is_refused_at_once)
{
	size_t depth = 40000, i;
	char *text = malloc(2 * depth + 8), err[512];
	struct am_config c;
	long long t0;

	cr_assert_not_null(text);
	memcpy(text, "a: ", 3);
	for (i = 0; i < depth; i++) {
		text[3 + i] = '[';
		text[3 + depth + i] = ']';
	}
	text[3 + 2 * depth] = '\0';
	t0 = am_test_now_ms();
	cr_assert_eq(load(&c, text, err, sizeof(err)), -EINVAL);
	cr_assert_lt(am_test_now_ms() - t0, 200, "took %lld ms", am_test_now_ms() - t0);
	cr_assert_str_eq(err, "t.yaml:1:19: nested deeper than 16 levels");
	free(text);
}

Test(config, invalid_utf8_and_overlong_values_are_located)
{
	char text[400];

	expect_error("hostname: a\nlog_level: \xff\xfe\n",
		     "t.yaml:2:12: YAML error: invalid leading UTF-8 octet");
	snprintf(text, sizeof(text), "hostname: %0300d\n", 0);
	expect_error(text, "t.yaml:1:11: hostname: value is longer than 255 bytes");
}

Test(config, file_errors_carry_the_path)
{
	char *dir = am_test_mkdtemp("config");
	char path[512], err[512];
	struct am_config c;

	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	cr_assert_eq(am_test_write_file(path, "http:\n  port: x\n", 16), 0);
	am_config_defaults(&c);
	cr_assert_eq(am_config_load_file(&c, path, err, sizeof(err)), -EINVAL);
	cr_assert(!strncmp(err, path, strlen(path)), "got: %s", err);
	cr_assert_not_null(strstr(err, ":2:9: http.port:"), "got: %s", err);
	snprintf(path, sizeof(path), "%s/absent.yaml", dir);
	cr_assert_eq(am_config_load_file(&c, path, err, sizeof(err)), -ENOENT);
	am_test_rmtree(dir);
	free(dir);
}

Test(config, explicit_missing_file_is_an_error_default_is_not)
{
	const char *overrides[] = {"http.port=1234"};
	struct am_agent_options o = {.config_path = "/nonexistent/antimetal.yaml"};
	struct am_config c;
	char err[512];

	cr_assert_eq(am_agent_load_config(&o, &c, err, sizeof(err)), -ENOENT);
	cr_assert_not_null(strstr(err, "/nonexistent/antimetal.yaml"), "got: %s", err);
	if (access(AM_CONFIG_DEFAULT_PATH, F_OK) == 0)
		cr_skip_test("skipped: %s exists on this machine", AM_CONFIG_DEFAULT_PATH);
	o = (struct am_agent_options){.overrides = overrides, .noverrides = 1};
	cr_assert_eq(am_agent_load_config(&o, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.http_port, 1234u);
}

Test(config, overrides_beat_the_file)
{
	char *dir = am_test_mkdtemp("config");
	const char *overrides[] = {"http.port=2222", "collectors.cpu.interval=3s"};
	const char *bad[] = {"http.port=0"};
	struct am_agent_options o = {.overrides = overrides, .noverrides = 2};
	char path[512], err[512];
	struct am_config c;
	const char *text = "http:\n  port: 1111\n  address: 127.0.0.2\ncollectors:\n  cpu:\n"
			   "    interval: 1s\n";

	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	cr_assert_eq(am_test_write_file(path, text, strlen(text)), 0);
	o.config_path = path;
	cr_assert_eq(am_agent_load_config(&o, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.http_port, 2222u);
	cr_assert_str_eq(c.http_address, "127.0.0.2");
	cr_assert_eq(am_config_collector_interval_ms(&c, "cpu"), 3000u);
	o.overrides = bad;
	o.noverrides = 1;
	cr_assert_eq(am_agent_load_config(&o, &c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "command line: http.port: '0' is not an integer from 1 to 65535");
	am_test_rmtree(dir);
	free(dir);
}

Test(config, set_rejects_unknown_keys)
{
	struct am_config c;
	char err[256];

	am_config_defaults(&c);
	cr_assert_eq(am_config_set(&c, "nope", "1", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "unknown key 'nope'");
	cr_assert_eq(am_config_set(&c, "collectors.zzz.enabled", "true", err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "unknown collector 'zzz' in 'collectors.zzz.enabled'");
}

Test(config, durations)
{
	uint64_t ms;

	cr_assert_eq(am_config_parse_duration("15", &ms), 0);
	cr_assert_eq(ms, 15000u);
	cr_assert_eq(am_config_parse_duration("250ms", &ms), 0);
	cr_assert_eq(ms, 250u);
	cr_assert_eq(am_config_parse_duration("2m", &ms), 0);
	cr_assert_eq(ms, 120000u);
	cr_assert_eq(am_config_parse_duration("1h", &ms), 0);
	cr_assert_eq(ms, 3600000u);
	cr_assert_eq(am_config_parse_duration("1.5s", &ms), -EINVAL);
	cr_assert_eq(am_config_parse_duration("s", &ms), -EINVAL);
	cr_assert_eq(am_config_parse_duration("", &ms), -EINVAL);
	cr_assert_eq(am_config_parse_duration("99999999999999999999s", &ms), -EINVAL);
}

Test(config, shipped_example_is_valid_and_matches_defaults)
{
	struct am_config c, d;
	char err[512];

	am_config_defaults(&c);
	am_config_defaults(&d);
	cr_assert_eq(am_config_load_file(&c, AM_TEST_SRC_DIR "/packaging/config.yaml.example", err,
					 sizeof(err)),
		     0, "%s", err);
	/* Every key the example sets carries its default: loading it changes nothing but the
	 * per-collector entries (which restate the defaults). */
	c.ncollectors = 0;
	memset(c.collectors, 0, sizeof(c.collectors));
	cr_assert_eq(memcmp(&c, &d, sizeof(c)), 0);
}

Test(config, rootfs_puts_default_roots_under_it_and_keeps_explicit_ones)
{
	struct am_config c;
	char err[512];

	cr_assert_eq(load(&c, "paths:\n  rootfs: /host/\n  sysfs: /mysys\n", err, sizeof(err)), 0,
		     "%s", err);
	am_config_resolve_roots(&c);
	cr_assert_str_eq(c.rootfs, "/host");
	cr_assert_str_eq(c.procfs, "/host/proc");
	cr_assert_str_eq(c.sysfs, "/mysys");
	cr_assert_str_eq(c.devfs, "/host/dev");
	cr_assert_eq(load(&c, "paths:\n  rootfs: /\n", err, sizeof(err)), 0);
	am_config_resolve_roots(&c);
	cr_assert_str_eq(c.procfs, "/proc");
	cr_assert_neq(load(&c, "paths:\n  rootfs: \"\"\n", err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "paths.rootfs"), "%s", err);
}

Test(config, cgroup_all_and_max)
{
	struct am_config c;
	char err[256];

	cr_assert_eq(load(&c, "", err, sizeof(err)), 0, "%s", err);
	cr_assert_not(c.cgroup_all);
	cr_assert_eq(c.cgroup_max, 2000);
	cr_assert_eq(load(&c,
			  "collectors:\n  cgroup:\n    enabled: true\n    all: true\n    max: 50\n",
			  err, sizeof(err)),
		     0, "%s", err);
	cr_assert(c.cgroup_all);
	cr_assert_eq(c.cgroup_max, 50);
	cr_assert(am_config_collector_enabled(&c, "cgroup"));
	cr_assert_eq(load(&c, "collectors:\n  cgroup:\n    max: 0\n", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "collectors.cgroup.max"), "%s", err);
}

Test(config, export_shutdown_timeout_is_a_bounded_duration)
{
	struct am_config c;
	char err[512];

	am_config_defaults(&c);
	cr_assert_eq(c.export_shutdown_timeout_ms, 5000u);
	cr_assert_eq(load(&c, "export:\n  shutdown_timeout: 1500ms\n", err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(c.export_shutdown_timeout_ms, 1500u);
	cr_assert_eq(load(&c, "export:\n  shutdown_timeout: 0s\n", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.export_shutdown_timeout_ms, 0u);
	expect_error("export:\n  shutdown_timeout: 1h\n",
		     "t.yaml:2:21: export.shutdown_timeout: '1h' is not a duration from 0ms to "
		     "600000ms (like 500ms, 15s, 2m)");
	cr_assert_eq(am_config_set(&c, "export.shutdown_timeout", "20s", err, sizeof(err)), 0);
	cr_assert_eq(c.export_shutdown_timeout_ms, 20000u);
}

Test(config, filesystem_exclusions_and_timeout)
{
	struct am_config c;
	char err[512];

	cr_assert_eq(load(&c, "", err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.fs_mount_points_exclude, AM_FS_DEFAULT_MOUNT_POINTS_EXCLUDE);
	cr_assert_str_eq(c.fs_types_exclude, AM_FS_DEFAULT_TYPES_EXCLUDE);
	cr_assert_eq(c.fs_timeout_ms, 1000);
	cr_assert_eq(
	    load(&c,
		 "collectors:\n  filesystem:\n    mount_points_exclude: \"^/(proc|sys)($|/)\"\n"
		 "    fs_types_exclude: ^nfs4?$\n    timeout: 250ms\n",
		 err, sizeof(err)),
	    0, "%s", err);
	cr_assert_str_eq(c.fs_mount_points_exclude, "^/(proc|sys)($|/)");
	cr_assert_str_eq(c.fs_types_exclude, "^nfs4?$");
	cr_assert_eq(c.fs_timeout_ms, 250);
	cr_assert_eq(load(&c, "collectors:\n  filesystem:\n    fs_types_exclude: \"^(nfs\"\n", err,
			  sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "collectors.filesystem.fs_types_exclude") &&
		      strstr(err, "not a POSIX extended regular expression"),
		  "%s", err);
	cr_assert_eq(load(&c, "collectors:\n  filesystem:\n    timeout: 2m\n", err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "collectors.filesystem.timeout"), "%s", err);
}

/* profiler.cgroups: the cgroup2 mount's root, named absolute and relative to the mount. */
static void cgroup_root(char *mnt, size_t len, uint64_t *id)
{
	if (am_cgroup2_mount(NULL, mnt, len))
		cr_skip_test("skipped: no cgroup2 mount to name cgroups in");
	cr_assert_eq(am_cgroup_id_of(mnt, id), 0, "%s", mnt);
}

Test(config, profiler_cgroups_is_a_list_of_cgroup_paths)
{
	char mnt[4096], text[8400], err[1024];
	struct am_config c;
	uint64_t root;

	cgroup_root(mnt, sizeof(mnt), &root);
	cr_assert_eq(load(&c, "", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.profiler_cgroups.n, 0u, "default: every cgroup");
	/* a block list: the mount itself, and "/" relative to it */
	snprintf(text, sizeof(text), "profiler:\n  cgroups:\n    - %s\n    - /\n", mnt);
	cr_assert_eq(load(&c, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.profiler_cgroups.n, 2u);
	cr_assert_eq(c.profiler_cgroups.ids[0], root);
	cr_assert_eq(c.profiler_cgroups.ids[1], root);
	/* a flow list; empty and null lists mean every cgroup */
	cr_assert_eq(load(&c, "profiler:\n  cgroups: [\"/\"]\n", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.profiler_cgroups.n, 1u);
	cr_assert_eq(load(&c, "profiler:\n  cgroups: []\n", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.profiler_cgroups.n, 0u);
	cr_assert_eq(load(&c, "profiler:\n  cgroups:\n", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.profiler_cgroups.n, 0u);
}

Test(config, profiler_cgroups_refuses_what_profile_cgroup_refuses)
{
	char mnt[4096], text[8400], msg[8400];
	struct am_config c;
	uint64_t root;
	size_t n;
	int i;

	cgroup_root(mnt, sizeof(mnt), &root);
	expect_error("profiler:\n  cgroups: [/, /no/such/cgroup]\n",
		     "t.yaml:2:16: profiler.cgroups: '/no/such/cgroup' is not a cgroup v2 "
		     "directory");
	/* /tmp is a directory, but no cgroup, under either reading */
	expect_error("profiler:\n  cgroups:\n    - /tmp\n",
		     "t.yaml:3:7: profiler.cgroups: '/tmp' is not a cgroup v2 directory");
	expect_error("profiler:\n  cgroups: /\n",
		     "t.yaml:2:12: profiler.cgroups: expected a list of cgroup paths ([PATH, ...] "
		     "or one '- PATH' a line)");
	expect_error("profiler:\n  cgroups:\n    a: /\n",
		     "t.yaml:3:5: profiler.cgroups: expected a list of cgroup paths ([PATH, ...] "
		     "or one '- PATH' a line)");
	expect_error("profiler:\n  cgroups: [[/]]\n",
		     "t.yaml:2:13: profiler.cgroups: expected a cgroup path");
	expect_error("profiler:\n  cgroups: [/, ~]\n",
		     "t.yaml:2:16: profiler.cgroups: expected a cgroup path");
	/* as many as the BPF filter holds, and not one more (named where it stands) */
	n = (size_t)snprintf(text, sizeof(text), "profiler:\n  cgroups: [");
	for (i = 0; i < AM_CONFIG_MAX_CGROUPS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "/, ");
	snprintf(text + n, sizeof(text) - n, "/]\n");
	snprintf(msg, sizeof(msg), "t.yaml:2:%zu: profiler.cgroups: at most %d cgroups", n - 9,
		 AM_CONFIG_MAX_CGROUPS);
	expect_error(text, msg);
	text[n - 2] = ']';
	text[n - 1] = '\n';
	text[n] = '\0';
	cr_assert_eq(load(&c, text, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(c.profiler_cgroups.n, (unsigned)AM_CONFIG_MAX_CGROUPS);
}

Test(config, profiler_cgroups_from_a_flag_is_comma_separated_and_replaces)
{
	const char *overrides[] = {"profiler.cgroups=/,/"};
	const char *bad[] = {"profiler.cgroups=/,/nope"};
	struct am_agent_options o = {.overrides = overrides, .noverrides = 1};
	char mnt[4096], path[512], err[1024];
	char *dir = am_test_mkdtemp("config");
	const char *text = "profiler:\n  cgroups: [/, /, /]\n";
	struct am_config c;
	uint64_t root;

	cgroup_root(mnt, sizeof(mnt), &root);
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	cr_assert_eq(am_test_write_file(path, text, strlen(text)), 0);
	o.config_path = path;
	cr_assert_eq(am_agent_load_config(&o, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.profiler_cgroups.n, 2u, "the flag's list replaces the file's");
	cr_assert_eq(c.profiler_cgroups.ids[1], root);
	o.overrides = bad;
	cr_assert_eq(am_agent_load_config(&o, &c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err,
			 "command line: profiler.cgroups: '/nope' is not a cgroup v2 directory");
	am_config_defaults(&c);
	cr_assert_eq(am_config_set(&c, "profiler.cgroups", "", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.profiler_cgroups.n, 0u);
	am_test_rmtree(dir);
	free(dir);
}
