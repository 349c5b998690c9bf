/* The daemon behind `antimetal-agent run`: configuration, collectors on their timers, the
 * Prometheus endpoint and JSON lines export in one event loop; SIGHUP reloads, SIGTERM and
 * SIGINT stop it cleanly. */
#ifndef ANTIMETAL_AGENT_AGENT_H
#define ANTIMETAL_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/config.h"

struct am_agent_options {
	const char *config_path; /* NULL: AM_CONFIG_DEFAULT_PATH, which may be absent */
	/* "key=value" settings from flags, applied after the file at start and at every reload */
	const char *const *overrides;
	size_t noverrides;
	/* External BTF for the eBPF collectors (resolved by am_btf_resolve), NULL: native */
	const char *btf_path;
	/* The OTEL_* variables are read from here (NULL-terminated "NAME=value"); NULL: environ */
	char *const *envp;
};

/* Build the configuration O describes: defaults, the file, then the overrides. Returns 0, or
 * -errno with the reason (file:line:column for the file) in ERR. */
int am_agent_load_config(const struct am_agent_options *o, struct am_config *out, char *err,
			 size_t errlen);
/* Run the daemon until SIGTERM or SIGINT. Returns the process exit status. */
int am_agent_run(const struct am_agent_options *o, const struct am_config *cfg);
/* Collect one snapshot of every enabled collector and print it as JSON lines on stdout.
 * Returns the process exit status. */
int am_agent_once(const struct am_config *cfg);

#endif
