/* tcp: /proc/net/snmp and /proc/net/netstat (selected TCP, UDP and IP counters, like
 * node_exporter's netstat collector) and /proc/net/sockstat (sockets in use, socket memory),
 * read through <procfs>/1/net with a <procfs>/self/net fallback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/system/collector.h"
#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"
#include "collectors/parse/procfs_read.h"
#include "util/log.h"

static const struct {
	const char *proto, *field, *name, *help;
	enum am_metric_type type;
} snmp_fields[] = {
    {"Tcp", "ActiveOpens", "antimetal_tcp_active_opens_total",
     "TCP connections opened actively (connect).", AM_METRIC_COUNTER},
    {"Tcp", "PassiveOpens", "antimetal_tcp_passive_opens_total",
     "TCP connections opened passively (accept).", AM_METRIC_COUNTER},
    {"Tcp", "AttemptFails", "antimetal_tcp_attempt_fails_total",
     "TCP connection attempts that failed.", AM_METRIC_COUNTER},
    {"Tcp", "EstabResets", "antimetal_tcp_established_resets_total",
     "TCP connections reset from ESTABLISHED or CLOSE-WAIT.", AM_METRIC_COUNTER},
    {"Tcp", "CurrEstab", "antimetal_tcp_established_connections",
     "TCP connections in ESTABLISHED or CLOSE-WAIT now.", AM_METRIC_GAUGE},
    {"Tcp", "InSegs", "antimetal_tcp_in_segments_total", "TCP segments received.",
     AM_METRIC_COUNTER},
    {"Tcp", "OutSegs", "antimetal_tcp_out_segments_total", "TCP segments sent.", AM_METRIC_COUNTER},
    {"Tcp", "RetransSegs", "antimetal_tcp_retransmitted_segments_total",
     "TCP segments retransmitted.", AM_METRIC_COUNTER},
    {"Tcp", "InErrs", "antimetal_tcp_in_errors_total", "TCP segments received in error.",
     AM_METRIC_COUNTER},
    {"Tcp", "OutRsts", "antimetal_tcp_out_resets_total", "TCP segments sent with RST.",
     AM_METRIC_COUNTER},
    {"Udp", "InDatagrams", "antimetal_udp_in_datagrams_total", "UDP datagrams received.",
     AM_METRIC_COUNTER},
    {"Udp", "OutDatagrams", "antimetal_udp_out_datagrams_total", "UDP datagrams sent.",
     AM_METRIC_COUNTER},
    {"Udp", "NoPorts", "antimetal_udp_no_ports_total",
     "UDP datagrams received for a port nobody listens on.", AM_METRIC_COUNTER},
    {"Udp", "InErrors", "antimetal_udp_in_errors_total", "UDP datagrams received in error.",
     AM_METRIC_COUNTER},
    {"Udp", "RcvbufErrors", "antimetal_udp_receive_buffer_errors_total",
     "UDP datagrams dropped for a full receive buffer.", AM_METRIC_COUNTER},
    {"Udp", "SndbufErrors", "antimetal_udp_send_buffer_errors_total",
     "UDP datagrams dropped for a full send buffer.", AM_METRIC_COUNTER},
    {"Ip", "InReceives", "antimetal_ip_in_receives_total", "IP datagrams received.",
     AM_METRIC_COUNTER},
    {"Ip", "OutRequests", "antimetal_ip_out_requests_total", "IP datagrams sent.",
     AM_METRIC_COUNTER},
    {"TcpExt", "ListenOverflows", "antimetal_tcp_listen_overflows_total",
     "Times a listen queue overflowed.", AM_METRIC_COUNTER},
    {"TcpExt", "ListenDrops", "antimetal_tcp_listen_drops_total",
     "SYNs to listening sockets dropped.", AM_METRIC_COUNTER},
    {"TcpExt", "SyncookiesSent", "antimetal_tcp_syncookies_sent_total", "SYN cookies sent.",
     AM_METRIC_COUNTER},
    {"TcpExt", "SyncookiesRecv", "antimetal_tcp_syncookies_received_total", "SYN cookies received.",
     AM_METRIC_COUNTER},
    {"TcpExt", "SyncookiesFailed", "antimetal_tcp_syncookies_failed_total",
     "Invalid SYN cookies received.", AM_METRIC_COUNTER},
    {"TcpExt", "TCPTimeouts", "antimetal_tcp_timeouts_total", "TCP retransmission timeouts.",
     AM_METRIC_COUNTER},
    {"TcpExt", "TCPSynRetrans", "antimetal_tcp_syn_retransmits_total",
     "SYN and SYN-ACK retransmits.", AM_METRIC_COUNTER},
    {"TcpExt", "TCPOFOQueue", "antimetal_tcp_out_of_order_queued_total",
     "TCP segments queued out of order.", AM_METRIC_COUNTER},
    {"TcpExt", "TCPAbortOnTimeout", "antimetal_tcp_aborts_on_timeout_total",
     "TCP connections aborted after too many retransmits.", AM_METRIC_COUNTER},
    {"IpExt", "InOctets", "antimetal_ip_received_bytes_total", "IP bytes received.",
     AM_METRIC_COUNTER},
    {"IpExt", "OutOctets", "antimetal_ip_sent_bytes_total", "IP bytes sent.", AM_METRIC_COUNTER},
};

static int fail(const char **why, const char *msg, struct am_metric_set *out, size_t mark)
{
	if (why)
		*why = msg;
	am_metric_set_truncate(out, mark);
	return -EINVAL;
}

/* Copy "Proto:" of LINE into PROTO; return the text after the colon, or NULL. */
static const char *proto_of(const char *line, char *proto, size_t len)
{
	const char *c = line;

	while (*c && *c != ':' && *c != ' ' && *c != '\n')
		c++;
	if (*c != ':' || c == line || (size_t)(c - line) >= len)
		return NULL;
	memcpy(proto, line, (size_t)(c - line));
	proto[c - line] = '\0';
	return c + 1;
}

int am_parse_net_snmp(const char *text, struct am_metric_set *out, const char **why)
{
	size_t mark = out->n, i;
	const char *hdr = text;
	int pairs = 0, wanted;

	while (hdr && *hdr) {
		const char *val = am_next_line(hdr), *h, *v;
		char proto[32], vproto[32], field[64];

		if (am_at_eol(hdr)) {
			hdr = val;
			continue;
		}
		h = proto_of(hdr, proto, sizeof(proto));
		if (!h || !val)
			return fail(why, "expected 'Proto: names' followed by 'Proto: values'", out,
				    mark);
		v = proto_of(val, vproto, sizeof(vproto));
		if (!v || strcmp(proto, vproto))
			return fail(why, "a value line does not follow its header line", out, mark);
		/* Protocols we export nothing of (Icmp, MPTcpExt...) are still checked for
		 * shape, but without the per-field table search. */
		wanted = 0;
		for (i = 0; i < sizeof(snmp_fields) / sizeof(snmp_fields[0]); i++)
			wanted |= !strcmp(proto, snmp_fields[i].proto);
		for (;;) {
			int64_t x;

			if (!am_next_token(&h, field, sizeof(field))) {
				if (!am_at_eol(v))
					return fail(why, "more values than names", out, mark);
				break;
			}
			if (am_parse_i64(&v, &x))
				return fail(why, "fewer values than names, or a value not a number",
					    out, mark);
			for (i = 0; wanted && i < sizeof(snmp_fields) / sizeof(snmp_fields[0]); i++)
				if (!strcmp(proto, snmp_fields[i].proto) &&
				    !strcmp(field, snmp_fields[i].field))
					am_metric_add(out, snmp_fields[i].name, snmp_fields[i].help,
						      snmp_fields[i].type, (double)x, NULL);
		}
		pairs++;
		hdr = am_next_line(val);
	}
	if (!pairs)
		return fail(why, "empty", out, mark);
	return 0;
}

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
		p = proto_of(line, proto, sizeof(proto));
		if (!p)
			return fail(why, "expected 'PROTO: key value ...' lines", out, mark);
		for (i = 0; proto[i]; i++)
			lproto[i] =
			    (char)(proto[i] >= 'A' && proto[i] <= 'Z' ? proto[i] + 32 : proto[i]);
		lproto[i] = '\0';
		lines++;
		while (am_next_token(&p, key, sizeof(key))) {
			uint64_t v;

			if (am_parse_u64(&p, &v))
				return fail(why, "a key without a numeric value", out, mark);
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
		return fail(why, "empty", out, mark);
	return 0;
}

struct tcp_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	bool warned[3], bad[3];
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
	static const char *const files[3] = {"snmp", "netstat", "sockstat"};
	struct tcp_state *st = state;
	int i, ok = 0, err = 0;

	for (i = 0; i < 3; i++) {
		const char *why = "";

		err =
		    am_procfs_read_net(st->roots.procfs, files[i], &st->buf, "tcp", &st->warned[i]);
		if (err)
			continue;
		err = i < 2 ? am_parse_net_snmp(st->buf.data, out, &why)
			    : am_parse_sockstat(st->buf.data, st->page_size, out, &why);
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
	am_strbuf_free(&st->buf);
	free(st);
}

const struct am_collector am_collector_tcp = {
    .name = "tcp",
    .init = tcp_init,
    .collect = tcp_collect,
    .destroy = tcp_destroy,
};
