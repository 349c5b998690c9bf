/* antimetal-agent run: the daemon. Flags become "key=value" overrides of the configuration
 * file, so they are validated like the file and survive SIGHUP reloads. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "cli/commands.h"
#include "core/btf_discovery.h"
#include "util/log.h"

#define MAX_OVERRIDES 128

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: antimetal-agent run [OPTIONS]\n"
	    "\n"
	    "Run every enabled collector on its interval; serve Prometheus /metrics and\n"
	    "/healthz, and write JSON lines when configured. SIGHUP reloads the configuration,\n"
	    "SIGTERM or SIGINT stops.\n"
	    "\n"
	    "  -c, --config PATH      configuration file (default " AM_CONFIG_DEFAULT_PATH ";\n"
	    "                         only the default may be absent)\n"
	    "      --once             collect one snapshot, print it as JSON lines, exit\n"
	    "      --check-config     validate the configuration and flags, then exit\n"
	    "  -l, --listen ADDR:PORT HTTP listen address (http.address, http.port), [V6]:PORT\n"
	    "      --no-http          do not serve HTTP (http.enabled=false)\n"
	    "      --web.config.file FILE  TLS and basic authentication for /metrics, in\n"
	    "                         node_exporter's format (http.web_config_file)\n"
	    "  -o, --jsonl PATH       write JSON lines to PATH, '-' for stdout (jsonl.path)\n"
	    "      --hostname NAME    host name in every line (hostname)\n"
	    "      --log-level LEVEL  error, warning, info or debug (log_level)\n"
	    "  -i, --interval DUR     default collection interval, e.g. 15s (collectors.interval)\n"
	    "      --collectors LIST  run only these system collectors (comma-separated)\n"
	    "      --procfs DIR       read /proc from DIR (paths.procfs)\n"
	    "      --sysfs DIR        read /sys from DIR (paths.sysfs)\n"
	    "      --no-execsnoop     (execsnoop.enabled=false)\n"
	    "      --no-profiler      (profiler.enabled=false)\n"
	    "      --set KEY=VALUE    set any configuration key, e.g. --set jsonl.keep=3\n"
	    "      --btf FILE         kernel BTF for the eBPF collectors where the kernel has none\n"
	    "  -h, --help             this text\n");
}

struct overrides {
	char *items[MAX_OVERRIDES];
	size_t n;
};

static int add(struct overrides *ov, const char *key, const char *value)
{
	char *s;

	if (ov->n == MAX_OVERRIDES) {
		fprintf(stderr, "antimetal-agent run: too many options\n");
		return -1;
	}
	if (asprintf(&s, "%s%s%s", key, value ? "=" : "", value ? value : "") < 0)
		return -1;
	ov->items[ov->n++] = s;
	return 0;
}

/* --listen: "ADDR:PORT", "[V6]:PORT" or ":PORT". */
static int add_listen(struct overrides *ov, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	char addr[256];
	size_t len;

	if (!colon || !colon[1]) {
		fprintf(stderr, "antimetal-agent run: --listen '%s': expected ADDR:PORT\n", arg);
		return -1;
	}
	len = (size_t)(colon - arg);
	if (len >= 2 && arg[0] == '[' && arg[len - 1] == ']') {
		arg++;
		len -= 2;
	}
	if (len >= sizeof(addr)) {
		fprintf(stderr, "antimetal-agent run: --listen '%s': address too long\n", arg);
		return -1;
	}
	memcpy(addr, arg, len);
	addr[len] = '\0';
	if (len && add(ov, "http.address", addr))
		return -1;
	return add(ov, "http.port", colon + 1);
}

static int add_collectors(struct overrides *ov, const char *list)
{
	char *copy = strdup(list), *save = NULL, *name, key[128];
	int rc = add(ov, "collectors.enabled", "false");

	for (name = strtok_r(copy, ",", &save); name && !rc; name = strtok_r(NULL, ",", &save)) {
		snprintf(key, sizeof(key), "collectors.%s.enabled", name);
		rc = add(ov, key, "true");
	}
	free(copy);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	enum {
		O_ONCE = 256,
		O_CHECK,
		O_NO_HTTP,
		O_HOST,
		O_LEVEL,
		O_COLLECTORS,
		O_PROCFS,
		O_SYSFS,
		O_NO_EXEC,
		O_NO_PROF,
		O_SET,
		O_BTF,
		O_WEB_CONFIG
	};
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"once", no_argument, NULL, O_ONCE},
	    {"check-config", no_argument, NULL, O_CHECK},
	    {"listen", required_argument, NULL, 'l'},
	    {"no-http", no_argument, NULL, O_NO_HTTP},
	    {"jsonl", required_argument, NULL, 'o'},
	    {"hostname", required_argument, NULL, O_HOST},
	    {"log-level", required_argument, NULL, O_LEVEL},
	    {"interval", required_argument, NULL, 'i'},
	    {"collectors", required_argument, NULL, O_COLLECTORS},
	    {"procfs", required_argument, NULL, O_PROCFS},
	    {"sysfs", required_argument, NULL, O_SYSFS},
	    {"no-execsnoop", no_argument, NULL, O_NO_EXEC},
	    {"no-profiler", no_argument, NULL, O_NO_PROF},
	    {"set", required_argument, NULL, O_SET},
	    {"btf", required_argument, NULL, O_BTF},
	    {"web.config.file", required_argument, NULL, O_WEB_CONFIG},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct am_agent_options o = {0};
	struct overrides ov = {{0}, 0};
	struct am_config cfg;
	bool once = false, check = false;
	const char *btf_arg = NULL;
	char err[1024], btf[4096];
	int c, rc = 0, status;
	size_t i;

	optind = 1;
	while (!rc && (c = getopt_long(argc, argv, "c:l:o:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config_path = optarg;
			break;
		case O_ONCE:
			once = true;
			break;
		case O_CHECK:
			check = true;
			break;
		case 'l':
			rc = add_listen(&ov, optarg);
			break;
		case O_NO_HTTP:
			rc = add(&ov, "http.enabled", "false");
			break;
		case 'o':
			rc = add(&ov, "jsonl.path", optarg);
			break;
		case O_HOST:
			rc = add(&ov, "hostname", optarg);
			break;
		case O_LEVEL:
			rc = add(&ov, "log_level", optarg);
			break;
		case 'i':
			rc = add(&ov, "collectors.interval", optarg);
			break;
		case O_COLLECTORS:
			rc = add_collectors(&ov, optarg);
			break;
		case O_PROCFS:
			rc = add(&ov, "paths.procfs", optarg);
			break;
		case O_SYSFS:
			rc = add(&ov, "paths.sysfs", optarg);
			break;
		case O_NO_EXEC:
			rc = add(&ov, "execsnoop.enabled", "false");
			break;
		case O_NO_PROF:
			rc = add(&ov, "profiler.enabled", "false");
			break;
		case O_SET:
			rc = strchr(optarg, '=') ? add(&ov, optarg, NULL) : -1;
			if (rc)
				fprintf(stderr,
					"antimetal-agent run: --set '%s': expected KEY=VALUE\n",
					optarg);
			break;
		case O_BTF:
			btf_arg = optarg;
			break;
		case O_WEB_CONFIG:
			rc = add(&ov, "http.web_config_file", optarg);
			break;
		case 'h':
			usage(stdout);
			status = AM_EXIT_OK;
			goto out;
		default:
			rc = -1;
		}
	}
	if (!rc && optind < argc) {
		fprintf(stderr, "antimetal-agent run: unexpected argument '%s'\n", argv[optind]);
		rc = -1;
	}
	if (rc) {
		usage(stderr);
		status = AM_EXIT_USAGE;
		goto out;
	}
	o.overrides = (const char *const *)ov.items;
	o.noverrides = ov.n;
	/* A bad --btf or ANTIMETAL_BTF_PATH is bad input (named in the message); no BTF at all
	 * only means the eBPF collectors will not start, which they log. */
	if (am_btf_resolve(btf_arg, btf, sizeof(btf))) {
		if (btf_arg || getenv("ANTIMETAL_BTF_PATH")) {
			status = AM_EXIT_USAGE;
			goto out;
		}
		btf[0] = '\0';
	}
	o.btf_path = btf[0] ? btf : NULL;
	if (am_agent_load_config(&o, &cfg, err, sizeof(err))) {
		fprintf(stderr, "antimetal-agent: invalid configuration: %s\n", err);
		status = AM_EXIT_USAGE;
		goto out;
	}
	if (check) {
		printf("configuration OK\n");
		status = AM_EXIT_OK;
	} else if (once) {
		status = am_agent_once(&cfg);
	} else {
		status = am_agent_run(&o, &cfg);
	}
out:
	for (i = 0; i < ov.n; i++)
		free(ov.items[i]);
	return status;
}
