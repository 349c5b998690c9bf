/* tcp: /proc/net/snmp, /proc/net/netstat and /proc/net/sockstat. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

Test(tcp, captured_snmp_exact)
{
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/1/net/snmp");

	cr_assert_eq(am_parse_net_snmp(t, &s, NULL), 0);
	cr_assert_eq(VALUE(&s, "antimetal_tcp_active_opens_total"), 19);
	cr_assert_eq(VALUE(&s, "antimetal_tcp_passive_opens_total"), 4);
	cr_assert_eq(VALUE(&s, "antimetal_tcp_established_connections"), 0);
	cr_assert_eq(VALUE(&s, "antimetal_tcp_in_segments_total"), 4138);
	cr_assert_eq(VALUE(&s, "antimetal_tcp_out_segments_total"), 2290);
	cr_assert_eq(VALUE(&s, "antimetal_tcp_out_resets_total"), 2);
	cr_assert_eq(VALUE(&s, "antimetal_udp_in_datagrams_total"), 38);
	cr_assert_eq(VALUE(&s, "antimetal_udp_out_datagrams_total"), 39);
	/* UdpLite has the same field names: only Udp's count. */
	cr_assert_eq(count_metric(&s, "antimetal_udp_in_datagrams_total"), 1);
	am_metric_set_free(&s);
	free(t);
}

Test(tcp, captured_netstat_exact)
{
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/1/net/netstat");

	cr_assert_eq(am_parse_net_snmp(t, &s, NULL), 0);
	cr_assert_eq(VALUE(&s, "antimetal_tcp_listen_overflows_total"), 0);
	cr_assert_eq(VALUE(&s, "antimetal_tcp_timeouts_total"), 2);
	cr_assert_eq(VALUE(&s, "antimetal_ip_received_bytes_total"), 194841195);
	cr_assert_eq(VALUE(&s, "antimetal_ip_sent_bytes_total"), 133966);
	am_metric_set_free(&s);
	free(t);
}

Test(tcp, captured_sockstat_exact)
{
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/1/net/sockstat");

	cr_assert_eq(am_parse_sockstat(t, 4096, &s, NULL), 0);
	cr_assert_eq(VALUE(&s, "node_sockstat_sockets_used"), 15);
	cr_assert_eq(VALUE(&s, "node_sockstat_TCP_inuse"), 1);
	cr_assert_eq(VALUE(&s, "node_sockstat_TCP_tw"), 2);
	cr_assert_eq(VALUE(&s, "node_sockstat_TCP_alloc"), 1);
	cr_assert_eq(VALUE(&s, "node_sockstat_TCP_mem_bytes"), 278.0 * 4096);
	cr_assert_eq(VALUE(&s, "node_sockstat_RAW_inuse"), 0);
	am_metric_set_free(&s);
	free(t);
}

Test(tcp, snmp_malformed_rejected)
{
	static const char *const bad[] = {"",
					  "Tcp: A B\n",
					  "Tcp: A B\nUdp: 1 2\n",
					  "Tcp: A B\nTcp: 1\n",
					  "Tcp: A B\nTcp: 1 2 3\n",
					  "Tcp: A B\nTcp: 1 x\n",
					  "Tcp A\nTcp 1\n"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct am_metric_set s = {0};
		const char *why = NULL;

		cr_assert_eq(am_parse_net_snmp(bad[i], &s, &why), -EINVAL, "accepted '%s'", bad[i]);
		cr_assert_not_null(why);
		cr_assert_eq(s.n, 0);
	}
}

Test(tcp, one_missing_file_does_not_stop_the_others)
{
	char *dir = am_test_mkdtemp("tcp");
	char *t = fixture("proc/real/1/net/sockstat");
	struct am_metric_set s = {0};
	char path[512];

	snprintf(path, sizeof(path), "%s/1/net/sockstat", dir);
	cr_assert_eq(am_test_write_file(path, t, strlen(t)), 0);
	cr_assert_eq(collect_once(&am_collector_tcp, dir, NULL, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "node_sockstat_sockets_used"), 15);
	cr_assert_eq(count_metric(&s, "antimetal_tcp_active_opens_total"), 0);
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
	free(t);
}
