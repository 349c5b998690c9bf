/* antimetal-agent run: the daemon. Flags become "key=value" overrides of the configuration
 * file, so they are validated like the file and survive SIGHUP reloads. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "cli/cli_opts.h"
#include "cli/cli_resolve.h"
#include "cli/commands.h"
#include "util/log.h"

#define MAX_OVERRIDES 128

enum {
	O_CONFIG = AM_OPT_LONG,
	O_ONCE,
	O_CHECK,
	O_NO_HTTP,
	O_HOST,
	O_LEVEL,
	O_COLLECTORS,
	O_PROCFS,
	O_SYSFS,
	O_NO_EXEC,
	O_NO_PROF,
	O_CALLGRAPH,
	O_SET,
	O_BTF,
	O_WEB_CONFIG,
};

/* The short letters mean what they mean elsewhere: -o an output, -i an interval; -c is perf's
 * sample period, so the configuration file is --config only. */
static const struct am_opt options[] = {
    {.name = "config",
     .key = O_CONFIG,
     .type = AM_OPT_STRING,
     .arg = "PATH",
     .help = "configuration file; only the default may be absent",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = AM_CONFIG_DEFAULT_PATH},
    {.name = "once", .key = O_ONCE, .help = "collect one snapshot, print it as JSON lines, exit"},
    {.name = "check-config",
     .key = O_CHECK,
     .help = "validate the configuration and flags, then exit"},
    {.name = "listen",
     .key = 'l',
     .type = AM_OPT_STRING,
     .arg = "ADDR:PORT",
     .help = "HTTP listen address (http.address, http.port), [V6]:PORT"},
    {.name = "no-http", .key = O_NO_HTTP, .help = "do not serve HTTP (http.enabled=false)"},
    {.name = "web.config.file",
     .key = O_WEB_CONFIG,
     .type = AM_OPT_STRING,
     .arg = "FILE",
     .help = "TLS and basic authentication for /metrics, in node_exporter's format "
	     "(http.web_config_file)"},
    {.name = "jsonl",
     .key = 'o',
     .type = AM_OPT_STRING,
     .arg = "PATH",
     .help = "write JSON lines to PATH, '-' for stdout (jsonl.path)"},
    {.name = "hostname",
     .key = O_HOST,
     .type = AM_OPT_STRING,
     .arg = "NAME",
     .help = "host name in every line (hostname)"},
    {.name = "log-level",
     .key = O_LEVEL,
     .type = AM_OPT_STRING,
     .arg = "LEVEL",
     .help = "error, warning, info or debug (log_level)"},
    {.name = "interval",
     .key = 'i',
     .type = AM_OPT_STRING,
     .arg = "DUR",
     .help = "default collection interval, e.g. 15s (collectors.interval)"},
    {.name = "collectors",
     .key = O_COLLECTORS,
     .type = AM_OPT_STRING,
     .arg = "LIST",
     .help = "run only these system collectors (comma-separated)"},
    {.name = "procfs",
     .key = O_PROCFS,
     .type = AM_OPT_STRING,
     .arg = "DIR",
     .help = "read /proc from DIR (paths.procfs)"},
    {.name = "sysfs",
     .key = O_SYSFS,
     .type = AM_OPT_STRING,
     .arg = "DIR",
     .help = "read /sys from DIR (paths.sysfs)"},
    {.name = "no-execsnoop", .key = O_NO_EXEC, .help = "(execsnoop.enabled=false)"},
    {.name = "no-profiler", .key = O_NO_PROF, .help = "(profiler.enabled=false)"},
    {.name = "call-graph",
     .key = O_CALLGRAPH,
     .type = AM_OPT_STRING,
     .arg = "MODE",
     .help = "fp, dwarf[,SIZE] or auto[,SIZE]: how the profiler takes user\n"
	     "stacks, as profile's option (profiler.call_graph)"},
    {.name = "set",
     .key = O_SET,
     .type = AM_OPT_STRING,
     .arg = "KEY=VALUE",
     .help = "set any configuration key, e.g. --set jsonl.keep=3"},
    {.name = "btf",
     .key = O_BTF,
     .type = AM_OPT_STRING,
     .arg = "FILE",
     .help = "kernel BTF for the eBPF collectors where the kernel has none"},
    {0},
};

static const struct am_cmd cmd = {
    .name = "run",
    .synopsis = "[OPTIONS]",
    .about = "Run every enabled collector on its interval; serve Prometheus /metrics and\n"
	     "/healthz, and write JSON lines when configured. SIGHUP reloads the configuration,\n"
	     "SIGTERM or SIGINT stops.",
    .opts = options,
    .footer = "Exit status: 0 success, 1 a runtime failure, 2 bad usage or an invalid\n"
	      "configuration.",
};

/* Flags that are one configuration key: VALUE NULL takes the option's argument. */
static const struct {
	int key;
	const char *cfg, *value;
} direct[] = {
    {O_NO_HTTP, "http.enabled", "false"},
    {O_WEB_CONFIG, "http.web_config_file", NULL},
    {'o', "jsonl.path", NULL},
    {O_HOST, "hostname", NULL},
    {O_LEVEL, "log_level", NULL},
    {'i', "collectors.interval", NULL},
    {O_PROCFS, "paths.procfs", NULL},
    {O_SYSFS, "paths.sysfs", NULL},
    {O_NO_EXEC, "execsnoop.enabled", "false"},
    {O_NO_PROF, "profiler.enabled", "false"},
    {O_CALLGRAPH, "profiler.call_graph", NULL},
};

struct args {
	struct am_agent_options o;
	char *items[MAX_OVERRIDES]; /* "key=value" */
	size_t n;
	bool once, check;
	const char *btf;
};

static int add(struct args *a, const char *key, const char *value)
{
	char *s;

	if (a->n == MAX_OVERRIDES)
		return am_cli_usage_error(&cmd, "more than %d configuration options",
					  MAX_OVERRIDES);
	if (asprintf(&s, "%s%s%s", key, value ? "=" : "", value ? value : "") < 0)
		return AM_EXIT_FAIL;
	a->items[a->n++] = s;
	return 0;
}

/* --listen: "ADDR:PORT", "[V6]:PORT" or ":PORT"; a bad value is named whole. */
static int add_listen(struct args *a, const char *arg)
{
	const char *colon = strrchr(arg, ':'), *addr = arg;
	unsigned char bin[sizeof(struct in6_addr)];
	char host[INET6_ADDRSTRLEN];
	size_t len;
	int rc;

	if (!colon || !colon[1])
		return am_cli_usage_error(
		    &cmd, "--listen: '%s' is not ADDR:PORT, [V6]:PORT or :PORT", arg);
	len = (size_t)(colon - arg);
	if (arg[0] == '[') {
		if (len < 2 || arg[len - 1] != ']')
			return am_cli_usage_error(
			    &cmd, "--listen: '%s': an IPv6 address needs its ']' before :PORT",
			    arg);
		addr++;
		len -= 2;
	}
	if (len >= sizeof(host))
		return am_cli_usage_error(&cmd, "--listen: '%s': the address is too long", arg);
	memcpy(host, addr, len);
	host[len] = '\0';
	if (len && inet_pton(AF_INET, host, bin) != 1 && inet_pton(AF_INET6, host, bin) != 1)
		return am_cli_usage_error(
		    &cmd, "--listen: '%s': '%s' is not an IPv4 or IPv6 address", arg, host);
	rc = len ? add(a, "http.address", host) : 0;
	return rc ? rc : add(a, "http.port", colon + 1);
}

static int add_collectors(struct args *a, const char *list)
{
	char *copy = strdup(list), *save = NULL, *name, key[128];
	int rc = copy ? add(a, "collectors.enabled", "false") : AM_EXIT_FAIL;

	for (name = strtok_r(copy, ",", &save); name && !rc; name = strtok_r(NULL, ",", &save)) {
		snprintf(key, sizeof(key), "collectors.%s.enabled", name);
		rc = add(a, key, "true");
	}
	free(copy);
	return rc;
}

static int set_option(void *ctx, const struct am_opt *opt, const struct am_opt_value *v)
{
	struct args *a = ctx;
	size_t i;

	for (i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
		if (direct[i].key == opt->key)
			return add(a, direct[i].cfg, direct[i].value ? direct[i].value : v->str);
	switch (opt->key) {
	case O_CONFIG:
		a->o.config_path = v->str;
		break;
	case O_ONCE:
		a->once = true;
		break;
	case O_CHECK:
		a->check = true;
		break;
	case 'l':
		return add_listen(a, v->str);
	case O_COLLECTORS:
		return add_collectors(a, v->str);
	case O_SET:
		if (!strchr(v->str, '='))
			return am_cli_usage_error(&cmd, "--set: '%s' is not KEY=VALUE", v->str);
		return add(a, v->str, NULL);
	case O_BTF:
		a->btf = v->str;
		break;
	}
	return 0;
}

/* The BTF and the configuration, then what was asked: check, once, or the daemon. */
static int run(struct args *a)
{
	char err[1024], btf[4096];
	struct am_config cfg;
	int rc;

	a->o.overrides = (const char *const *)a->items;
	a->o.noverrides = a->n;
	/* no BTF at all only means the eBPF collectors will not start, which they log */
	rc = am_cli_btf(&cmd, a->btf, btf, sizeof(btf));
	if (rc == AM_EXIT_USAGE)
		return rc;
	a->o.btf_path = !rc && btf[0] ? btf : NULL;
	if (am_agent_load_config(&a->o, &cfg, err, sizeof(err))) {
		fprintf(stderr, "antimetal-agent run: invalid configuration: %s\n", err);
		return AM_EXIT_USAGE;
	}
	if (a->check) {
		printf("configuration OK\n");
		return AM_EXIT_OK;
	}
	return a->once ? am_agent_once(&cfg) : am_agent_run(&a->o, &cfg);
}

int cmd_run(int argc, char **argv)
{
	struct args a = {0};
	int first, status;
	size_t i;

	status = am_cli_parse(&cmd, argc, argv, set_option, &a, &first);
	if (status == AM_CLI_HELP)
		status = AM_EXIT_OK;
	else if (!status)
		status = run(&a);
	for (i = 0; i < a.n; i++)
		free(a.items[i]);
	return status;
}
