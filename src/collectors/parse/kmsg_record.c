/* Parser of one /dev/kmsg record (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

static const char *const severity_names[8] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

const char *am_kmsg_severity_name(int severity)
{
	return severity >= 0 && severity < 8 ? severity_names[severity] : "unknown";
}

int am_parse_kmsg_record(const char *rec, size_t len, struct am_kmsg_record *out, const char **why)
{
	struct am_kmsg_record r = {0};
	const char *end = rec + len, *semi, *p = rec, *msg;
	char head[128];
	uint64_t pri;
	size_t n;

	semi = memchr(rec, ';', len);
	if (!semi || (size_t)(semi - rec) >= sizeof(head))
		goto bad;
	/* Parse the prefix from a NUL-terminated copy: the record itself is not terminated. */
	memcpy(head, rec, (size_t)(semi - rec));
	head[semi - rec] = '\0';
	p = head;
	if (am_parse_u64(&p, &pri) || pri > 0x7fffffff || *p++ != ',' || am_parse_u64(&p, &r.seq) ||
	    *p++ != ',' || am_parse_u64(&p, &r.ts_usec) || *p++ != ',' || !*p)
		goto bad;
	r.severity = (int)(pri & 7);
	r.facility = (int)(pri >> 3);
	msg = semi + 1;
	n = 0;
	while (msg + n < end && msg[n] != '\n' && msg[n] != '\0')
		n++;
	if (n >= sizeof(r.msg))
		n = sizeof(r.msg) - 1;
	memcpy(r.msg, msg, n);
	r.msg[n] = '\0';
	*out = r;
	return 0;
bad:
	if (why)
		*why = "expected 'PRIORITY,SEQ,TIMESTAMP_US,FLAGS;message'";
	return -EINVAL;
}
