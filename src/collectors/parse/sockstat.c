/* Parser of /proc/net/sockstat (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

int am_parse_sockstat(const char *text, long page_size, struct am_metric_set *out, const char **why)
{
	size_t mark = out->n;
	const char *line;
	int lines = 0;

	for (line = text; line && *line; line = am_next_line(line)) {
		char proto[32], key[32], lproto[32];
		const char *p;
		size_t i;

		if (am_at_eol(line))
			continue;
		p = am_line_label(line, proto, sizeof(proto));
		if (!p)
			return am_parse_fail(why, "expected 'PROTO: key value ...' lines", out,
					     mark);
		for (i = 0; proto[i]; i++)
			lproto[i] =
			    (char)(proto[i] >= 'A' && proto[i] <= 'Z' ? proto[i] + 32 : proto[i]);
		lproto[i] = '\0';
		lines++;
		while (am_next_token(&p, key, sizeof(key))) {
			uint64_t v;

			if (am_parse_u64(&p, &v))
				return am_parse_fail(why, "a key without a numeric value", out,
						     mark);
			if (!strcmp(proto, "sockets") && !strcmp(key, "used"))
				am_metric_add(out, "antimetal_sockets_used",
					      "Sockets in use, all protocols.", AM_METRIC_GAUGE,
					      (double)v, NULL);
			else if (!strcmp(key, "mem") && page_size > 0)
				am_metric_add(out, "antimetal_sockstat_memory_bytes",
					      "Memory used by sockets of a protocol.",
					      AM_METRIC_GAUGE, (double)v * (double)page_size,
					      "protocol", lproto, NULL);
			else if (!strcmp(key, "inuse") || !strcmp(key, "orphan") ||
				 !strcmp(key, "tw") || !strcmp(key, "alloc"))
				am_metric_add(
				    out, "antimetal_sockstat_sockets",
				    "Sockets of a protocol by state (inuse, orphan, tw, alloc).",
				    AM_METRIC_GAUGE, (double)v, "protocol", lproto, "state", key,
				    NULL);
		}
	}
	if (!lines)
		return am_parse_fail(why, "empty", out, mark);
	return 0;
}
