/* Parser of /proc/net/sockstat (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

/* /proc/net/sockstat{,6} fields as node_exporter 1.5 names them; "mem" (pages) is also served
 * in bytes as node_sockstat_<PROTO>_mem_bytes. */
static const struct {
	const char *proto, *key;
	struct am_metric_desc desc;
} sockstat_fields[] = {
    {"sockets",
     "used",
     {.prom = "node_sockstat_sockets_used",
      .help = "Number of IPv4 sockets in use.",
      .type = AM_METRIC_GAUGE}},
    {"TCP",
     "inuse",
     {.prom = "node_sockstat_TCP_inuse",
      .help = "Number of TCP sockets in state inuse.",
      .type = AM_METRIC_GAUGE}},
    {"TCP",
     "orphan",
     {.prom = "node_sockstat_TCP_orphan",
      .help = "Number of TCP sockets in state orphan.",
      .type = AM_METRIC_GAUGE}},
    {"TCP",
     "tw",
     {.prom = "node_sockstat_TCP_tw",
      .help = "Number of TCP sockets in state tw.",
      .type = AM_METRIC_GAUGE}},
    {"TCP",
     "alloc",
     {.prom = "node_sockstat_TCP_alloc",
      .help = "Number of TCP sockets in state alloc.",
      .type = AM_METRIC_GAUGE}},
    {"TCP",
     "mem",
     {.prom = "node_sockstat_TCP_mem",
      .help = "Number of TCP sockets in state mem.",
      .type = AM_METRIC_GAUGE}},
    {"UDP",
     "inuse",
     {.prom = "node_sockstat_UDP_inuse",
      .help = "Number of UDP sockets in state inuse.",
      .type = AM_METRIC_GAUGE}},
    {"UDP",
     "mem",
     {.prom = "node_sockstat_UDP_mem",
      .help = "Number of UDP sockets in state mem.",
      .type = AM_METRIC_GAUGE}},
    {"UDPLITE",
     "inuse",
     {.prom = "node_sockstat_UDPLITE_inuse",
      .help = "Number of UDPLITE sockets in state inuse.",
      .type = AM_METRIC_GAUGE}},
    {"RAW",
     "inuse",
     {.prom = "node_sockstat_RAW_inuse",
      .help = "Number of RAW sockets in state inuse.",
      .type = AM_METRIC_GAUGE}},
    {"FRAG",
     "inuse",
     {.prom = "node_sockstat_FRAG_inuse",
      .help = "Number of FRAG sockets in state inuse.",
      .type = AM_METRIC_GAUGE}},
    {"FRAG",
     "memory",
     {.prom = "node_sockstat_FRAG_memory",
      .help = "Number of FRAG sockets in state memory.",
      .type = AM_METRIC_GAUGE}},
    {"TCP6",
     "inuse",
     {.prom = "node_sockstat_TCP6_inuse",
      .help = "Number of TCP6 sockets in state inuse.",
      .type = AM_METRIC_GAUGE}},
    {"UDP6",
     "inuse",
     {.prom = "node_sockstat_UDP6_inuse",
      .help = "Number of UDP6 sockets in state inuse.",
      .type = AM_METRIC_GAUGE}},
    {"UDPLITE6",
     "inuse",
     {.prom = "node_sockstat_UDPLITE6_inuse",
      .help = "Number of UDPLITE6 sockets in state inuse.",
      .type = AM_METRIC_GAUGE}},
    {"RAW6",
     "inuse",
     {.prom = "node_sockstat_RAW6_inuse",
      .help = "Number of RAW6 sockets in state inuse.",
      .type = AM_METRIC_GAUGE}},
    {"FRAG6",
     "inuse",
     {.prom = "node_sockstat_FRAG6_inuse",
      .help = "Number of FRAG6 sockets in state inuse.",
      .type = AM_METRIC_GAUGE}},
    {"FRAG6",
     "memory",
     {.prom = "node_sockstat_FRAG6_memory",
      .help = "Number of FRAG6 sockets in state memory.",
      .type = AM_METRIC_GAUGE}},
};

static const struct am_metric_desc sockstat_mem_bytes[2] = {
    {.prom = "node_sockstat_TCP_mem_bytes",
     .help = "Number of TCP sockets in state mem_bytes.",
     .unit = "By",
     .type = AM_METRIC_GAUGE},
    {.prom = "node_sockstat_UDP_mem_bytes",
     .help = "Number of UDP sockets in state mem_bytes.",
     .unit = "By",
     .type = AM_METRIC_GAUGE},
};

int am_parse_sockstat(const char *text, long page_size, struct am_metric_set *out, const char **why)
{
	size_t mark = out->n;
	const char *line;
	int lines = 0;

	for (line = text; line && *line; line = am_next_line(line)) {
		char proto[32], key[32];
		const char *p;
		size_t i;

		if (am_at_eol(line))
			continue;
		p = am_line_label(line, proto, sizeof(proto));
		if (!p)
			return am_parse_fail(why, "expected 'PROTO: key value ...' lines", out,
					     mark);
		lines++;
		while (am_next_token(&p, key, sizeof(key))) {
			uint64_t v;

			if (am_parse_u64(&p, &v))
				return am_parse_fail(why, "a key without a numeric value", out,
						     mark);
			for (i = 0; i < sizeof(sockstat_fields) / sizeof(sockstat_fields[0]); i++)
				if (!strcmp(proto, sockstat_fields[i].proto) &&
				    !strcmp(key, sockstat_fields[i].key))
					am_metric_add(out, &sockstat_fields[i].desc, (double)v,
						      NULL);
			if (!strcmp(key, "mem") && page_size > 0 &&
			    (!strcmp(proto, "TCP") || !strcmp(proto, "UDP")))
				am_metric_add(out, &sockstat_mem_bytes[proto[0] == 'U'],
					      (double)v * (double)page_size, NULL);
		}
	}
	if (!lines)
		return am_parse_fail(why, "empty", out, mark);
	return 0;
}
