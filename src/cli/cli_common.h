/* The subcommands' two number parsers (cli_opts checks every numeric option with them). */
#ifndef ANTIMETAL_CLI_CLI_COMMON_H
#define ANTIMETAL_CLI_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>

/* Parse the whole of S as a decimal from 0 to MAX (no sign, not empty). Returns 0 or -EINVAL. */
int am_cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Parse the whole of S as a number (fractions allowed) from 0 to MAX. Returns 0 or -EINVAL. */
int am_cli_parse_double(const char *s, double max, double *out);

#endif
