/* remote_write.* settings: URL, header and label syntax checked as the key table sets them,
 * and the settings built from them (default labels, overrides, the bearer token's file, TLS
 * files), every refusal naming the key. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/config.h"
#include "agent/remote_write_config.h"
#include "testutil.h"

static const char *label(const struct am_rw_settings *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nexternal; i++)
		if (!strcmp(s->external[i].name, name))
			return s->external[i].value;
	return NULL;
}

static bool has_header(const struct am_rw_settings *s, const char *line)
{
	size_t i;

	for (i = 0; i < s->nheaders; i++)
		if (!strcmp(s->headers[i], line))
			return true;
	return false;
}

Test(remote_write_config, urls_must_be_http_or_https_with_a_host)
{
	static const char *const good[] = {"http://127.0.0.1:9090/api/v1/write",
					   "https://[::1]:8428/api/v1/write",
					   "HTTPS://mimir.example/api/v1/push"};
	static const char *const bad[] = {"ftp://example.com/", "localhost:9090/api/v1/write",
					  "http://", "http://a b/"};
	struct am_config c;
	char err[512];
	size_t i;

	am_config_defaults(&c);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(am_config_set(&c, "remote_write.url", good[i], err, sizeof(err)), 0,
			     "%s: %s", good[i], err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(am_config_set(&c, "remote_write.url", bad[i], err, sizeof(err)),
			     -EINVAL, "%s accepted", bad[i]);
		cr_assert_not_null(strstr(err, "remote_write.url"), "%s", err);
	}
}

Test(remote_write_config, headers_are_name_value_pairs_with_percent_escapes)
{
	char err[400], many[2048] = "";
	int i;

	cr_assert_eq(am_rw_check_headers("X-A=1, X-B = x%20y ,", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(am_rw_check_headers("X Bad=1", err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "header name"), "%s", err);
	cr_assert_eq(am_rw_check_headers("content-encoding=gzip", err, sizeof(err)), -EINVAL);
	cr_assert_eq(am_rw_check_headers("X-Prometheus-Remote-Write-Version=2", err, sizeof(err)),
		     -EINVAL);
	cr_assert_eq(am_rw_check_headers("X-A=%zz", err, sizeof(err)), -EINVAL);
	cr_assert_eq(am_rw_check_headers("X-A=%0", err, sizeof(err)), -EINVAL);
	cr_assert_eq(am_rw_check_headers("X-A=%00", err, sizeof(err)), -EINVAL, "NUL escape");
	cr_assert_eq(am_rw_check_headers("X-A=a%0d%0aX-Evil: 1", err, sizeof(err)), -EINVAL,
		     "a line break in a value");
	cr_assert_eq(am_rw_check_headers("X-A", err, sizeof(err)), -EINVAL);
	cr_assert_eq(am_rw_check_headers("=v", err, sizeof(err)), -EINVAL);
	for (i = 0; i <= AM_RW_MAX_HEADERS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "X-%d=1,", i);
	cr_assert_eq(am_rw_check_headers(many, err, sizeof(err)), -EINVAL);
}

Test(remote_write_config, labels_need_valid_names_and_utf8_values)
{
	char err[400];

	cr_assert_eq(am_rw_check_labels("cluster=eu-1,job=,region=caf%C3%A9", err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(am_rw_check_labels("__name__=x", err, sizeof(err)), -EINVAL);
	cr_assert_eq(am_rw_check_labels("1a=x", err, sizeof(err)), -EINVAL);
	cr_assert_eq(am_rw_check_labels("a=%ff", err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "UTF-8"), "%s", err);
}

static void base(struct am_config *c)
{
	am_config_defaults(c);
	strcpy(c->rw_url, "http://127.0.0.1:1/api/v1/write");
}

Test(remote_write_config, instance_and_job_by_default_overridden_or_removed)
{
	struct am_rw_settings s;
	struct am_config c;
	char err[400];

	base(&c);
	cr_assert_eq(am_rw_settings_build(&c, "host-a", &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.nexternal, 2);
	cr_assert_str_eq(label(&s, "instance"), "host-a");
	cr_assert_str_eq(label(&s, "job"), "antimetal-agent");
	cr_assert(has_header(&s, "X-Prometheus-Remote-Write-Version: 0.1.0"));
	cr_assert_eq(s.nheaders, 1);
	am_rw_settings_free(&s);

	strcpy(c.rw_external_labels, "instance=db-1, job=, cluster = eu%2C1");
	strcpy(c.rw_headers, "X-Scope-OrgID=team-a,X-B=b%3Dc");
	cr_assert_eq(am_rw_settings_build(&c, "host-a", &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.nexternal, 2);
	cr_assert_str_eq(label(&s, "instance"), "db-1");
	cr_assert_null(label(&s, "job"));
	cr_assert_str_eq(label(&s, "cluster"), "eu,1");
	cr_assert(has_header(&s, "X-Scope-OrgID: team-a"));
	cr_assert(has_header(&s, "X-B: b=c"));
	am_rw_settings_free(&s);
}

Test(remote_write_config, bearer_token_and_tls_files_are_read_naming_the_key)
{
	struct am_rw_settings s;
	struct am_config c;
	char err[400], *dir = am_test_mkdtemp("rwcfg"), path[512];

	base(&c);
	snprintf(path, sizeof(path), "%s/token", dir);
	cr_assert_eq(am_test_write_file(path, "abc.def\n", 8), 0);
	strcpy(c.rw_bearer_token_file, path);
	cr_assert_eq(am_rw_settings_build(&c, "h", &s, err, sizeof(err)), 0, "%s", err);
	cr_assert(has_header(&s, "Authorization: Bearer abc.def"));
	am_rw_settings_free(&s);
	strcpy(c.rw_headers, "authorization=Basic eDp5");
	cr_assert_eq(am_rw_settings_build(&c, "h", &s, err, sizeof(err)), -EINVAL, "two of them");
	am_rw_settings_free(&s);
	cr_assert_not_null(strstr(err, "remote_write.bearer_token_file"), "%s", err);
	c.rw_headers[0] = '\0';

	cr_assert_eq(am_test_write_file(path, "\n", 1), 0);
	cr_assert_eq(am_rw_settings_build(&c, "h", &s, err, sizeof(err)), -EINVAL);
	am_rw_settings_free(&s);
	cr_assert_not_null(strstr(err, "remote_write.bearer_token_file"), "%s", err);
	cr_assert_not_null(strstr(err, "empty"), "%s", err);
	cr_assert_eq(am_test_write_file(path, "a\nb\n", 4), 0);
	cr_assert_eq(am_rw_settings_build(&c, "h", &s, err, sizeof(err)), -EINVAL);
	am_rw_settings_free(&s);
	snprintf(c.rw_bearer_token_file, sizeof(c.rw_bearer_token_file), "%s/absent", dir);
	cr_assert_neq(am_rw_settings_build(&c, "h", &s, err, sizeof(err)), 0);
	am_rw_settings_free(&s);
	cr_assert_not_null(strstr(err, "remote_write.bearer_token_file"), "%s", err);

	base(&c);
	snprintf(c.rw_ca_file, sizeof(c.rw_ca_file), "%s/absent.pem", dir);
	cr_assert_neq(am_rw_settings_build(&c, "h", &s, err, sizeof(err)), 0);
	am_rw_settings_free(&s);
	cr_assert_not_null(strstr(err, "remote_write.tls.ca_file"), "%s", err);
	base(&c);
	strcpy(c.rw_cert_file, path);
	cr_assert_eq(am_rw_settings_build(&c, "h", &s, err, sizeof(err)), -EINVAL);
	am_rw_settings_free(&s);
	cr_assert_not_null(strstr(err, "remote_write.tls.key_file"), "%s", err);
	am_test_rmtree(dir);
	free(dir);
}

Test(remote_write_config, keys_refuse_bad_values_when_set)
{
	struct am_config c;
	char err[512];

	am_config_defaults(&c);
	cr_assert_eq(c.rw_url[0], '\0', "off by default");
	cr_assert_eq(c.rw_interval_ms, 0, "the collection interval by default");
	cr_assert_eq(
	    am_config_set(&c, "remote_write.url", "http://vm:8428/api/v1/write", err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(am_config_set(&c, "remote_write.url", "vm:8428", err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "remote_write.url"), "%s", err);
	cr_assert_eq(am_config_set(&c, "remote_write.headers", "X Y=1", err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "remote_write.headers"), "%s", err);
	cr_assert_eq(am_config_set(&c, "remote_write.external_labels", "a.b=1", err, sizeof(err)),
		     -EINVAL);
	cr_assert_not_null(strstr(err, "remote_write.external_labels"), "%s", err);
	cr_assert_eq(am_config_set(&c, "remote_write.interval", "500ms", err, sizeof(err)),
		     -EINVAL);
	cr_assert_eq(am_config_set(&c, "remote_write.interval", "30s", err, sizeof(err)), 0);
	cr_assert_eq(c.rw_interval_ms, 30000);
	cr_assert_eq(am_config_set(&c, "remote_write.queue_bytes", "64M", err, sizeof(err)), 0);
	cr_assert_eq(c.rw_queue_bytes, 64ull << 20);
	/* An empty value turns a checked key off again. */
	cr_assert_eq(am_config_set(&c, "remote_write.url", "", err, sizeof(err)), 0);
}
