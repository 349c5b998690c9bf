/* The daemon's configuration: defaults, a YAML file (libyaml), and `key=value` overrides from
 * flags, all validated through one key table so a bad value is reported the same way
 * wherever it came from. */
#ifndef ANTIMETAL_AGENT_CONFIG_H
#define ANTIMETAL_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/log.h"

#define AM_CONFIG_DEFAULT_PATH "/etc/antimetal-agent/config.yaml"
/* Not node_exporter's 9100, nor OpenTelemetry's 9464, nor Prometheus' own 9090-9094. */
#define AM_CONFIG_DEFAULT_PORT	 9840
#define AM_CONFIG_MAX_COLLECTORS 32
#define AM_CONFIG_PATH_MAX	 1024
#define AM_CONFIG_MAX_CGROUPS	 64 /* the profiler's filter (PROFILER_MAX_CGROUPS) */

/* OTLP/HTTP export of metrics and logs: the otlp.* keys, also set by the standard OTEL_*
 * variables (agent/otel_env.h says how they map and which wins). */
#define AM_OTLP_URL_MAX 1024
/* One signal's own settings (otlp.metrics_*, otlp.logs_*; OTEL_EXPORTER_OTLP_METRICS_* and
 * _LOGS_*): each beats the general one of the same name; "" or 0 = the general one's. */
struct am_otlp_signal_config {
	char endpoint[AM_OTLP_URL_MAX]; /* used as is: no /v1/... appended */
	char headers[2048];
	char compression[8];
	uint64_t timeout_ms;
	char certificate[AM_CONFIG_PATH_MAX];
	char client_certificate[AM_CONFIG_PATH_MAX];
	char client_key[AM_CONFIG_PATH_MAX];
};
struct am_otlp_config {
	char endpoint[AM_OTLP_URL_MAX]; /* base URL: /v1/metrics, /v1/logs appended */
	struct am_otlp_signal_config metrics_signal, logs_signal;
	char headers[2048];  /* "k=v,k2=v2", values percent-encoded; checked when set */
	char compression[8]; /* "gzip" or "none" */
	char protocol[16];   /* "http/protobuf": the only one this agent speaks */
	uint64_t timeout_ms; /* one request */
	char certificate[AM_CONFIG_PATH_MAX];	     /* extra CA bundle (PEM); "" = the system's */
	char client_certificate[AM_CONFIG_PATH_MAX]; /* mTLS (PEM); "" = none */
	char client_key[AM_CONFIG_PATH_MAX];
	int metrics; /* -1 auto: on when an endpoint is set; 0 off; 1 on (default endpoint) */
	int logs;
	uint64_t metrics_interval_ms; /* OTEL_METRIC_EXPORT_INTERVAL */
	uint64_t logs_delay_ms;	      /* OTEL_BLRP_SCHEDULE_DELAY: log records batched this long */
	unsigned logs_batch_size;     /* OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: records per request */
	bool logs_kmsg;		      /* kernel log records too (/dev/kmsg from its end) */
	bool logs_exits;	      /* process exits too, beside execs */
	/* Retries (0: the sender's defaults, 5 s, 30 s and 5 min): first backoff, longest
	 * backoff, and how long a payload is retried before it is dropped. */
	uint64_t retry_initial_backoff_ms, retry_max_backoff_ms, retry_max_elapsed_ms;
	uint64_t queue_bytes;		/* each signal's delivery queue */
	char resource_attributes[2048]; /* "k=v,..." as OTEL_RESOURCE_ATTRIBUTES */
	char service_name[256];		/* "" = antimetal-agent */
};

/* Per-collector settings; unset fields fall back to the collectors-wide defaults. */
struct am_collector_config {
	char name[32];
	int enabled;	      /* -1 unset, else 0/1 */
	uint64_t interval_ms; /* 0 unset */
};

/* profiler.symbol_cache_bytes' default: with it the daemon stayed under 64 MiB of RSS with
 * unwinding on, on a busy host (docs/profiler.md, bench/bench_unwind.sh). */
#define AM_PROFILER_SYMBOL_CACHE_DEFAULT (16ull << 20)
/* cgroup v2 subtrees by id, resolved from their paths when the configuration is loaded. */
struct am_cgroup_filter {
	uint64_t ids[AM_CONFIG_MAX_CGROUPS];
	unsigned n; /* 0: every cgroup */
};

struct am_config {
	char hostname[256]; /* "" = the kernel's host name */
	enum am_log_level log_level;

	/* The host's root as the agent sees it ("/host" in a container; "/" = its own): procfs,
	 * sysfs and devfs left at their defaults are taken under it, and the cgroup hierarchies
	 * are found in ROOTFS/proc/1/mountinfo, node_exporter's --path.rootfs. */
	char rootfs[AM_CONFIG_PATH_MAX];
	char procfs[AM_CONFIG_PATH_MAX];
	char sysfs[AM_CONFIG_PATH_MAX];
	char devfs[AM_CONFIG_PATH_MAX];
	char textfile_dir[AM_CONFIG_PATH_MAX]; /* *.prom files served as-is; "" = none */

	bool http_enabled;
	char http_address[256];
	unsigned http_port;
	/* /metrics names host metrics antimetal_* as before node_exporter compatibility (the
	 * default, false, serves node_exporter 1.5's names). */
	bool http_antimetal_names;
	char http_web_config_file[AM_CONFIG_PATH_MAX]; /* TLS and basic auth; "" = plain HTTP */

	char jsonl_path[AM_CONFIG_PATH_MAX]; /* "" = off, "-" = stdout */
	uint64_t jsonl_max_bytes;	     /* rotate when a file would grow past this */
	unsigned jsonl_keep;		     /* rotated files kept: path.1 .. path.N */

	bool collectors_enabled; /* default for every system collector */
	uint64_t interval_ms;	 /* default interval of every system collector */
	struct am_collector_config collectors[AM_CONFIG_MAX_COLLECTORS];
	size_t ncollectors;
	bool cgroup_all;	   /* every cgroup, not only containers, pods and systemd units */
	unsigned cgroup_max;	   /* cgroups exported per cycle; the rest are counted */
	unsigned cgroup_keep_open; /* cgroup file descriptors kept between cycles, 0: none */
	/* filesystem: mount points and types left out (POSIX extended regular expressions), and
	 * the wait for statfs per cycle */
	char fs_mount_points_exclude[512];
	char fs_types_exclude[512];
	uint64_t fs_timeout_ms;

	bool execsnoop_enabled;
	bool oom_enabled; /* OOM kills as events (tracepoint, else the kernel log) */

	bool profiler_enabled;
	unsigned profiler_frequency_hz;
	uint64_t profiler_window_ms;
	char profiler_dir[AM_CONFIG_PATH_MAX];
	unsigned profiler_retention;  /* pprof files kept in profiler_dir */
	bool profiler_demangle;	      /* C++/Rust names demangled (the mangled kept in pprof) */
	unsigned profiler_max_stack;  /* frames per stack (profile --max-stack) */
	bool profiler_lines;	      /* file:line and inlined functions in pprof (DWARF read) */
	char profiler_call_graph[24]; /* fp, dwarf[,SIZE], auto[,SIZE] (profile --call-graph) */
	uint64_t profiler_symbol_cache_bytes;	  /* symbol/CFI modules kept across windows */
	struct am_cgroup_filter profiler_cgroups; /* profile --cgroup, each a whole subtree */

	/* SIGTERM/SIGINT: how long the push exporters may take to deliver what they hold. */
	uint64_t export_shutdown_timeout_ms;
	/* Prometheus remote_write (docs/export.md); off while rw_url is "" */
	char rw_url[AM_CONFIG_PATH_MAX];
	uint64_t rw_interval_ms; /* 0: collectors.interval */
	uint64_t rw_timeout_ms;
	uint64_t rw_queue_bytes;
	char rw_headers[2048];	       /* "Name=value,..." */
	char rw_external_labels[1024]; /* "name=value,..." over instance and job */
	bool rw_metadata;	       /* type, help and unit of each family, once a minute */
	char rw_bearer_token_file[AM_CONFIG_PATH_MAX];
	/* remote_write.basic_auth.* and .authorization.*, as Prometheus's (one of them at most) */
	char rw_basic_username[256], rw_basic_password[256];
	char rw_basic_password_file[AM_CONFIG_PATH_MAX];
	char rw_auth_type[64], rw_auth_credentials[2048];
	char rw_auth_credentials_file[AM_CONFIG_PATH_MAX];
	char rw_ca_file[AM_CONFIG_PATH_MAX];
	char rw_cert_file[AM_CONFIG_PATH_MAX];
	char rw_key_file[AM_CONFIG_PATH_MAX];

	struct am_otlp_config otlp;
};

/* Fill C with the documented defaults. */
void am_config_defaults(struct am_config *c);

/* Apply the YAML file PATH on top of C. A missing file is -ENOENT (C untouched), which callers
 * treat as "defaults" only for the default path. Any other problem is -EINVAL (or -errno) with
 * "PATH:LINE:COLUMN: reason" written to ERR; C may then be partly changed, so load into a copy. */
int am_config_load_file(struct am_config *c, const char *path, char *err, size_t errlen);

/* As am_config_load_file, from TEXT; NAME stands for the file in messages. */
int am_config_load_string(struct am_config *c, const char *text, size_t len, const char *name,
			  char *err, size_t errlen);

/* Set one dotted KEY ("http.port", "collectors.cpu.interval") from its text form, as a flag
 * override does; a list (profiler.cgroups) is given comma-separated and replaces the one set
 * before. Returns 0 or -EINVAL with the reason in ERR. */
int am_config_set(struct am_config *c, const char *key, const char *value, char *err,
		  size_t errlen);
/* As am_config_set, with NAME (an environment variable) instead of KEY in messages. */
int am_config_set_named(struct am_config *c, const char *key, const char *value, const char *name,
			char *err, size_t errlen);

/* After loading: put procfs, sysfs and devfs that were left at their defaults under rootfs. */
void am_config_resolve_roots(struct am_config *c);

/* Whether system collector NAME runs under C. */
bool am_config_collector_enabled(const struct am_config *c, const char *name);
/* The collection interval of system collector NAME under C, in milliseconds. */
uint64_t am_config_collector_interval_ms(const struct am_config *c, const char *name);

/* Parse a duration ("500ms", "15s", "2m", "1h"; a bare number is seconds) into milliseconds.
 * Returns 0 or -EINVAL. */
int am_config_parse_duration(const char *s, uint64_t *ms);

#endif
