/* node_exporter's web configuration file (exporter-toolkit's --web.config.file format): TLS
 * for /metrics (tls_server_config) and basic authentication (basic_auth_users, bcrypt). Paths in
 * it are relative to the file's directory, as exporter-toolkit reads them. */
#ifndef ANTIMETAL_AGENT_WEB_CONFIG_H
#define ANTIMETAL_AGENT_WEB_CONFIG_H

#include <stddef.h>

#include "export/prometheus.h"

/* Read PATH and the files it names into a new *OUT (free with am_prom_security_free). The
 * certificate, key and CA are checked with GnuTLS and each hash with libcrypt, so a file that
 * loads will serve. Returns 0 or -errno with "PATH:LINE:COLUMN: reason" in ERR. */
int am_web_config_load(const char *path, struct am_prom_security **out, char *err, size_t errlen);

#endif
