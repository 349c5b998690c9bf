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

	for (i = 0; i < s->headers.n; i++)
		if (!strcmp(s->headers.lines[i], line))
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
	char err[400];

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
	/* The same builder as OTLP's: HTTP's own headers are refused for both. */
	cr_assert_eq(am_rw_check_headers("Host=evil.example", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "Host is set by the protocol, not a header to configure");
	cr_assert_eq(am_rw_check_headers("Transfer-Encoding=chunked", err, sizeof(err)), -EINVAL);
	/* As Prometheus: Authorization comes from the auth keys only, and its value is not
	 * repeated in the message. */
	cr_assert_eq(am_rw_check_headers("X-A=1,authorization=Bearer%20t0ken", err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "Authorization is set by remote_write.basic_auth, "
			      "remote_write.authorization or remote_write.bearer_token_file");
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
	cr_assert_eq(s.headers.n, 1);
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
	cr_assert_not_null(strstr(err, "remote_write.headers"), "%s", err);
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

/* Build C's settings; 0 and the Authorization line (NULL: none) into LINE, or the error. */
static int build_auth(const struct am_config *c, char *line, size_t len, char *err, size_t errlen)
{
	struct am_rw_settings s;
	size_t i;
	int rc = am_rw_settings_build(c, "h", &s, err, errlen);

	line[0] = '\0';
	for (i = 0; !rc && i < s.headers.n; i++)
		if (!strncmp(s.headers.lines[i], "Authorization: ", 15))
			snprintf(line, len, "%s", s.headers.lines[i]);
	am_rw_settings_free(&s);
	return rc;
}

Test(remote_write_config, basic_auth_and_authorization_as_prometheus_has_them)
{
	char err[400], line[512], *dir = am_test_mkdtemp("rwauth"), pw[512], cred[512];
	struct am_config c;

	snprintf(pw, sizeof(pw), "%s/password", dir);
	snprintf(cred, sizeof(cred), "%s/credentials", dir);
	cr_assert_eq(am_test_write_file(pw, "  open sesame \n", 15), 0);
	cr_assert_eq(am_test_write_file(cred, "tok.123\n", 8), 0);

	/* RFC 7617: base64 of "user:password"; a password file is trimmed as Prometheus does. */
	base(&c);
	strcpy(c.rw_basic_username, "agent");
	strcpy(c.rw_basic_password, "pa:ss");
	cr_assert_eq(build_auth(&c, line, sizeof(line), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(line, "Authorization: Basic YWdlbnQ6cGE6c3M=");
	c.rw_basic_password[0] = '\0';
	strcpy(c.rw_basic_password_file, pw);
	cr_assert_eq(build_auth(&c, line, sizeof(line), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(line, "Authorization: Basic YWdlbnQ6b3BlbiBzZXNhbWU=");

	/* authorization: TYPE (Bearer by default) and the credentials, inline or from a file. */
	base(&c);
	strcpy(c.rw_auth_credentials, "abc");
	cr_assert_eq(build_auth(&c, line, sizeof(line), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(line, "Authorization: Bearer abc");
	strcpy(c.rw_auth_type, " Token ");
	c.rw_auth_credentials[0] = '\0';
	strcpy(c.rw_auth_credentials_file, cred);
	cr_assert_eq(build_auth(&c, line, sizeof(line), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(line, "Authorization: Token tok.123");

	/* Nothing configured: no Authorization at all. */
	base(&c);
	cr_assert_eq(build_auth(&c, line, sizeof(line), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(line, "");
	am_test_rmtree(dir);
	free(dir);
}

/* C must be refused with MSG, and no secret of C may appear in it. */
static void auth_refused(const struct am_config *c, const char *msg)
{
	char err[400], line[512];

	cr_assert_eq(build_auth(c, line, sizeof(line), err, sizeof(err)), -EINVAL, "accepted");
	cr_assert_str_eq(err, msg);
	cr_assert_null(strstr(err, "s3cret"), "a secret in: %s", err);
}

Test(remote_write_config, auth_settings_refused_together_as_prometheus_does)
{
	struct am_config c;

	base(&c);
	strcpy(c.rw_basic_username, "u");
	strcpy(c.rw_basic_password, "s3cret");
	strcpy(c.rw_basic_password_file, "/etc/hostname");
	auth_refused(&c, "remote_write.basic_auth: at most one of password and password_file "
			 "must be configured");
	base(&c);
	strcpy(c.rw_auth_credentials, "s3cret");
	strcpy(c.rw_auth_credentials_file, "/etc/hostname");
	auth_refused(&c, "remote_write.authorization: at most one of credentials and "
			 "credentials_file must be configured");
	base(&c);
	strcpy(c.rw_basic_username, "u");
	strcpy(c.rw_auth_credentials, "s3cret");
	auth_refused(&c, "remote_write: at most one of basic_auth, authorization and "
			 "bearer_token_file must be configured");
	base(&c);
	strcpy(c.rw_basic_password, "s3cret");
	strcpy(c.rw_bearer_token_file, "/etc/hostname");
	auth_refused(&c, "remote_write: at most one of basic_auth, authorization and "
			 "bearer_token_file must be configured");
	base(&c);
	strcpy(c.rw_auth_credentials, "s3cret");
	strcpy(c.rw_bearer_token_file, "/etc/hostname");
	auth_refused(&c, "remote_write.authorization: not compatible with "
			 "remote_write.bearer_token_file");
	base(&c);
	strcpy(c.rw_auth_type, "basic");
	strcpy(c.rw_auth_credentials, "s3cret");
	auth_refused(&c, "remote_write.authorization.type: Basic is not allowed: use "
			 "remote_write.basic_auth");
	strcpy(c.rw_auth_type, "Bearer s3cret");
	auth_refused(&c, "remote_write.authorization.type: one word, such as Bearer");
	base(&c);
	strcpy(c.rw_basic_username, "a:b");
	strcpy(c.rw_basic_password, "s3cret");
	auth_refused(&c, "remote_write.basic_auth.username: a colon would end the user name "
			 "(RFC 7617)");
	base(&c);
	strcpy(c.rw_auth_credentials, "s3cret\r\nX-Evil: 1");
	auth_refused(&c, "remote_write.authorization: the value of Authorization has a control "
			 "character");
}

Test(remote_write_config, auth_keys_load_from_yaml_sections)
{
	char *dir = am_test_mkdtemp("rwauthy"), path[512], err[512];
	const char *text = "remote_write:\n  url: http://127.0.0.1:1/w\n"
			   "  basic_auth:\n    username: agent\n    password: pw\n"
			   "  authorization:\n    type: Bearer\n";
	struct am_config c;

	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	cr_assert_eq(am_test_write_file(path, text, strlen(text)), 0);
	am_config_defaults(&c);
	cr_assert_eq(am_config_load_file(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.rw_basic_username, "agent");
	cr_assert_str_eq(c.rw_basic_password, "pw");
	cr_assert_str_eq(c.rw_auth_type, "Bearer");
	cr_assert_eq(am_config_set(&c, "remote_write.authorization.credentials_file",
				   "/nonexistent", err, sizeof(err)),
		     -EINVAL);
	cr_assert_not_null(strstr(err, "remote_write.authorization.credentials_file"), "%s", err);
	am_test_rmtree(dir);
	free(dir);
}
