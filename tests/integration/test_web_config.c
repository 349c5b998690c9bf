/* /metrics over TLS with basic authentication, configured by node_exporter's web configuration
 * file: curl with and without credentials and client certificates, errors located in the file,
 * a SIGHUP that changes the password, and a real Prometheus scraping over TLS with basic auth.
 * Certificates are made by openssl for each test; bcrypt hashes by libcrypt. */
#include <criterion/criterion.h>
#include <crypt.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_get.h"
#include "testutil.h"

#define AGENT	   AM_TEST_BUILD_DIR "/antimetal-agent"
#define OPENSSL	   "/usr/bin/openssl"
#define CURL	   "/usr/bin/curl"
#define PROMETHEUS "/usr/bin/prometheus"

static char *dir;
static pid_t pids[2] = {-1, -1}; /* agent, prometheus */

static void setup(void)
{
	dir = am_test_mkdtemp("webcfg");
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	am_test_reap_all(pids, 2);
	am_test_rmtree(dir);
	free(dir);
}

static void need(const char *tool)
{
	if (access(tool, X_OK))
		cr_skip_test("skipped: needs %s (scripts/install-deps.sh installs it)", tool);
}

static char *in_dir(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

static void write_in_dir(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void write_in_dir(const char *name, const char *fmt, ...)
{
	char *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	cr_assert_eq(am_test_write_file(in_dir(name), text, (size_t)n), 0);
	free(text);
}

static void run_ok(char *const argv[])
{
	struct am_strbuf err = {0};
	int status = am_test_run(argv, NULL, &err);

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed: %s", argv[0],
		  err.data ? err.data : "");
	am_strbuf_free(&err);
}

/* A CA NAME, and a certificate NAME.crt/NAME.key signed by CA (for 127.0.0.1). */
static void make_ca(const char *ca)
{
	char key[64], crt[64], subj[64];
	char *argv[] = {OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", NULL,
			"-out",	 NULL,	"-days", "1",	    "-subj",	subj,	  NULL};

	snprintf(key, sizeof(key), "%s.key", ca);
	snprintf(crt, sizeof(crt), "%s.crt", ca);
	snprintf(subj, sizeof(subj), "/CN=%s", ca);
	argv[7] = in_dir(key);
	argv[9] = in_dir(crt);
	run_ok(argv);
}

static void make_cert(const char *name, const char *ca)
{
	char key[64], csr[64], crt[64], cakey[64], cacrt[64], subj[64];
	char *req[] = {OPENSSL, "req",	"-newkey", "rsa:2048", "-nodes", "-keyout",
		       NULL,	"-out", NULL,	   "-subj",    subj,	 NULL};
	char *sign[] = {
	    OPENSSL,	       "x509", "-req", "-in",	NULL, "-CA",	  NULL, "-CAkey", NULL,
	    "-CAcreateserial", "-out", NULL,   "-days", "1",  "-extfile", NULL, NULL};

	snprintf(key, sizeof(key), "%s.key", name);
	snprintf(csr, sizeof(csr), "%s.csr", name);
	snprintf(crt, sizeof(crt), "%s.crt", name);
	snprintf(cakey, sizeof(cakey), "%s.key", ca);
	snprintf(cacrt, sizeof(cacrt), "%s.crt", ca);
	snprintf(subj, sizeof(subj), "/CN=%s", name);
	req[6] = in_dir(key);
	req[8] = in_dir(csr);
	run_ok(req);
	write_in_dir("ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
	sign[4] = in_dir(csr);
	sign[6] = in_dir(cacrt);
	sign[8] = in_dir(cakey);
	sign[11] = in_dir(crt);
	sign[15] = in_dir("ext");
	run_ok(sign);
}

/* A bcrypt hash of PASS (cost 5: fast tests; the cost is the hash's, not the agent's). */
static void bcrypt(const char *pass, char *out, size_t len)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd = {0};

	cr_assert_not_null(crypt_gensalt_rn("$2b$", 5, NULL, 0, salt, sizeof(salt)));
	cr_assert_not_null(crypt_r(pass, salt, &cd));
	cr_assert_lt(strlen(cd.output), len);
	memcpy(out, cd.output, strlen(cd.output) + 1);
}

static int start_agent(const char *web)
{
	static char listen[64];
	int port = am_http_free_port();
	char *argv[] = {AGENT,
			"run",
			"--config",
			"/dev/null",
			"--listen",
			listen,
			"--no-execsnoop",
			"--no-profiler",
			"--web.config.file",
			(char *)web,
			NULL};

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	pids[0] = am_test_spawn_log(argv, dir, "agent");
	return port;
}

/* curl's HTTP status for https://127.0.0.1:PORT/metrics with EXTRA arguments (NULL-ended);
 * 0 when no HTTP answer came (TLS refused). */
static int curl_status(int port, ...)
{
	char url[128], *argv[24];
	struct am_strbuf out = {0};
	const char *a;
	va_list ap;
	int n = 0, code;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/metrics", port);
	argv[n++] = CURL;
	argv[n++] = "-s";
	argv[n++] = "-o";
	argv[n++] = "/dev/null";
	argv[n++] = "-w";
	argv[n++] = "%{http_code}";
	argv[n++] = "--max-time";
	argv[n++] = "10";
	argv[n++] = "--cacert";
	argv[n++] = in_dir("ca.crt");
	va_start(ap, port);
	while ((a = va_arg(ap, const char *)) != NULL && n < 22)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n++] = url;
	argv[n] = NULL;
	am_test_run(argv, &out, NULL);
	code = out.data ? atoi(out.data) : 0;
	am_strbuf_free(&out);
	return code;
}

/* Wait until an authenticated scrape answers 200. */
static void wait_up(int port, const char *userpass)
{
	long long deadline = am_test_now_ms() + 15000;
	struct am_strbuf b = {0};

	while (curl_status(port, "-u", userpass, NULL) != 200) {
		cr_assert_lt(am_test_now_ms(), deadline, "agent never answered: %s",
			     am_test_log_of(dir, "agent", &b));
		am_test_sleep_ms(100);
	}
	am_strbuf_free(&b);
}

static void tls_files(void)
{
	need(OPENSSL);
	need(CURL);
	make_ca("ca");
	make_cert("server", "ca");
}

Test(web_config, tls_and_basic_auth_with_curl, .init = setup, .fini = teardown, .timeout = 120)
{
	char hash[128];
	int port;

	tls_files();
	bcrypt("s3cret", hash, sizeof(hash));
	write_in_dir("web.yml",
		     "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		     "basic_auth_users:\n  prom: '%s'\n",
		     hash);
	port = start_agent(in_dir("web.yml"));
	wait_up(port, "prom:s3cret");
	cr_assert_eq(curl_status(port, NULL), 401);
	cr_assert_eq(curl_status(port, "-u", "prom:wrong", NULL), 401);
	cr_assert_eq(curl_status(port, "-u", "nobody:s3cret", NULL), 401);
	cr_assert_eq(curl_status(port, "-u", "prom:s3cret", NULL), 200);
	/* exporter-toolkit's default minimum is TLS 1.2. */
	cr_assert_eq(curl_status(port, "-u", "prom:s3cret", "--tls-max", "1.1", NULL), 0);
	/* Plain HTTP to the TLS port gets no metrics. */
	{
		struct am_http_response r = {0};

		if (!am_http_get("127.0.0.1", port, "/metrics", 3000, &r))
			cr_assert_neq(r.status, 200);
		am_http_response_free(&r);
	}
}

Test(web_config, client_certificates_are_verified, .init = setup, .fini = teardown, .timeout = 120)
{
	struct am_strbuf b = {0};
	long long deadline;
	int port;

	tls_files();
	make_cert("client", "ca");
	make_ca("other");
	make_cert("intruder", "other");
	write_in_dir("web.yml", "tls_server_config:\n  cert_file: server.crt\n"
				"  key_file: server.key\n  client_ca_file: ca.crt\n"
				"  client_auth_type: RequireAndVerifyClientCert\n"
				"  min_version: TLS13\n");
	port = start_agent(in_dir("web.yml"));
	deadline = am_test_now_ms() + 15000;
	while (curl_status(port, "--cert", in_dir("client.crt"), "--key", in_dir("client.key"),
			   NULL) != 200) {
		cr_assert_lt(am_test_now_ms(), deadline, "never up: %s",
			     am_test_log_of(dir, "agent", &b));
		am_test_sleep_ms(100);
	}
	cr_assert_eq(curl_status(port, NULL), 403);
	cr_assert_eq(curl_status(port, "--cert", in_dir("intruder.crt"), "--key",
				 in_dir("intruder.key"), NULL),
		     403);
	cr_assert_eq(curl_status(port, "--tls-max", "1.2", "--cert", in_dir("client.crt"), "--key",
				 in_dir("client.key"), NULL),
		     0);
	am_strbuf_free(&b);
}

/* TEXT as the web configuration must fail --check-config with exit 2 and MSG in stderr. */
static void expect_refused(const char *text, const char *msg)
{
	char *argv[] = {AGENT,
			"run",
			"--config",
			"/dev/null",
			"--web.config.file",
			in_dir("bad.yml"),
			"--check-config",
			NULL};
	struct am_strbuf err = {0};
	int status;

	cr_assert_eq(am_test_write_file(in_dir("bad.yml"), text, strlen(text)), 0);
	status = am_test_run(argv, NULL, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "accepted:\n%s", text);
	cr_assert_not_null(strstr(err.data, msg), "for:\n%s\nstderr: %s", text, err.data);
	am_strbuf_free(&err);
}

Test(web_config, mistakes_are_located_in_the_file, .init = setup, .fini = teardown, .timeout = 60)
{
	tls_files();
	expect_refused("basic_auth_users:\n  prom: plaintext\n",
		       "bad.yml:2:9: basic_auth_users.prom: not a bcrypt hash");
	expect_refused("tls_server_config:\n  cert_file: server.crt\n",
		       "bad.yml:1:1: tls_server_config needs both cert_file and key_file");
	expect_refused("tls_server_config:\n  cert_file: server.crt\n  key_file: ca.key\n",
		       "bad.yml:2:14: cert_file and key_file:");
	expect_refused("tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n",
		       "nope.crt: No such file or directory");
	expect_refused("tls_srever_config:\n", "bad.yml:1:1: unknown key 'tls_srever_config'");
	expect_refused("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		       "  client_auth_type: RequireAndVerifyClientCert\n",
		       "bad.yml:4:21: client_auth_type RequireAndVerifyClientCert needs "
		       "client_ca_file");
	expect_refused("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		       "  min_version: TLS14\n",
		       "min_version and max_version must be TLS10, TLS11, TLS12 or TLS13");
	expect_refused("http_server_config:\n  http2: false\n",
		       "http_server_config is not supported");
}

Test(web_config, sighup_reads_the_web_configuration_again, .init = setup, .fini = teardown,
     .timeout = 120)
{
	char h1[128], h2[128];
	long long deadline;
	int port;

	tls_files();
	bcrypt("first", h1, sizeof(h1));
	bcrypt("second", h2, sizeof(h2));
	write_in_dir("web.yml",
		     "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		     "basic_auth_users:\n  prom: '%s'\n",
		     h1);
	port = start_agent(in_dir("web.yml"));
	wait_up(port, "prom:first");
	write_in_dir("web.yml",
		     "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		     "basic_auth_users:\n  prom: '%s'\n",
		     h2);
	kill(pids[0], SIGHUP);
	deadline = am_test_now_ms() + 10000;
	while (curl_status(port, "-u", "prom:second", NULL) != 200)
		cr_assert_lt(am_test_now_ms(), deadline, "the new password never worked");
	cr_assert_eq(curl_status(port, "-u", "prom:first", NULL), 401);
}

/* An instant query against Prometheus' HTTP API: the first value, or -1. */
static double prom_value(int port, const char *query)
{
	struct am_strbuf path = {0};
	struct am_http_response r = {0};
	double v = -1;
	const char *p;

	am_strbuf_puts(&path, "/api/v1/query?query=");
	am_http_urlencode(&path, query);
	if (!am_http_get("127.0.0.1", port, path.data, 5000, &r) && r.status == 200 &&
	    (p = strstr(r.body.data, "\"value\":[")) && (p = strstr(p, ",\"")))
		v = strtod(p + 2, NULL);
	am_http_response_free(&r);
	am_strbuf_free(&path);
	return v;
}

Test(web_config, prometheus_scrapes_over_tls_with_basic_auth, .init = setup, .fini = teardown,
     .timeout = 180)
{
	char hash[128], cfg_flag[600], tsdb_flag[600], listen_flag[64];
	struct am_strbuf b = {0};
	long long deadline;
	int aport, pport;

	need(PROMETHEUS);
	tls_files();
	bcrypt("scrape-pass", hash, sizeof(hash));
	write_in_dir("web.yml",
		     "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		     "basic_auth_users:\n  prometheus: '%s'\n",
		     hash);
	aport = start_agent(in_dir("web.yml"));
	wait_up(aport, "prometheus:scrape-pass");
	do
		pport = am_http_free_port();
	while (pport == aport);
	write_in_dir("prometheus.yml",
		     "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		     "scrape_configs:\n"
		     "  - job_name: good\n    scheme: https\n"
		     "    tls_config:\n      ca_file: %s\n"
		     "    basic_auth:\n      username: prometheus\n      password: scrape-pass\n"
		     "    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
		     "  - job_name: wrong\n    scheme: https\n"
		     "    tls_config:\n      ca_file: %s\n"
		     "    basic_auth:\n      username: prometheus\n      password: guess\n"
		     "    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
		     in_dir("ca.crt"), aport, in_dir("ca.crt"), aport);
	snprintf(cfg_flag, sizeof(cfg_flag), "--config.file=%s", in_dir("prometheus.yml"));
	snprintf(tsdb_flag, sizeof(tsdb_flag), "--storage.tsdb.path=%s", in_dir("tsdb"));
	snprintf(listen_flag, sizeof(listen_flag), "--web.listen-address=127.0.0.1:%d", pport);
	{
		char *argv[] = {PROMETHEUS, cfg_flag, tsdb_flag, listen_flag, NULL};

		pids[1] = am_test_spawn_log(argv, dir, "prometheus");
	}
	deadline = am_test_now_ms() + 60000;
	while (prom_value(pport, "up{job=\"good\"}") != 1)
		cr_assert_lt(am_test_now_ms(), deadline, "the TLS target never came up:\n%s",
			     am_test_log_of(dir, "prometheus", &b));
	cr_assert_gt(prom_value(pport, "scrape_samples_scraped{job=\"good\"}"), 100);
	cr_assert_gt(prom_value(pport, "node_memory_MemTotal_bytes{job=\"good\"}"), 0);
	deadline = am_test_now_ms() + 30000;
	while (prom_value(pport, "up{job=\"wrong\"}") != 0)
		cr_assert_lt(am_test_now_ms(), deadline, "the wrong password was never refused");
	am_strbuf_free(&b);
}
