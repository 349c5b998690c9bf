/* The remote_write.* settings turned into what the encoder and the sender take: headers and
 * external labels parsed from "name=value,name=value" (values percent-decoded, as
 * OTEL_EXPORTER_OTLP_HEADERS writes them: otel_env.h's parser; header lines built and checked by
 * export/http_headers.h, as OTLP's are), the credentials read (basic_auth, authorization or
 * bearer_token_file, as Prometheus's remote_write has them, one at most), the TLS files
 * readable. Every error names the key at fault and none quotes a secret. */
#ifndef ANTIMETAL_AGENT_REMOTE_WRITE_CONFIG_H
#define ANTIMETAL_AGENT_REMOTE_WRITE_CONFIG_H

#include <stddef.h>

#include "agent/config.h"
#include "export/http_headers.h"
#include "export/remote_write.h"

struct am_rw_settings {
	/* "Name: value" lines for the sender: the protocol's, the user's, Authorization */
	struct am_http_headers headers;
	struct am_rw_label external[AM_RW_MAX_EXTERNAL];
	size_t nexternal;
};

/* Value checks for the key table (syntax only): 0, or -EINVAL with the reason in ERR. */
int am_rw_check_headers(const char *v, char *err, size_t errlen);
int am_rw_check_labels(const char *v, char *err, size_t errlen);

/* Everything C's remote_write.* says, HOST the default instance label; files (credentials,
 * TLS) are read or checked here. Returns 0 or -errno with the reason, naming the key, in ERR.
 * Free S with am_rw_settings_free, also on failure. */
int am_rw_settings_build(const struct am_config *c, const char *host, struct am_rw_settings *s,
			 char *err, size_t errlen);
void am_rw_settings_free(struct am_rw_settings *s);

#endif
