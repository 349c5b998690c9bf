/* Parser of /proc/net/snmp and /proc/net/netstat (selected TCP, UDP and IP counters) (see
 * parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

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
		wanted = 0;
		for (i = 0; i < sizeof(snmp_fields) / sizeof(snmp_fields[0]); i++)
			wanted |= !strcmp(proto, snmp_fields[i].proto);
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
		return am_parse_fail(why, "empty", out, mark);
	return 0;
}
