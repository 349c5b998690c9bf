#include "cli/cli_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "cli/commands.h"

int am_cli_usage_error(const char *cmd, void (*usage)(FILE *), const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "antimetal-agent %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (usage) {
		fprintf(stderr, "\n\n");
		usage(stderr);
	} else {
		fprintf(stderr, "\n(see 'antimetal-agent %s --help')\n", cmd);
	}
	return AM_EXIT_USAGE;
}

int am_cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int am_cli_parse_double(const char *s, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* !(v >= 0) also refuses NaN */
	if (errno || end == s || *end || !(v >= 0) || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}
