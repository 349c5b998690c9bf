/* What `promtool check metrics` may say about the agent's exposition. */
#ifndef ANTIMETAL_TESTS_PROMTOOL_LINT_H
#define ANTIMETAL_TESTS_PROMTOOL_LINT_H

#include <stdio.h>
#include <string.h>

/* promtool's lint flags node_exporter's own names (node_memory_MemTotal_bytes is camelCase,
 * node_entropy_*_bits not in bytes); served as a drop-in, those stay. Anything else fails. */
/* The first line of LINT that is not one of those, or NULL. */
static inline const char *lint_unexpected(const char *lint)
{
	const char *line;

	for (line = lint; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
		size_t n = strcspn(line, "\n");
		char buf[512];

		if (!n)
			continue;
		snprintf(buf, sizeof(buf), "%.*s", (int)(n < 511 ? n : 511), line);
		if (strncmp(buf, "node_", 5) ||
		    (!strstr(buf, "'snake_case' not 'camelCase'") &&
		     !strstr(buf, "base unit \"bytes\" instead of \"bits\"")))
			return line;
	}
	return NULL;
}

/* Whether LINT (promtool's output) only flags node_exporter's own names. */
static inline int lint_only_node_exporter_names(const char *lint)
{
	return !lint_unexpected(lint);
}

#endif
