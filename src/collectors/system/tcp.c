/* tcp: /proc/net/snmp and /proc/net/netstat (selected TCP, UDP and IP counters, like
 * node_exporter's netstat collector) and /proc/net/sockstat (sockets in use, socket memory),
 * read through <procfs>/1/net with a <procfs>/self/net fallback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/parse/kept_file.h"
#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/log.h"

struct tcp_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	struct am_kept_paths kept; /* its /proc files, kept open */
	bool warned[5], bad[5];
	long page_size;
};

static int tcp_init(void **state, const struct am_collect_roots *roots)
{
	struct tcp_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->roots, roots);
	st->page_size = sysconf(_SC_PAGESIZE);
	*state = st;
	return 0;
}

static int tcp_collect(void *state, struct am_metric_set *out)
{
	static const char *const files[5] = {"snmp", "netstat", "snmp6", "sockstat", "sockstat6"};
	struct tcp_state *st = state;
	int i, ok = 0, err = 0;

	for (i = 0; i < 5; i++) {
		const char *why = "";

		err = am_kept_paths_read_net(&st->kept, st->roots.procfs, files[i], &st->buf, "tcp",
					     &st->warned[i]);
		if (err)
			continue;
		if (i < 2)
			err = am_parse_net_snmp(st->buf.data, out, &why);
		else if (i == 2)
			err = am_parse_net_snmp6(st->buf.data, out, &why);
		else
			err = am_parse_sockstat(st->buf.data, st->page_size, out, &why);
		if (err) {
			if (!st->bad[i])
				am_warn("tcp: %s/1/net/%s: %s", st->roots.procfs, files[i], why);
			st->bad[i] = true;
			continue;
		}
		st->bad[i] = false;
		ok++;
	}
	/* Each file is a part: the collector fails only when none of them could be read. */
	return ok ? 0 : err;
}

static void tcp_destroy(void *state)
{
	struct tcp_state *st = state;

	if (!st)
		return;
	am_kept_paths_close(&st->kept);
	am_strbuf_free(&st->buf);
	free(st);
}

const struct am_collector am_collector_tcp = {
    .name = "tcp",
    .init = tcp_init,
    .collect = tcp_collect,
    .destroy = tcp_destroy,
    .node = {"netstat", "sockstat"},
};
