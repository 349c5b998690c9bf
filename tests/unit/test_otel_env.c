/* The OTEL_* variables and otlp.* keys: how they map, which wins, the URLs each signal is sent
 * to, and every malformed value refused with the variable or key named. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/otel_env.h"
#include "agent/otel_resource.h"
#include "testutil.h"

/* Apply ENVP over the defaults; the reason (if any) into ERR. */
static int env(struct am_config *c, char *const *envp, char *err, size_t errlen)
{
	am_config_defaults(c);
	err[0] = '\0';
	return am_otel_env_apply(c, envp, err, errlen);
}

static void expect_env_error(const char *var, const char *msg)
{
	char *envp[] = {(char *)var, NULL};
	struct am_config c;
	char err[512];

	cr_assert_eq(env(&c, envp, err, sizeof(err)), -EINVAL, "accepted: %s", var);
	cr_assert_str_eq(err, msg, "for %s", var);
}

static void url(const struct am_config *c, enum am_otlp_signal s, const char *want)
{
	char got[AM_OTLP_URL_MAX];

	cr_assert_eq(am_otlp_signal_url(&c->otlp, s, got, sizeof(got)), 0);
	cr_assert_str_eq(got, want);
}

Test(otel_env, defaults_export_nothing_until_an_endpoint_is_set)
{
	struct am_config c;

	am_config_defaults(&c);
	cr_assert_not(am_otlp_signal_enabled(&c.otlp, AM_OTLP_METRICS));
	cr_assert_not(am_otlp_signal_enabled(&c.otlp, AM_OTLP_LOGS));
	cr_assert_str_eq(c.otlp.compression, "gzip");
	cr_assert_str_eq(c.otlp.protocol, "http/protobuf");
	cr_assert_eq(c.otlp.timeout_ms, 10000u);
	cr_assert_eq(c.otlp.metrics_interval_ms, 60000u);
	cr_assert_eq(c.otlp.logs_delay_ms, 1000u);
	cr_assert_eq(c.otlp.logs_batch_size, 512u);
	url(&c, AM_OTLP_METRICS, "http://localhost:4318/v1/metrics");
}

Test(otel_env, every_variable_lands_in_its_key)
{
	char *dir = am_test_mkdtemp("otelenv"), ca[512], cert[512], key[512], v1[600], v2[600],
	     v3[600];
	char *envp[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318/",
			"OTEL_EXPORTER_OTLP_HEADERS=api-key=s%20e%2Ccret, x-tenant = a ",
			"OTEL_EXPORTER_OTLP_COMPRESSION=none",
			"OTEL_EXPORTER_OTLP_TIMEOUT=2500",
			v1,
			v2,
			v3,
			"OTEL_SERVICE_NAME=edge",
			"OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod,team=infra",
			"OTEL_LOGS_EXPORTER=none",
			"OTEL_METRIC_EXPORT_INTERVAL=15000",
			"OTEL_BLRP_SCHEDULE_DELAY=200",
			"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE=64",
			"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
			"UNRELATED=1",
			NULL};
	struct am_otel_kvs kvs;
	struct am_config c;
	char err[512];

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	cr_assert_eq(am_test_write_file(ca, "x", 1), 0);
	cr_assert_eq(am_test_write_file(cert, "x", 1), 0);
	cr_assert_eq(am_test_write_file(key, "x", 1), 0);
	snprintf(v1, sizeof(v1), "OTEL_EXPORTER_OTLP_CERTIFICATE=%s", ca);
	snprintf(v2, sizeof(v2), "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=%s", cert);
	snprintf(v3, sizeof(v3), "OTEL_EXPORTER_OTLP_CLIENT_KEY=%s", key);
	cr_assert_eq(env(&c, envp, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.otlp.endpoint, "http://collector:4318/");
	url(&c, AM_OTLP_METRICS, "http://collector:4318/v1/metrics");
	url(&c, AM_OTLP_LOGS, "http://collector:4318/v1/logs");
	cr_assert(am_otlp_signal_enabled(&c.otlp, AM_OTLP_METRICS));
	cr_assert_not(am_otlp_signal_enabled(&c.otlp, AM_OTLP_LOGS));
	cr_assert_str_eq(c.otlp.compression, "none");
	cr_assert_eq(c.otlp.timeout_ms, 2500u);
	cr_assert_str_eq(c.otlp.certificate, ca);
	cr_assert_str_eq(c.otlp.client_certificate, cert);
	cr_assert_str_eq(c.otlp.client_key, key);
	cr_assert_str_eq(c.otlp.service_name, "edge");
	cr_assert_eq(c.otlp.metrics_interval_ms, 15000u);
	cr_assert_eq(c.otlp.logs_delay_ms, 200u);
	cr_assert_eq(c.otlp.logs_batch_size, 64u);
	cr_assert_eq(am_otel_kv_parse(c.otlp.headers, &kvs, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(kvs.n, 2u);
	cr_assert_str_eq(kvs.items[0].key, "api-key");
	cr_assert_str_eq(kvs.items[0].value, "s e,cret");
	cr_assert_str_eq(kvs.items[1].key, "x-tenant");
	cr_assert_str_eq(kvs.items[1].value, "a");
	am_otel_kvs_free(&kvs);
	am_test_rmtree(dir);
	free(dir);
}

Test(otel_env, signal_endpoint_is_used_as_is_and_beats_the_general_one)
{
	char *envp[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=https://gw.example:4318/otlp",
			"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://m.example:9999/custom", NULL};
	struct am_config c;
	char err[256];

	cr_assert_eq(env(&c, envp, err, sizeof(err)), 0, "%s", err);
	url(&c, AM_OTLP_METRICS, "http://m.example:9999/custom");
	url(&c, AM_OTLP_LOGS, "https://gw.example:4318/otlp/v1/logs");
	/* A general endpoint from the file still loses to the variable's signal endpoint. */
	cr_assert_eq(am_config_set(&c, "otlp.endpoint", "http://file:4318", err, sizeof(err)), 0);
	url(&c, AM_OTLP_METRICS, "http://m.example:9999/custom");
	url(&c, AM_OTLP_LOGS, "http://file:4318/v1/logs");
}

/* The specification's per-signal variables: each beats its general one for that signal only,
 * the other signal keeps the general one. */
Test(otel_env, signal_variables_beat_the_general_ones_for_their_signal)
{
	char *dir = am_test_mkdtemp("otelsig"), ca[512], cert[512], key[512], v1[600], v2[600],
	     v3[600];
	char *envp[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318",
			"OTEL_EXPORTER_OTLP_HEADERS=x-general=1",
			"OTEL_EXPORTER_OTLP_COMPRESSION=gzip",
			"OTEL_EXPORTER_OTLP_TIMEOUT=2000",
			"OTEL_EXPORTER_OTLP_LOGS_HEADERS=x-logs=2,Authorization=Bearer%20l",
			"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION=none",
			"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT=750",
			"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT=30000",
			v1,
			v2,
			v3,
			NULL};
	struct am_otlp_signal_settings m, l;
	struct am_config c;
	char err[512];

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	cr_assert_eq(am_test_write_file(ca, "x", 1), 0);
	cr_assert_eq(am_test_write_file(cert, "x", 1), 0);
	cr_assert_eq(am_test_write_file(key, "x", 1), 0);
	snprintf(v1, sizeof(v1), "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE=%s", ca);
	snprintf(v2, sizeof(v2), "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE=%s", cert);
	snprintf(v3, sizeof(v3), "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY=%s", key);
	cr_assert_eq(env(&c, envp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(am_otlp_signal_settings(&c.otlp, AM_OTLP_METRICS, &m), 0);
	cr_assert_eq(am_otlp_signal_settings(&c.otlp, AM_OTLP_LOGS, &l), 0);
	cr_assert_str_eq(m.headers, "x-general=1");
	cr_assert_str_eq(l.headers, "x-logs=2,Authorization=Bearer%20l");
	cr_assert(m.gzip);
	cr_assert_not(l.gzip);
	cr_assert_eq(m.timeout_ms, 30000u);
	cr_assert_eq(l.timeout_ms, 750u);
	cr_assert_str_eq(m.certificate, ca);
	cr_assert_str_eq(m.client_certificate, cert);
	cr_assert_str_eq(m.client_key, key);
	cr_assert_str_eq(l.certificate, "");
	cr_assert_str_eq(l.client_key, "");
	cr_assert_str_eq(m.url, "http://c:4318/v1/metrics");
	cr_assert_str_eq(l.url, "http://c:4318/v1/logs");
	/* As the general keys: the file's general key does not beat a signal's variable, the
	 * file's signal key beats the signal's variable. */
	cr_assert_eq(am_config_set(&c, "otlp.compression", "none", err, sizeof(err)), 0);
	cr_assert_eq(am_config_set(&c, "otlp.metrics_headers", "x-file=3", err, sizeof(err)), 0);
	cr_assert_eq(am_config_set(&c, "otlp.logs_timeout", "5s", err, sizeof(err)), 0);
	cr_assert_eq(am_otlp_signal_settings(&c.otlp, AM_OTLP_METRICS, &m), 0);
	cr_assert_eq(am_otlp_signal_settings(&c.otlp, AM_OTLP_LOGS, &l), 0);
	cr_assert_not(m.gzip);
	cr_assert_str_eq(m.headers, "x-file=3");
	cr_assert_eq(l.timeout_ms, 5000u);
	/* An empty signal compression is "unset" again: the general one applies. */
	cr_assert_eq(am_config_set(&c, "otlp.logs_compression", "", err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(am_config_set(&c, "otlp.compression", "gzip", err, sizeof(err)), 0);
	cr_assert_eq(am_otlp_signal_settings(&c.otlp, AM_OTLP_LOGS, &l), 0);
	cr_assert(l.gzip);
	am_test_rmtree(dir);
	free(dir);
}

Test(otel_env, empty_variables_count_as_unset)
{
	char *envp[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_METRICS_EXPORTER=", NULL};
	struct am_config c;
	char err[256];

	cr_assert_eq(env(&c, envp, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.otlp.endpoint, "");
	cr_assert_eq(c.otlp.metrics, -1);
}

Test(otel_env, exporter_otlp_without_endpoint_uses_the_default)
{
	char *envp[] = {"OTEL_METRICS_EXPORTER=otlp", NULL};
	char *off[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318", "OTEL_SDK_DISABLED=true", NULL};
	struct am_config c;
	char err[256];

	cr_assert_eq(env(&c, envp, err, sizeof(err)), 0, "%s", err);
	cr_assert(am_otlp_signal_enabled(&c.otlp, AM_OTLP_METRICS));
	cr_assert_not(am_otlp_signal_enabled(&c.otlp, AM_OTLP_LOGS));
	url(&c, AM_OTLP_METRICS, "http://localhost:4318/v1/metrics");
	cr_assert_eq(env(&c, off, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(am_otlp_signal_enabled(&c.otlp, AM_OTLP_METRICS));
	cr_assert_not(am_otlp_signal_enabled(&c.otlp, AM_OTLP_LOGS));
}

Test(otel_env, malformed_values_name_the_variable)
{
	expect_env_error("OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318",
			 "OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318': the scheme must be "
			 "http:// or https://");
	expect_env_error("OTEL_EXPORTER_OTLP_ENDPOINT=ftp://c/x",
			 "OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://c/x': the scheme must be http:// "
			 "or https://");
	expect_env_error("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://c :4318",
			 "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c :4318' is not a URL: it "
			 "contains a blank or control character");
	expect_env_error("OTEL_EXPORTER_OTLP_HEADERS=a=1,broken",
			 "OTEL_EXPORTER_OTLP_HEADERS: 'broken' is not key=value");
	expect_env_error("OTEL_EXPORTER_OTLP_HEADERS=Authorization: Bearer s3cret",
			 "OTEL_EXPORTER_OTLP_HEADERS: 'Authorization...' is not key=value");
	expect_env_error(
	    "OTEL_EXPORTER_OTLP_HEADERS==v",
	    "OTEL_EXPORTER_OTLP_HEADERS: an item has an empty key (its value not shown)");
	/* A credential pasted alone is not quoted, not even in part, nor one before a blank. */
	expect_env_error("OTEL_EXPORTER_OTLP_HEADERS=sk0123456789abcdef xyz",
			 "OTEL_EXPORTER_OTLP_HEADERS: an item of 22 bytes is not key=value (not "
			 "shown: it may be a credential)");
	expect_env_error("OTEL_EXPORTER_OTLP_HEADERS=a=1,ghp_0123456789abcdefABCDEF0123",
			 "OTEL_EXPORTER_OTLP_HEADERS: an item of 30 bytes is not key=value (not "
			 "shown: it may be a credential)");
	expect_env_error(
	    "OTEL_EXPORTER_OTLP_HEADERS=a=x%zz",
	    "OTEL_EXPORTER_OTLP_HEADERS: bad percent-encoding at '%zz' (expected %XX)");
	expect_env_error("OTEL_EXPORTER_OTLP_HEADERS=a=x%4",
			 "OTEL_EXPORTER_OTLP_HEADERS: bad percent-encoding at '%4' (expected %XX)");
	expect_env_error("OTEL_EXPORTER_OTLP_HEADERS=a=x%0D%0Ay: z",
			 "OTEL_EXPORTER_OTLP_HEADERS: the value of 'a' decodes to a control "
			 "character");
	expect_env_error("OTEL_EXPORTER_OTLP_HEADERS=a=%00",
			 "OTEL_EXPORTER_OTLP_HEADERS: the value of 'a' decodes to a control "
			 "character");
	expect_env_error("OTEL_EXPORTER_OTLP_HEADERS=Content-Type=text/plain",
			 "OTEL_EXPORTER_OTLP_HEADERS: Content-Type is set by the protocol, not a "
			 "header to configure");
	expect_env_error("OTEL_EXPORTER_OTLP_METRICS_HEADERS=a b=1",
			 "OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'a b' is not a valid header name");
	expect_env_error("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION=zstd",
			 "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'zstd' is not one of gzip, none");
	expect_env_error("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT=1s",
			 "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '1s' is not a number of "
			 "milliseconds");
	expect_env_error("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE=/nonexistent/ca.pem",
			 "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: cannot read '/nonexistent/ca.pem': "
			 "No such file or directory");
	expect_env_error("OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY=/",
			 "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: cannot read '/': Is a directory");
	expect_env_error("OTEL_RESOURCE_ATTRIBUTES=team",
			 "OTEL_RESOURCE_ATTRIBUTES: 'team' is not key=value");
	expect_env_error("OTEL_EXPORTER_OTLP_CERTIFICATE=/nonexistent/ca.pem",
			 "OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read '/nonexistent/ca.pem': No "
			 "such file or directory");
	expect_env_error("OTEL_EXPORTER_OTLP_CLIENT_KEY=/",
			 "OTEL_EXPORTER_OTLP_CLIENT_KEY: cannot read '/': Is a directory");
	expect_env_error("OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
			 "OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' is not implemented by this agent: it "
			 "sends OTLP as http/protobuf");
	expect_env_error("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/json",
			 "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' is not implemented by this "
			 "agent: it sends OTLP as http/protobuf");
	expect_env_error(
	    "OTEL_EXPORTER_OTLP_PROTOCOL=carrier-pigeon",
	    "OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon' is not one of http/protobuf");
	expect_env_error("OTEL_EXPORTER_OTLP_COMPRESSION=zstd",
			 "OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' is not one of gzip, none");
	expect_env_error("OTEL_EXPORTER_OTLP_TIMEOUT=10s",
			 "OTEL_EXPORTER_OTLP_TIMEOUT: '10s' is not a number of milliseconds");
	expect_env_error("OTEL_METRIC_EXPORT_INTERVAL=-5",
			 "OTEL_METRIC_EXPORT_INTERVAL: '-5' is not a number of milliseconds");
	expect_env_error("OTEL_METRIC_EXPORT_INTERVAL=10",
			 "OTEL_METRIC_EXPORT_INTERVAL: '10ms' is not a duration from 100ms to "
			 "86400000ms (like 500ms, 15s, 2m)");
	expect_env_error("OTEL_METRICS_EXPORTER=prometheus",
			 "OTEL_METRICS_EXPORTER: 'prometheus' is not supported: this agent exports "
			 "otlp or none");
	expect_env_error("OTEL_SDK_DISABLED=maybe",
			 "OTEL_SDK_DISABLED: 'maybe' is not true or false");
}

Test(otel_env, config_keys_refuse_the_same_values_naming_the_key)
{
	struct am_config c;
	char err[512];

	am_config_defaults(&c);
	cr_assert_eq(am_config_set(&c, "otlp.endpoint", "localhost", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "otlp.endpoint: 'localhost': the scheme must be http:// or https://");
	cr_assert_eq(am_config_set(&c, "otlp.headers", "x", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "otlp.headers: 'x' is not key=value");
	cr_assert_eq(am_config_set(&c, "otlp.resource_attributes", "k=%G0", err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err,
			 "otlp.resource_attributes: bad percent-encoding at '%G0' (expected %XX)");
	cr_assert_eq(am_config_set(&c, "otlp.protocol", "grpc", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "otlp.protocol: 'grpc' is not implemented by this agent: it sends "
			      "OTLP as http/protobuf");
	cr_assert_eq(am_config_set(&c, "otlp.metrics", "sometimes", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "otlp.metrics: 'sometimes' is not true, false or auto");
	cr_assert_eq(am_config_set(&c, "otlp.metrics", "auto", err, sizeof(err)), 0);
	cr_assert_eq(c.otlp.metrics, -1);
	cr_assert_eq(am_config_set(&c, "otlp.logs", "true", err, sizeof(err)), 0);
	cr_assert_eq(c.otlp.logs, 1);
	cr_assert_eq(am_config_set(&c, "otlp.queue_bytes", "4M", err, sizeof(err)), 0);
	cr_assert_eq(c.otlp.queue_bytes, 4u << 20);
	cr_assert_eq(am_config_set(&c, "otlp.certificate", "/nonexistent", err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "otlp.certificate: cannot read '/nonexistent': No such file or "
			      "directory");
}

Test(otel_env, yaml_section_and_precedence_env_under_file_under_flags)
{
	char *dir = am_test_mkdtemp("otelenv");
	char *envp[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://env:4318",
			"OTEL_EXPORTER_OTLP_TIMEOUT=1000", "OTEL_SERVICE_NAME=from-env",
			"OTEL_EXPORTER_OTLP_COMPRESSION=none", NULL};
	char *bad_env[] = {"OTEL_EXPORTER_OTLP_PROTOCOL=grpc", NULL};
	const char *overrides[] = {"otlp.service_name=from-flag"};
	struct am_agent_options o = {.overrides = overrides, .noverrides = 1, .envp = envp};
	const char *text = "otlp:\n  endpoint: https://file:4318\n  timeout: 3s\n"
			   "  service_name: from-file\n  metrics: true\n  logs: false\n"
			   "  headers: \"a=b\"\n";
	struct am_config c;
	char path[512], err[512];

	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	cr_assert_eq(am_test_write_file(path, text, strlen(text)), 0);
	o.config_path = path;
	cr_assert_eq(am_agent_load_config(&o, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.otlp.endpoint, "https://file:4318");
	cr_assert_eq(c.otlp.timeout_ms, 3000u);
	cr_assert_str_eq(c.otlp.service_name, "from-flag");
	cr_assert_str_eq(c.otlp.compression, "none"); /* only the variable set it */
	cr_assert_eq(c.otlp.metrics, 1);
	cr_assert_eq(c.otlp.logs, 0);
	cr_assert_str_eq(c.otlp.headers, "a=b");
	o.envp = bad_env;
	cr_assert_eq(am_agent_load_config(&o, &c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' is not implemented by this "
			      "agent: it sends OTLP as http/protobuf");
	am_test_rmtree(dir);
	free(dir);
}

Test(otel_env, run_exits_2_on_an_unimplemented_protocol)
{
	char cmd[1024];
	int rc;

	snprintf(cmd, sizeof(cmd),
		 "OTEL_EXPORTER_OTLP_PROTOCOL=grpc %s/antimetal-agent run --check-config "
		 "--config /dev/null 2>&1 | grep -q \"OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' is not "
		 "implemented\"",
		 AM_TEST_BUILD_DIR);
	rc = system(cmd);
	cr_assert_eq(rc, 0, "message not found");
	snprintf(cmd, sizeof(cmd),
		 "OTEL_EXPORTER_OTLP_HEADERS=novalue %s/antimetal-agent run --check-config "
		 "--config /dev/null >/dev/null 2>&1",
		 AM_TEST_BUILD_DIR);
	rc = system(cmd);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 2, "status %d", rc);
}

Test(otel_env, resource_has_the_conventions_then_the_configured_attributes)
{
	char *dir = am_test_mkdtemp("otelres"), p[512];
	const char *osr = "PRETTY_NAME=\"Test Linux 9\"\nID=test\n";
	struct am_resource r = {0};
	struct am_config c;
	struct utsname u;
	char err[256], want[600];

	snprintf(p, sizeof(p), "%s/etc/machine-id", dir);
	cr_assert_eq(am_test_write_file(p, "0123456789abcdef0123456789abcdef\n", 33), 0);
	snprintf(p, sizeof(p), "%s/etc/os-release", dir);
	cr_assert_eq(am_test_write_file(p, osr, strlen(osr)), 0);
	am_config_defaults(&c);
	snprintf(c.rootfs, sizeof(c.rootfs), "%s", dir);
	strcpy(c.otlp.resource_attributes, "team=infra,service.name=overridden,host.name=h%2F1");
	cr_assert_eq(am_otel_resource_build(&c, "1.2.3", &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(uname(&u), 0);
	cr_assert_str_eq(am_resource_get(&r, "host.id"), "0123456789abcdef0123456789abcdef");
	cr_assert_str_eq(am_resource_get(&r, "host.name"), "h/1");
	cr_assert_str_eq(am_resource_get(&r, "host.arch"), am_otel_host_arch(u.machine));
	cr_assert_str_eq(am_resource_get(&r, "os.type"), "linux");
	snprintf(want, sizeof(want), "Test Linux 9 (Linux %s %s %s)", u.release, u.version,
		 u.machine);
	cr_assert_str_eq(am_resource_get(&r, "os.description"), want);
	cr_assert_str_eq(am_resource_get(&r, "service.name"), "overridden");
	cr_assert_str_eq(am_resource_get(&r, "service.version"), "1.2.3");
	cr_assert_str_eq(am_resource_get(&r, "team"), "infra");
	am_resource_free(&r);
	/* OTEL_SERVICE_NAME beats service.name in OTEL_RESOURCE_ATTRIBUTES (the spec). */
	strcpy(c.otlp.service_name, "named");
	strcpy(c.rootfs, "/nonexistent-root");
	cr_assert_eq(am_otel_resource_build(&c, "1.2.3", &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(am_resource_get(&r, "service.name"), "named");
	cr_assert_null(am_resource_get(&r, "host.id"), "no machine-id there: left out");
	am_resource_free(&r);
	am_test_rmtree(dir);
	free(dir);
}

Test(otel_env, host_arch_by_semconv)
{
	cr_assert_str_eq(am_otel_host_arch("x86_64"), "amd64");
	cr_assert_str_eq(am_otel_host_arch("aarch64"), "arm64");
	cr_assert_str_eq(am_otel_host_arch("riscv64"), "riscv64");
}
