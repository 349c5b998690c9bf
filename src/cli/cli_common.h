/* What the subcommands' option parsing has in common. */
#ifndef ANTIMETAL_CLI_CLI_COMMON_H
#define ANTIMETAL_CLI_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>

/* Print "antimetal-agent CMD: " and the printf-formatted message on stderr, then USAGE's text
 * after a blank line, or with USAGE NULL a pointer to --help. Returns AM_EXIT_USAGE. */
int am_cli_usage_error(const char *cmd, void (*usage)(FILE *), const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parse the whole of S as a decimal from 0 to MAX (no sign, not empty). Returns 0 or -EINVAL. */
int am_cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Parse the whole of S as a number (fractions allowed) from 0 to MAX. Returns 0 or -EINVAL. */
int am_cli_parse_double(const char *s, double max, double *out);

#endif
