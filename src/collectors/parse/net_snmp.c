/* Parser of /proc/net/snmp and /proc/net/netstat (selected TCP, UDP and IP counters) (see
 * parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

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

#define NSNMP (sizeof(snmp_fields) / sizeof(snmp_fields[0]))
_Static_assert(NSNMP < 256, "row indices are kept in bytes");

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
		h = am_line_label(hdr, proto, sizeof(proto));
		if (!h || !val)
			return am_parse_fail(
			    why, "expected 'Proto: names' followed by 'Proto: values'", out, mark);
		v = am_line_label(val, vproto, sizeof(vproto));
		if (!v || strcmp(proto, vproto))
			return am_parse_fail(why, "a value line does not follow its header line",
					     out, mark);
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
					return am_parse_fail(why, "more values than names", out,
							     mark);
				break;
			}
			if (am_parse_i64(&v, &x))
				return am_parse_fail(
				    why, "fewer values than names, or a value not a number", out,
				    mark);
			for (i = 0; i < nwant; i++)
				if (!strcmp(field, snmp_fields[want[i]].field))
					am_metric_add(out, &snmp_fields[want[i]].desc, (double)x,
						      NULL);
		}
		pairs++;
		hdr = am_next_line(val);
	}
	if (!pairs)
		return am_parse_fail(why, "empty", out, mark);
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
			return am_parse_fail(why, "expected 'Ip6Name value' lines", out, mark);
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
		return am_parse_fail(why, "empty", out, mark);
	return 0;
}
