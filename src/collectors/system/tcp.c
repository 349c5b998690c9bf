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

/* Counters of /proc/net/{snmp,netstat,snmp6}: node_exporter 1.5's default netstat fields as
 * node_netstat_<Proto>_<Field> (untyped, as it declares them), plus the agent's own extras. */
static const struct {
	const char *proto, *field;
	struct am_metric_desc desc;
} snmp_fields[] = {
    {"Tcp",
     "ActiveOpens",
     {.name = "antimetal_tcp_active_opens_total",
      .prom = "node_netstat_Tcp_ActiveOpens",
      .help = "TCP connections opened actively (connect).",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Tcp",
     "PassiveOpens",
     {.name = "antimetal_tcp_passive_opens_total",
      .prom = "node_netstat_Tcp_PassiveOpens",
      .help = "TCP connections opened passively (accept).",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Tcp",
     "AttemptFails",
     {.name = "antimetal_tcp_attempt_fails_total",
      .prom = NULL,
      .help = "TCP connection attempts that failed.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Tcp",
     "EstabResets",
     {.name = "antimetal_tcp_established_resets_total",
      .prom = NULL,
      .help = "TCP connections reset from ESTABLISHED or CLOSE-WAIT.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Tcp",
     "CurrEstab",
     {.name = "antimetal_tcp_established_connections",
      .prom = "node_netstat_Tcp_CurrEstab",
      .help = "TCP connections in ESTABLISHED or CLOSE-WAIT now.",
      .type = AM_METRIC_GAUGE,
      .prom_untyped = 1}},
    {"Tcp",
     "InSegs",
     {.name = "antimetal_tcp_in_segments_total",
      .prom = "node_netstat_Tcp_InSegs",
      .help = "TCP segments received.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Tcp",
     "OutSegs",
     {.name = "antimetal_tcp_out_segments_total",
      .prom = "node_netstat_Tcp_OutSegs",
      .help = "TCP segments sent.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Tcp",
     "RetransSegs",
     {.name = "antimetal_tcp_retransmitted_segments_total",
      .prom = "node_netstat_Tcp_RetransSegs",
      .help = "TCP segments retransmitted.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Tcp",
     "InErrs",
     {.name = "antimetal_tcp_in_errors_total",
      .prom = "node_netstat_Tcp_InErrs",
      .help = "TCP segments received in error.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Tcp",
     "OutRsts",
     {.name = "antimetal_tcp_out_resets_total",
      .prom = "node_netstat_Tcp_OutRsts",
      .help = "TCP segments sent with RST.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp",
     "InDatagrams",
     {.name = "antimetal_udp_in_datagrams_total",
      .prom = "node_netstat_Udp_InDatagrams",
      .help = "UDP datagrams received.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp",
     "OutDatagrams",
     {.name = "antimetal_udp_out_datagrams_total",
      .prom = "node_netstat_Udp_OutDatagrams",
      .help = "UDP datagrams sent.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp",
     "NoPorts",
     {.name = "antimetal_udp_no_ports_total",
      .prom = "node_netstat_Udp_NoPorts",
      .help = "UDP datagrams received for a port nobody listens on.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp",
     "InErrors",
     {.name = "antimetal_udp_in_errors_total",
      .prom = "node_netstat_Udp_InErrors",
      .help = "UDP datagrams received in error.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp",
     "RcvbufErrors",
     {.name = "antimetal_udp_receive_buffer_errors_total",
      .prom = "node_netstat_Udp_RcvbufErrors",
      .help = "UDP datagrams dropped for a full receive buffer.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp",
     "SndbufErrors",
     {.name = "antimetal_udp_send_buffer_errors_total",
      .prom = "node_netstat_Udp_SndbufErrors",
      .help = "UDP datagrams dropped for a full send buffer.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Ip",
     "InReceives",
     {.name = "antimetal_ip_in_receives_total",
      .prom = NULL,
      .help = "IP datagrams received.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Ip",
     "OutRequests",
     {.name = "antimetal_ip_out_requests_total",
      .prom = NULL,
      .help = "IP datagrams sent.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"TcpExt",
     "ListenOverflows",
     {.name = "antimetal_tcp_listen_overflows_total",
      .prom = "node_netstat_TcpExt_ListenOverflows",
      .help = "Times a listen queue overflowed.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"TcpExt",
     "ListenDrops",
     {.name = "antimetal_tcp_listen_drops_total",
      .prom = "node_netstat_TcpExt_ListenDrops",
      .help = "SYNs to listening sockets dropped.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"TcpExt",
     "SyncookiesSent",
     {.name = "antimetal_tcp_syncookies_sent_total",
      .prom = "node_netstat_TcpExt_SyncookiesSent",
      .help = "SYN cookies sent.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"TcpExt",
     "SyncookiesRecv",
     {.name = "antimetal_tcp_syncookies_received_total",
      .prom = "node_netstat_TcpExt_SyncookiesRecv",
      .help = "SYN cookies received.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"TcpExt",
     "SyncookiesFailed",
     {.name = "antimetal_tcp_syncookies_failed_total",
      .prom = "node_netstat_TcpExt_SyncookiesFailed",
      .help = "Invalid SYN cookies received.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"TcpExt",
     "TCPTimeouts",
     {.name = "antimetal_tcp_timeouts_total",
      .prom = "node_netstat_TcpExt_TCPTimeouts",
      .help = "TCP retransmission timeouts.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"TcpExt",
     "TCPSynRetrans",
     {.name = "antimetal_tcp_syn_retransmits_total",
      .prom = "node_netstat_TcpExt_TCPSynRetrans",
      .help = "SYN and SYN-ACK retransmits.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"TcpExt",
     "TCPOFOQueue",
     {.name = "antimetal_tcp_out_of_order_queued_total",
      .prom = NULL,
      .help = "TCP segments queued out of order.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"TcpExt",
     "TCPAbortOnTimeout",
     {.name = "antimetal_tcp_aborts_on_timeout_total",
      .prom = NULL,
      .help = "TCP connections aborted after too many retransmits.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"IpExt",
     "InOctets",
     {.name = "antimetal_ip_received_bytes_total",
      .prom = "node_netstat_IpExt_InOctets",
      .help = "IP bytes received.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"IpExt",
     "OutOctets",
     {.name = "antimetal_ip_sent_bytes_total",
      .prom = "node_netstat_IpExt_OutOctets",
      .help = "IP bytes sent.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Icmp6",
     "InErrors",
     {.name = NULL,
      .prom = "node_netstat_Icmp6_InErrors",
      .help = "Statistic Icmp6InErrors.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Icmp6",
     "InMsgs",
     {.name = NULL,
      .prom = "node_netstat_Icmp6_InMsgs",
      .help = "Statistic Icmp6InMsgs.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Icmp6",
     "OutMsgs",
     {.name = NULL,
      .prom = "node_netstat_Icmp6_OutMsgs",
      .help = "Statistic Icmp6OutMsgs.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Icmp",
     "InErrors",
     {.name = NULL,
      .prom = "node_netstat_Icmp_InErrors",
      .help = "Statistic IcmpInErrors.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Icmp",
     "InMsgs",
     {.name = NULL,
      .prom = "node_netstat_Icmp_InMsgs",
      .help = "Statistic IcmpInMsgs.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Icmp",
     "OutMsgs",
     {.name = NULL,
      .prom = "node_netstat_Icmp_OutMsgs",
      .help = "Statistic IcmpOutMsgs.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Ip6",
     "InOctets",
     {.name = NULL,
      .prom = "node_netstat_Ip6_InOctets",
      .help = "Statistic Ip6InOctets.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Ip6",
     "OutOctets",
     {.name = NULL,
      .prom = "node_netstat_Ip6_OutOctets",
      .help = "Statistic Ip6OutOctets.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Ip",
     "Forwarding",
     {.name = NULL,
      .prom = "node_netstat_Ip_Forwarding",
      .help = "Statistic IpForwarding.",
      .type = AM_METRIC_GAUGE,
      .prom_untyped = 1}},
    {"Udp6",
     "InDatagrams",
     {.name = NULL,
      .prom = "node_netstat_Udp6_InDatagrams",
      .help = "Statistic Udp6InDatagrams.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp6",
     "InErrors",
     {.name = NULL,
      .prom = "node_netstat_Udp6_InErrors",
      .help = "Statistic Udp6InErrors.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp6",
     "NoPorts",
     {.name = NULL,
      .prom = "node_netstat_Udp6_NoPorts",
      .help = "Statistic Udp6NoPorts.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp6",
     "OutDatagrams",
     {.name = NULL,
      .prom = "node_netstat_Udp6_OutDatagrams",
      .help = "Statistic Udp6OutDatagrams.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp6",
     "RcvbufErrors",
     {.name = NULL,
      .prom = "node_netstat_Udp6_RcvbufErrors",
      .help = "Statistic Udp6RcvbufErrors.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"Udp6",
     "SndbufErrors",
     {.name = NULL,
      .prom = "node_netstat_Udp6_SndbufErrors",
      .help = "Statistic Udp6SndbufErrors.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"UdpLite6",
     "InErrors",
     {.name = NULL,
      .prom = "node_netstat_UdpLite6_InErrors",
      .help = "Statistic UdpLite6InErrors.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
    {"UdpLite",
     "InErrors",
     {.name = NULL,
      .prom = "node_netstat_UdpLite_InErrors",
      .help = "Statistic UdpLiteInErrors.",
      .type = AM_METRIC_COUNTER,
      .prom_untyped = 1}},
};

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

#define NSNMP (sizeof(snmp_fields) / sizeof(snmp_fields[0]))
_Static_assert(NSNMP < 256, "row indices are kept in bytes");

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
	size_t mark = out->n, i, nwant;
	unsigned char want[NSNMP]; /* the table rows of this line's protocol */
	const char *hdr = text;
	int pairs = 0;

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
		nwant = 0;
		for (i = 0; i < NSNMP; i++)
			if (!strcmp(proto, snmp_fields[i].proto))
				want[nwant++] = (unsigned char)i;
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
			for (i = 0; i < nwant; i++)
				if (!strcmp(field, snmp_fields[want[i]].field))
					am_metric_add(out, &snmp_fields[want[i]].desc, (double)x, NULL);
		}
		pairs++;
		hdr = am_next_line(val);
	}
	if (!pairs)
		return fail(why, "empty", out, mark);
	return 0;
}

int am_parse_net_snmp6(const char *text, struct am_metric_set *out, const char **why)
{
	size_t mark = out->n, i;
	const char *line;
	int lines = 0;

	for (line = text; line && *line; line = am_next_line(line)) {
		const char *p = line;
		char key[64];
		int64_t x;

		if (am_at_eol(line))
			continue;
		if (!am_next_token(&p, key, sizeof(key)) || am_parse_i64(&p, &x) || !am_at_eol(p))
			return fail(why, "expected 'Ip6Name value' lines", out, mark);
		lines++;
		/* Only Ip6, Icmp6, Udp6 and UdpLite6 lines can match a row. */
		if (strncmp(key, "Ip6", 3) && strncmp(key, "Icmp6", 5) && strncmp(key, "Udp", 3))
			continue;
		for (i = 0; i < NSNMP; i++) {
			const char *pr = snmp_fields[i].proto;
			size_t n = strlen(pr);

			if (pr[n - 1] == '6' && !strncmp(key, pr, n) &&
			    !strcmp(key + n, snmp_fields[i].field))
				am_metric_add(out, &snmp_fields[i].desc, (double)x, NULL);
		}
	}
	if (!lines)
		return fail(why, "empty", out, mark);
	return 0;
}

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
		p = proto_of(line, proto, sizeof(proto));
		if (!p)
			return fail(why, "expected 'PROTO: key value ...' lines", out, mark);
		lines++;
		while (am_next_token(&p, key, sizeof(key))) {
			uint64_t v;

			if (am_parse_u64(&p, &v))
				return fail(why, "a key without a numeric value", out, mark);
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
		return fail(why, "empty", out, mark);
	return 0;
}

struct tcp_state {
	struct am_roots_buf roots;
	struct am_strbuf buf;
	int warned[5], bad[5];
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

		err =
		    am_procfs_read_net(st->roots.procfs, files[i], &st->buf, "tcp", &st->warned[i]);
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
			st->bad[i] = 1;
			continue;
		}
		st->bad[i] = 0;
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
    .node = {"netstat", "sockstat"},
};
