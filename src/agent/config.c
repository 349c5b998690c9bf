#include "agent/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "agent/remote_write_config.h"
#include "agent/otel_env.h"
#include "agent/yaml_load.h"
#include "collectors/ebpf/profiler.h"
#include "collectors/system/collector.h"
#include "util/file.h"

enum kind {
	K_STR,
	K_PATH,
	K_ADDR,
	K_BOOL,
	K_UINT,
	K_DURATION,
	K_SIZE,
	K_LOGLEVEL,
	K_URL,	     /* http:// or https:// with a host; "" = unset */
	K_KVLIST,    /* "k=v,k2=v2" with percent-encoded values (OTEL_RESOURCE_ATTRIBUTES) */
	K_HEADERS,   /* K_KVLIST of HTTP headers (OTEL_EXPORTER_OTLP_HEADERS), each checked */
	K_CHOICE,    /* one of choice_lists[MIN]; MAX 1: "" too (unset) */
	K_AUTOBOOL,  /* int: auto (-1), false, true */
	K_FILE,	     /* a readable file; "" = none */
	K_REGEX,     /* a POSIX extended regex, stored as text */
	K_CALLGRAPH, /* fp, dwarf[,SIZE], auto[,SIZE] */
	K_CGROUPS,   /* a list of cgroup v2 paths (struct am_cgroup_filter) */
};

/* One settable key: where it lives in struct am_config and what it accepts. */
struct key {
	const char *path;
	enum kind kind;
	size_t off, size;
	uint64_t min, max; /* K_UINT and K_DURATION (milliseconds) and K_SIZE bounds */
};

#define F(field) offsetof(struct am_config, field), sizeof(((struct am_config *)0)->field)
#define DAY_MS	 (24ull * 3600 * 1000)

enum { CHOICES_COMPRESSION, CHOICES_PROTOCOL };
static const char *const choice_lists[][3] = {
    [CHOICES_COMPRESSION] = {"gzip", "none", NULL},
    [CHOICES_PROTOCOL] = {"http/protobuf", NULL},
};

static const struct key keys[] = {
    {"hostname", K_STR, F(hostname), 0, 0},
    {"log_level", K_LOGLEVEL, F(log_level), 0, 0},
    {"paths.rootfs", K_PATH, F(rootfs), 0, 0},
    {"paths.procfs", K_PATH, F(procfs), 0, 0},
    {"paths.sysfs", K_PATH, F(sysfs), 0, 0},
    {"paths.devfs", K_PATH, F(devfs), 0, 0},
    {"paths.textfile", K_STR, F(textfile_dir), 0, 0},
    {"http.enabled", K_BOOL, F(http_enabled), 0, 0},
    {"http.address", K_ADDR, F(http_address), 0, 0},
    {"http.port", K_UINT, F(http_port), 1, 65535},
    {"http.antimetal_names", K_BOOL, F(http_antimetal_names), 0, 0},
    {"http.web_config_file", K_STR, F(http_web_config_file), 0, 0},
    {"jsonl.path", K_STR, F(jsonl_path), 0, 0},
    {"jsonl.max_size", K_SIZE, F(jsonl_max_bytes), 4096, 1ull << 40},
    {"jsonl.keep", K_UINT, F(jsonl_keep), 0, 1000},
    {"collectors.enabled", K_BOOL, F(collectors_enabled), 0, 0},
    {"collectors.interval", K_DURATION, F(interval_ms), 100, DAY_MS},
    {"collectors.cgroup.all", K_BOOL, F(cgroup_all), 0, 0},
    {"collectors.cgroup.max", K_UINT, F(cgroup_max), 1, 1000000},
    {"collectors.cgroup.keep_open", K_UINT, F(cgroup_keep_open), 0, 1000000},
    {"collectors.filesystem.mount_points_exclude", K_REGEX, F(fs_mount_points_exclude), 0, 0},
    {"collectors.filesystem.fs_types_exclude", K_REGEX, F(fs_types_exclude), 0, 0},
    {"collectors.filesystem.timeout", K_DURATION, F(fs_timeout_ms), 10, 60000},
    {"execsnoop.enabled", K_BOOL, F(execsnoop_enabled), 0, 0},
    {"oom.enabled", K_BOOL, F(oom_enabled), 0, 0},
    {"profiler.enabled", K_BOOL, F(profiler_enabled), 0, 0},
    {"profiler.frequency", K_UINT, F(profiler_frequency_hz), 1, 10000},
    {"profiler.window", K_DURATION, F(profiler_window_ms), 1000, DAY_MS},
    {"profiler.output_dir", K_PATH, F(profiler_dir), 0, 0},
    {"profiler.retention", K_UINT, F(profiler_retention), 1, 100000},
    {"profiler.demangle", K_BOOL, F(profiler_demangle), 0, 0},
    {"profiler.max_stack", K_UINT, F(profiler_max_stack), 1, AM_PROFILER_MAX_STACK_UNWIND},
    {"profiler.call_graph", K_CALLGRAPH, F(profiler_call_graph), 0, 0},
    {"profiler.lines", K_BOOL, F(profiler_lines), 0, 0},
    {"profiler.symbol_cache_bytes", K_SIZE, F(profiler_symbol_cache_bytes), 1 << 20, 1ull << 40},
    {"profiler.cgroups", K_CGROUPS, F(profiler_cgroups), 0, 0},
    {"export.shutdown_timeout", K_DURATION, F(export_shutdown_timeout_ms), 0, 600000},
    {"remote_write.url", K_URL, F(rw_url), 0, 0},
    {"remote_write.interval", K_DURATION, F(rw_interval_ms), 1000, DAY_MS},
    {"remote_write.timeout", K_DURATION, F(rw_timeout_ms), 100, 600000},
    {"remote_write.queue_bytes", K_SIZE, F(rw_queue_bytes), 65536, 1ull << 32},
    {"remote_write.headers", K_STR, F(rw_headers), 0, 0},
    {"remote_write.external_labels", K_STR, F(rw_external_labels), 0, 0},
    {"remote_write.metadata", K_BOOL, F(rw_metadata), 0, 0},
    {"remote_write.bearer_token_file", K_FILE, F(rw_bearer_token_file), 0, 0},
    {"remote_write.basic_auth.username", K_STR, F(rw_basic_username), 0, 0},
    {"remote_write.basic_auth.password", K_STR, F(rw_basic_password), 0, 0},
    {"remote_write.basic_auth.password_file", K_FILE, F(rw_basic_password_file), 0, 0},
    {"remote_write.authorization.type", K_STR, F(rw_auth_type), 0, 0},
    {"remote_write.authorization.credentials", K_STR, F(rw_auth_credentials), 0, 0},
    {"remote_write.authorization.credentials_file", K_FILE, F(rw_auth_credentials_file), 0, 0},
    {"remote_write.tls.ca_file", K_FILE, F(rw_ca_file), 0, 0},
    {"remote_write.tls.cert_file", K_FILE, F(rw_cert_file), 0, 0},
    {"remote_write.tls.key_file", K_FILE, F(rw_key_file), 0, 0},
    {"otlp.endpoint", K_URL, F(otlp.endpoint), 0, 0},
    {"otlp.metrics_endpoint", K_URL, F(otlp.metrics_signal.endpoint), 0, 0},
    {"otlp.metrics_headers", K_HEADERS, F(otlp.metrics_signal.headers), 0, 0},
    {"otlp.metrics_compression", K_CHOICE, F(otlp.metrics_signal.compression), CHOICES_COMPRESSION,
     1},
    {"otlp.metrics_timeout", K_DURATION, F(otlp.metrics_signal.timeout_ms), 1, 600000},
    {"otlp.metrics_certificate", K_FILE, F(otlp.metrics_signal.certificate), 0, 0},
    {"otlp.metrics_client_certificate", K_FILE, F(otlp.metrics_signal.client_certificate), 0, 0},
    {"otlp.metrics_client_key", K_FILE, F(otlp.metrics_signal.client_key), 0, 0},
    {"otlp.logs_endpoint", K_URL, F(otlp.logs_signal.endpoint), 0, 0},
    {"otlp.logs_headers", K_HEADERS, F(otlp.logs_signal.headers), 0, 0},
    {"otlp.logs_compression", K_CHOICE, F(otlp.logs_signal.compression), CHOICES_COMPRESSION, 1},
    {"otlp.logs_timeout", K_DURATION, F(otlp.logs_signal.timeout_ms), 1, 600000},
    {"otlp.logs_certificate", K_FILE, F(otlp.logs_signal.certificate), 0, 0},
    {"otlp.logs_client_certificate", K_FILE, F(otlp.logs_signal.client_certificate), 0, 0},
    {"otlp.logs_client_key", K_FILE, F(otlp.logs_signal.client_key), 0, 0},
    {"otlp.headers", K_HEADERS, F(otlp.headers), 0, 0},
    {"otlp.compression", K_CHOICE, F(otlp.compression), CHOICES_COMPRESSION, 0},
    {"otlp.protocol", K_CHOICE, F(otlp.protocol), CHOICES_PROTOCOL, 0},
    {"otlp.timeout", K_DURATION, F(otlp.timeout_ms), 1, 10 * 60 * 1000},
    {"otlp.certificate", K_FILE, F(otlp.certificate), 0, 0},
    {"otlp.client_certificate", K_FILE, F(otlp.client_certificate), 0, 0},
    {"otlp.client_key", K_FILE, F(otlp.client_key), 0, 0},
    {"otlp.metrics", K_AUTOBOOL, F(otlp.metrics), 0, 0},
    {"otlp.logs", K_AUTOBOOL, F(otlp.logs), 0, 0},
    {"otlp.metrics_interval", K_DURATION, F(otlp.metrics_interval_ms), 100, DAY_MS},
    {"otlp.logs_delay", K_DURATION, F(otlp.logs_delay_ms), 1, 10 * 60 * 1000},
    {"otlp.logs_batch_size", K_UINT, F(otlp.logs_batch_size), 1, 1000000},
    {"otlp.logs_kmsg", K_BOOL, F(otlp.logs_kmsg), 0, 0},
    {"otlp.logs_exits", K_BOOL, F(otlp.logs_exits), 0, 0},
    {"otlp.retry_initial_backoff", K_DURATION, F(otlp.retry_initial_backoff_ms), 1, 600000},
    {"otlp.retry_max_backoff", K_DURATION, F(otlp.retry_max_backoff_ms), 1, 600000},
    {"otlp.retry_max_elapsed", K_DURATION, F(otlp.retry_max_elapsed_ms), 1, DAY_MS},
    {"otlp.queue_bytes", K_SIZE, F(otlp.queue_bytes), 64 << 10, 1ull << 32},
    {"otlp.resource_attributes", K_KVLIST, F(otlp.resource_attributes), 0, 0},
    {"otlp.service_name", K_STR, F(otlp.service_name), 0, 0},
};

/* Strings whose syntax is checked when they are set: 0 or -EINVAL with the reason in ERR. */
static const struct {
	const char *path;
	int (*check)(const char *v, char *err, size_t errlen);
} checked[] = {
    {"remote_write.headers", am_rw_check_headers},
    {"remote_write.external_labels", am_rw_check_labels},
};

static int check_syntax(const struct key *k, const char *v, char *err, size_t errlen)
{
	char why[400];
	size_t i;

	for (i = 0; *v && i < sizeof(checked) / sizeof(checked[0]); i++) {
		if (strcmp(checked[i].path, k->path))
			continue;
		if (checked[i].check(v, why, sizeof(why))) {
			am_yaml_errf(err, errlen, "%s: %s", k->path, why);
			return -EINVAL;
		}
	}
	return 0;
}

/* Sections: mappings whose children are keys above (collectors.<name> is checked apart). */
static const char *const sections[] = {
    "paths", "http",   "jsonl", "collectors",	"execsnoop",	   "profiler",
    "oom",   "export", "otlp",	"remote_write", "remote_write.tls"};

void am_config_defaults(struct am_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = AM_LOG_INFO;
	strcpy(c->rootfs, "/");
	strcpy(c->procfs, "/proc");
	strcpy(c->sysfs, "/sys");
	strcpy(c->devfs, "/dev");
	c->http_enabled = true;
	strcpy(c->http_address, "127.0.0.1");
	c->http_port = AM_CONFIG_DEFAULT_PORT;
	c->jsonl_max_bytes = 10ull << 20;
	c->jsonl_keep = 5;
	c->collectors_enabled = true;
	c->interval_ms = 15000;
	c->cgroup_max = 2000;
	c->cgroup_keep_open = AM_CGROUP_DEFAULT_KEEP_OPEN;
	strcpy(c->fs_mount_points_exclude, AM_FS_DEFAULT_MOUNT_POINTS_EXCLUDE);
	strcpy(c->fs_types_exclude, AM_FS_DEFAULT_TYPES_EXCLUDE);
	c->fs_timeout_ms = AM_FS_DEFAULT_TIMEOUT_MS;
	c->execsnoop_enabled = true;
	c->oom_enabled = true;
	c->profiler_enabled = true;
	c->profiler_frequency_hz = 19;
	c->profiler_window_ms = 60000;
	strcpy(c->profiler_dir, "/var/lib/antimetal-agent/profiles");
	c->profiler_retention = 60;
	c->profiler_demangle = true;
	c->profiler_max_stack = AM_PROFILER_MAX_STACK;
	c->profiler_lines = true;
	strcpy(c->profiler_call_graph, "auto");
	c->profiler_symbol_cache_bytes = AM_PROFILER_SYMBOL_CACHE_DEFAULT;
	c->rw_timeout_ms = 10000;
	c->rw_queue_bytes = 16ull << 20;
	c->rw_metadata = true;
	strcpy(c->rw_auth_type, "Bearer");
	strcpy(c->otlp.compression, "gzip");
	strcpy(c->otlp.protocol, "http/protobuf");
	c->otlp.timeout_ms = 10000;
	c->otlp.metrics = -1;
	c->otlp.logs = -1;
	c->otlp.metrics_interval_ms = 60000;
	c->otlp.logs_delay_ms = 1000;
	c->otlp.logs_batch_size = 512;
	c->otlp.logs_kmsg = true;
	c->otlp.queue_bytes = 16ull << 20;
	c->export_shutdown_timeout_ms = 5000;
}

/* Put DIR (still its default DEF) under ROOT. */
static void under_root(char *dir, size_t size, const char *root, const char *def)
{
	char tmp[AM_CONFIG_PATH_MAX];

	if (strcmp(dir, def))
		return; /* set explicitly: kept */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s", root, def) < sizeof(tmp))
		snprintf(dir, size, "%s", tmp);
}

void am_config_resolve_roots(struct am_config *c)
{
	size_t n = strlen(c->rootfs);

	while (n > 1 && c->rootfs[n - 1] == '/')
		c->rootfs[--n] = '\0';
	if (!strcmp(c->rootfs, "/"))
		return;
	under_root(c->procfs, sizeof(c->procfs), c->rootfs, "/proc");
	under_root(c->sysfs, sizeof(c->sysfs), c->rootfs, "/sys");
	under_root(c->devfs, sizeof(c->devfs), c->rootfs, "/dev");
}

static int parse_u64(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;

	/* YAML 1.1 reads 010 as octal 8 and other tools may too: a leading zero is ambiguous. */
	if (!isdigit((unsigned char)*s) || (s[0] == '0' && isdigit((unsigned char)s[1])))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	*end = s;
	return 0;
}

int am_config_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *end;
	uint64_t v;
	size_t i;

	if (parse_u64(s, &v, &end))
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (v > UINT64_MAX / units[i].ms)
			return -EINVAL;
		*ms = v * units[i].ms;
		return 0;
	}
	return -EINVAL;
}

static int parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		unsigned shift;
	} units[] = {{"", 0},	{"B", 0},    {"K", 10}, {"KiB", 10},
		     {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30}};
	const char *end;
	uint64_t v;
	size_t i;

	if (parse_u64(s, &v, &end))
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (v > (UINT64_MAX >> units[i].shift))
			return -EINVAL;
		*bytes = v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

static int parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no",
									       "off"};
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i])) {
			*b = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_level(const char *s, enum am_log_level *l)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	int i;

	for (i = 0; i < 4; i++)
		if (!strcasecmp(s, names[i])) {
			*l = (enum am_log_level)i;
			return 0;
		}
	if (!strcasecmp(s, "warn")) {
		*l = AM_LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

/* The kinds the otlp.* keys add: checked by agent/otel_env.c's parsers, so a key and its
 * OTEL_* variable are refused for the same reasons. */
static int set_otel_value(struct am_config *c, const struct key *k, const char *name, const char *v,
			  char *err, size_t errlen)
{
	char *field = (char *)c + k->off;
	char why[256];
	size_t i;
	bool b;

	if (k->kind == K_AUTOBOOL) {
		if (!strcasecmp(v, "auto"))
			*(int *)field = -1;
		else if (!parse_bool(v, &b))
			*(int *)field = b;
		else {
			am_yaml_errf(err, errlen, "%s: '%s' is not true, false or auto", name, v);
			return -EINVAL;
		}
		return 0;
	}
	if (strlen(v) >= k->size) {
		am_yaml_errf(err, errlen, "%s: value is longer than %zu bytes", name, k->size - 1);
		return -EINVAL;
	}
	if (k->kind == K_CHOICE) {
		const char *const *choices = choice_lists[k->min];

		for (i = 0; choices[i] && strcmp(choices[i], v); i++)
			;
		if (!choices[i] && !(k->max && !*v)) {
			am_otel_choice_error(choices, v, why, sizeof(why));
			am_yaml_errf(err, errlen, "%s: %s", name, why);
			return -EINVAL;
		}
	} else if (*v && ((k->kind == K_URL && am_otel_url_check(v, why, sizeof(why))) ||
			  (k->kind == K_KVLIST && am_otel_kv_check(v, why, sizeof(why))) ||
			  (k->kind == K_HEADERS && am_otel_headers_check(v, why, sizeof(why))) ||
			  (k->kind == K_FILE && am_otel_file_check(v, why, sizeof(why))))) {
		am_yaml_errf(err, errlen, "%s: %s", name, why);
		return -EINVAL;
	}
	strcpy(field, v);
	return 0;
}

/* Whether V compiles as a POSIX extended regular expression (what the filesystem collector's
 * exclusions are); the reason to ERR when not. */
static int check_regex(const struct key *k, const char *v, char *err, size_t errlen)
{
	char why[160];
	regex_t re;
	int rc = regcomp(&re, v, REG_EXTENDED | REG_NOSUB);

	if (!rc) {
		regfree(&re);
		return 0;
	}
	regerror(rc, &re, why, sizeof(why));
	am_yaml_errf(err, errlen, "%s: '%s' is not a POSIX extended regular expression: %s",
		     k->path, v, why);
	return -EINVAL;
}

_Static_assert(AM_CONFIG_MAX_CGROUPS == PROFILER_MAX_CGROUPS, "one limit for the filter");

/* One more subtree for the profiler's filter, checked as profile --cgroup checks it. */
static int add_cgroup(struct am_cgroup_filter *f, const char *name, const char *v, char *err,
		      size_t errlen)
{
	char why[AM_CONFIG_PATH_MAX + 128];

	if (f->n == AM_CONFIG_MAX_CGROUPS) {
		am_yaml_errf(err, errlen, "%s: at most %d cgroups", name, AM_CONFIG_MAX_CGROUPS);
		return -EINVAL;
	}
	if (am_profiler_cgroup_resolve(v, &f->ids[f->n], why, sizeof(why))) {
		am_yaml_errf(err, errlen, "%s: %s", name, why);
		return -EINVAL;
	}
	f->n++;
	return 0;
}

/* A flag's list: comma-separated paths replacing those set before ("" for every cgroup). */
static int set_cgroups(struct am_cgroup_filter *f, const char *name, const char *v, char *err,
		       size_t errlen)
{
	char *copy = strdup(v), *save = NULL, *path;
	int rc = 0;

	if (!copy) {
		am_yaml_errf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	f->n = 0;
	for (path = strtok_r(copy, ",", &save); path && !rc; path = strtok_r(NULL, ",", &save))
		rc = add_cgroup(f, name, path, err, errlen);
	free(copy);
	return rc;
}

/* Store text VALUE into the field K describes; the reason goes to ERR on failure. */
static int set_value(struct am_config *c, const struct key *k, const char *name, const char *v,
		     char *err, size_t errlen)
{
	char *field = (char *)c + k->off;
	struct in6_addr a6;
	uint64_t u;
	bool b;

	if ((k->kind == K_UINT || k->kind == K_DURATION || k->kind == K_SIZE) && v[0] == '0' &&
	    isdigit((unsigned char)v[1])) {
		am_yaml_errf(err, errlen,
			     "%s: '%s' has a leading zero (octal in YAML 1.1): write it without",
			     name, v);
		return -EINVAL;
	}
	switch (k->kind) {
	case K_URL:
	case K_KVLIST:
	case K_HEADERS:
	case K_CHOICE:
	case K_AUTOBOOL:
	case K_FILE:
		return set_otel_value(c, k, name, v, err, errlen);
	case K_REGEX:
		if (check_regex(k, v, err, errlen))
			return -EINVAL;
		/* stored as text, compiled by its collector */
		__attribute__((fallthrough));
	case K_STR:
	case K_PATH:
	case K_ADDR:
		if (strlen(v) >= k->size) {
			am_yaml_errf(err, errlen, "%s: value is longer than %zu bytes", name,
				     k->size - 1);
			return -EINVAL;
		}
		if (k->kind == K_PATH && !*v) {
			am_yaml_errf(err, errlen, "%s: a path is required", name);
			return -EINVAL;
		}
		if (check_syntax(k, v, err, errlen))
			return -EINVAL;
		if (k->kind == K_ADDR && inet_pton(AF_INET, v, &a6) != 1 &&
		    inet_pton(AF_INET6, v, &a6) != 1) {
			am_yaml_errf(err, errlen, "%s: '%s' is not an IPv4 or IPv6 address", name,
				     v);
			return -EINVAL;
		}
		strcpy(field, v);
		return 0;
	case K_BOOL:
		if (parse_bool(v, &b)) {
			am_yaml_errf(err, errlen, "%s: '%s' is not a boolean (true or false)", name,
				     v);
			return -EINVAL;
		}
		*(bool *)field = b;
		return 0;
	case K_CALLGRAPH: {
		enum am_call_graph mode;
		uint32_t size;

		if (strlen(v) >= k->size || am_call_graph_parse(v, &mode, &size)) {
			am_yaml_errf(
			    err, errlen,
			    "%s: '%s' is not fp, dwarf[,SIZE] or auto[,SIZE] (SIZE: bytes, "
			    "a multiple of 8 up to %u)",
			    k->path, v, AM_PROFILER_COPY_MAX);
			return -EINVAL;
		}
		strcpy(field, v);
		return 0;
	}
	case K_CGROUPS:
		return set_cgroups((struct am_cgroup_filter *)field, name, v, err, errlen);
	case K_LOGLEVEL:
		if (parse_level(v, (enum am_log_level *)field)) {
			am_yaml_errf(err, errlen,
				     "%s: '%s' is not one of error, warning, info, debug", name, v);
			return -EINVAL;
		}
		return 0;
	case K_UINT: {
		const char *end;

		if (parse_u64(v, &u, &end) || *end || u < k->min || u > k->max) {
			am_yaml_errf(err, errlen, "%s: '%s' is not an integer from %llu to %llu",
				     name, v, (unsigned long long)k->min,
				     (unsigned long long)k->max);
			return -EINVAL;
		}
		*(unsigned *)field = (unsigned)u;
		return 0;
	}
	case K_DURATION:
		if (am_config_parse_duration(v, &u) || u < k->min || u > k->max) {
			am_yaml_errf(
			    err, errlen,
			    "%s: '%s' is not a duration from %llums to %llums (like 500ms, 15s, "
			    "2m)",
			    name, v, (unsigned long long)k->min, (unsigned long long)k->max);
			return -EINVAL;
		}
		*(uint64_t *)field = u;
		return 0;
	case K_SIZE:
		if (parse_size(v, &u) || u < k->min || u > k->max) {
			am_yaml_errf(
			    err, errlen,
			    "%s: '%s' is not a size from %llu to %llu bytes (suffixes K, M, G)",
			    name, v, (unsigned long long)k->min, (unsigned long long)k->max);
			return -EINVAL;
		}
		*(uint64_t *)field = u;
		return 0;
	}
	return -EINVAL;
}

static const struct key *find_key(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].path, path))
			return &keys[i];
	return NULL;
}

static struct am_collector_config *collector_slot(struct am_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ncollectors; i++)
		if (!strcmp(c->collectors[i].name, name))
			return &c->collectors[i];
	if (c->ncollectors == AM_CONFIG_MAX_COLLECTORS ||
	    strlen(name) >= sizeof(c->collectors[0].name))
		return NULL;
	c->collectors[c->ncollectors] = (struct am_collector_config){.enabled = -1};
	strcpy(c->collectors[c->ncollectors].name, name);
	return &c->collectors[c->ncollectors++];
}

/* collectors.<name>.<field>: NAME must be a registered system collector. */
static int set_collector(struct am_config *c, const char *key, const char *v, char *err,
			 size_t errlen)
{
	const char *name = key + strlen("collectors."), *dot = strchr(name, '.');
	struct am_collector_config *cc;
	char cname[64];
	bool b;

	if (!dot || (size_t)(dot - name) >= sizeof(cname)) {
		am_yaml_errf(err, errlen, "unknown key '%s'", key);
		return -EINVAL;
	}
	memcpy(cname, name, (size_t)(dot - name));
	cname[dot - name] = '\0';
	if (!am_collector_find(cname)) {
		am_yaml_errf(err, errlen, "unknown collector '%s' in '%s'", cname, key);
		return -EINVAL;
	}
	if (strcmp(dot + 1, "enabled") && strcmp(dot + 1, "interval")) {
		am_yaml_errf(err, errlen,
			     "unknown key '%s' (a collector takes enabled and interval)", key);
		return -EINVAL;
	}
	cc = collector_slot(c, cname);
	if (!cc) {
		am_yaml_errf(err, errlen, "%s: too many collector entries", key);
		return -EINVAL;
	}
	if (!strcmp(dot + 1, "enabled")) {
		if (parse_bool(v, &b)) {
			am_yaml_errf(err, errlen, "%s: '%s' is not a boolean (true or false)", key,
				     v);
			return -EINVAL;
		}
		cc->enabled = b;
		return 0;
	}
	if (am_config_parse_duration(v, &cc->interval_ms) || cc->interval_ms < 100 ||
	    cc->interval_ms > DAY_MS) {
		cc->interval_ms = 0;
		am_yaml_errf(err, errlen,
			     "%s: '%s' is not a duration from 100ms to 24h (like 500ms, 15s, 2m)",
			     key, v);
		return -EINVAL;
	}
	return 0;
}

int am_config_set(struct am_config *c, const char *key, const char *value, char *err, size_t errlen)
{
	return am_config_set_named(c, key, value, key, err, errlen);
}

int am_config_set_named(struct am_config *c, const char *key, const char *value, const char *name,
			char *err, size_t errlen)
{
	const struct key *k = find_key(key);

	if (k)
		return set_value(c, k, name, value, err, errlen);
	if (!strncmp(key, "collectors.", 11))
		return set_collector(c, key, value, err, errlen);
	am_yaml_errf(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
}

static const struct am_collector_config *collector_cfg(const struct am_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ncollectors; i++)
		if (!strcmp(c->collectors[i].name, name))
			return &c->collectors[i];
	return NULL;
}

bool am_config_collector_enabled(const struct am_config *c, const char *name)
{
	const struct am_collector_config *cc = collector_cfg(c, name);

	return cc && cc->enabled >= 0 ? cc->enabled : c->collectors_enabled;
}

uint64_t am_config_collector_interval_ms(const struct am_config *c, const char *name)
{
	const struct am_collector_config *cc = collector_cfg(c, name);

	return cc && cc->interval_ms ? cc->interval_ms : c->interval_ms;
}

/* ---- YAML ---- */

struct walk {
	struct am_config *c;
	yaml_document_t *doc;
	const char *name;
	char *err;
	size_t errlen;
};

static int at(struct walk *w, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int at(struct walk *w, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = am_yaml_verr_at(w->err, w->errlen, w->name, m, fmt, ap);
	va_end(ap);
	return rc;
}

static bool is_section(const char *path)
{
	size_t i, n;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (!strcmp(sections[i], path))
			return true;
	/* A mapping above keys (remote_write.basic_auth.username...) needs no entry above. */
	for (i = 0, n = strlen(path); i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strncmp(keys[i].path, path, n) && keys[i].path[n] == '.')
			return true;
	/* collectors.<name> is a section when NAME is a collector; an unknown name is reported
	 * by set_collector at the first key below it, or here when the section is empty. */
	return !strncmp(path, "collectors.", 11) && !strchr(path + 11, '.') && !find_key(path);
}

/* collectors.<name>.enabled or .interval (the name is checked when its section opens). */
static bool is_collector_key(const char *path)
{
	const char *dot;

	if (strncmp(path, "collectors.", 11))
		return false;
	dot = strchr(path + 11, '.');
	return dot && (!strcmp(dot, ".enabled") || !strcmp(dot, ".interval"));
}

static bool is_null_scalar(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

static int walk_mapping(struct walk *w, yaml_node_t *map, const char *prefix);

static const char *kind_name(enum kind k)
{
	switch (k) {
	case K_BOOL:
	case K_AUTOBOOL:
		return "a boolean";
	case K_UINT:
		return "an integer";
	case K_DURATION:
		return "a duration";
	case K_SIZE:
		return "a size";
	default:
		return "a value";
	}
}

/* Kinds whose empty value means "unset". */
static bool takes_empty(enum kind k)
{
	return k == K_STR || k == K_URL || k == K_KVLIST || k == K_HEADERS || k == K_FILE;
}

/* profiler.cgroups: a list (empty or null for every cgroup), each path located on error. */
static int walk_cgroups(struct walk *w, const char *path, yaml_node_t *val)
{
	struct am_cgroup_filter *f = &w->c->profiler_cgroups;
	yaml_node_item_t *i;
	char msg[AM_CONFIG_PATH_MAX + 256];

	f->n = 0;
	if (is_null_scalar(val))
		return 0;
	if (val->type != YAML_SEQUENCE_NODE)
		return at(
		    w, val->start_mark,
		    "%s: expected a list of cgroup paths ([PATH, ...] or one '- PATH' a line)",
		    path);
	for (i = val->data.sequence.items.start; i < val->data.sequence.items.top; i++) {
		yaml_node_t *n = yaml_document_get_node(w->doc, *i);
		const char *v;

		if (!n)
			continue;
		if (n->type != YAML_SCALAR_NODE || is_null_scalar(n))
			return at(w, n->start_mark, "%s: expected a cgroup path", path);
		v = (const char *)n->data.scalar.value;
		if (strlen(v) != n->data.scalar.length)
			return at(w, n->start_mark, "%s: the value contains a NUL character", path);
		if (add_cgroup(f, path, v, msg, sizeof(msg)))
			return at(w, n->start_mark, "%s", msg);
	}
	return 0;
}

static int walk_value(struct walk *w, const char *path, yaml_node_t *key, yaml_node_t *val)
{
	char msg[512];

	if (is_section(path)) {
		if (!strncmp(path, "collectors.", 11) && !am_collector_find(path + 11))
			return at(w, key->start_mark, "unknown collector '%s'", path + 11);
		if (val->type == YAML_MAPPING_NODE)
			return walk_mapping(w, val, path);
		if (is_null_scalar(val))
			return 0;
		return at(w, val->start_mark, "'%s' is a section: expected a mapping of keys",
			  path);
	}
	if (!find_key(path) && !is_collector_key(path))
		return at(w, key->start_mark, "unknown key '%s'", path);
	if (find_key(path) && find_key(path)->kind == K_CGROUPS)
		return walk_cgroups(w, path, val);
	if (val->type != YAML_SCALAR_NODE)
		return at(w, val->start_mark, "%s: expected a single value, not a %s", path,
			  val->type == YAML_MAPPING_NODE ? "mapping" : "list");
	{
		const struct key *k = find_key(path);
		const char *v = (const char *)val->data.scalar.value;

		/* A "\0" escape would cut a path short where C reads it. */
		if (strlen(v) != val->data.scalar.length)
			return at(w, val->start_mark, "%s: the value contains a NUL character",
				  path);
		if (is_null_scalar(val) && (!k || !takes_empty(k->kind)))
			return at(w, val->start_mark, "%s: missing value", path);
		/* "80" is a string in YAML: numbers, booleans, durations and sizes are plain. */
		if (val->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
		    (!k || k->kind == K_BOOL || k->kind == K_UINT || k->kind == K_DURATION ||
		     k->kind == K_SIZE || k->kind == K_AUTOBOOL))
			return at(w, val->start_mark, "%s: expected %s, not a quoted string", path,
				  kind_name(k			       ? k->kind
					    : strstr(path, ".enabled") ? K_BOOL
								       : K_DURATION));
		if (is_null_scalar(val))
			v = "";
		if (am_config_set(w->c, path, v, msg, sizeof(msg)))
			return at(w, val->start_mark, "%s", msg);
	}
	return 0;
}

static int walk_mapping(struct walk *w, yaml_node_t *map, const char *prefix)
{
	yaml_node_pair_t *p, *q;
	char path[256];
	int err;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		const char *ks;

		if (!k || !v)
			continue;
		if (k->type != YAML_SCALAR_NODE)
			return at(w, k->start_mark, "keys must be plain names");
		ks = (const char *)k->data.scalar.value;
		if (strlen(ks) != k->data.scalar.length)
			return at(w, k->start_mark, "a key contains a NUL character");
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = yaml_document_get_node(w->doc, q->key);

			if (k2 && k2->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)k2->data.scalar.value, ks))
				return at(w, k->start_mark, "duplicate key '%s'", ks);
		}
		if (!*ks || strchr(ks, '.'))
			return at(w, k->start_mark, "unknown key '%s%s%s'", prefix,
				  *prefix ? "." : "", ks);
		if (snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", ks) >=
		    (int)sizeof(path))
			return at(w, k->start_mark, "key too long");
		err = walk_value(w, path, k, v);
		if (err)
			return err;
	}
	return 0;
}

static int load(struct am_config *c, const char *text, size_t len, const char *name, char *err,
		size_t errlen)
{
	struct walk w = {c, NULL, name, err, errlen};
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = 0;

	rc = am_yaml_load(text, len, name, &doc, err, errlen);
	if (rc)
		return rc;
	w.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE)
		rc = walk_mapping(&w, root, "");
	else if (root && !is_null_scalar(root))
		rc = at(&w, root->start_mark, "the configuration must be a mapping of keys");
	yaml_document_delete(&doc);
	return rc;
}

int am_config_load_string(struct am_config *c, const char *text, size_t len, const char *name,
			  char *err, size_t errlen)
{
	return load(c, text, len, name, err, errlen);
}

/* A configuration file is small: read it whole, so errors can be located by offset too. */
#define MAX_CONFIG_BYTES (1u << 20)

int am_config_load_file(struct am_config *c, const char *path, char *err, size_t errlen)
{
	struct am_strbuf text = {0};
	int rc = am_file_read_or_chr(path, MAX_CONFIG_BYTES, &text);

	if (rc == -EFBIG)
		am_yaml_errf(err, errlen, "%s: larger than %u bytes", path, MAX_CONFIG_BYTES);
	else if (rc)
		am_yaml_errf(err, errlen, "%s: %s", path, am_file_strerror(-rc));
	else
		rc = load(c, text.data ? text.data : "", text.len, path, err, errlen);
	am_strbuf_free(&text);
	return rc;
}
