/* The parsers behind the node_exporter-compatible collectors, on files captured from a real
 * host (tests/fixtures/proc/real, etc) and on hand-made bad input. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

Test(node_parsers, file_nr_exact)
{
	uint64_t a, m;

	cr_assert_eq(am_parse_file_nr("895\t0\t2466165\n", &a, &m, NULL), 0);
	cr_assert_eq(a, 895);
	cr_assert_eq(m, 2466165);
	cr_assert_lt(am_parse_file_nr("895 0\n", &a, &m, NULL), 0);
}

Test(node_parsers, softnet_reads_hex_columns_per_cpu)
{
	struct am_softnet_cpu c[4];
	const char *why = NULL;
	size_t n;

	cr_assert_eq(am_parse_softnet("0000012a 00000001 00000002 00000000 00000000 00000000 "
				      "00000000 00000000 00000000 00000000 00000000 00000000 "
				      "00000000\n0000ffff 0 0 0 0 0 0 0 0 0 0 0 00000001\n",
				      c, 4, &n, NULL),
		     0);
	cr_assert_eq(n, 2);
	cr_assert_eq(c[0].processed, 0x12a);
	cr_assert_eq(c[0].dropped, 1);
	cr_assert_eq(c[0].time_squeeze, 2);
	cr_assert_eq(c[1].processed, 0xffff);
	cr_assert_lt(am_parse_softnet("0000012a 0000000g 0\n", c, 4, &n, &why), 0);
	cr_assert_not_null(why);
	cr_assert_lt(am_parse_softnet("1 2 3\n1 2 3\n", c, 1, &n, NULL), 0, "more CPUs than room");
}

Test(node_parsers, conntrack_stats_sum_over_cpus_by_column_name)
{
	static const char *const names[3] = {"found", "drop", "absent_column"};
	uint64_t sums[3], present;
	char *t = fixture("proc/real/net/stat/nf_conntrack");

	cr_assert_eq(am_parse_conntrack_stat(t, names, 3, sums, &present, NULL), 0);
	cr_assert_eq(present, 3, "found and drop are columns, absent_column is not");
	free(t);
	cr_assert_eq(am_parse_conntrack_stat("entries found drop\n00000001 00000002 00000003\n"
					     "00000001 00000010 00000000\n",
					     names, 3, sums, &present, NULL),
		     0);
	cr_assert_eq(sums[0], 0x12);
	cr_assert_eq(sums[1], 3);
	cr_assert_lt(
	    am_parse_conntrack_stat("found drop\n00000001\n", names, 3, sums, &present, NULL), 0,
	    "a short line is an error");
}

Test(node_parsers, udp_queues_sum_tx_and_rx)
{
	uint64_t tx, rx;
	char *t = fixture("proc/real/1/net/udp");

	cr_assert_eq(am_parse_udp_queues(t, &tx, &rx, NULL), 0);
	cr_assert_eq(tx, 0);
	cr_assert_eq(rx, 0x340, "one datagram of 100 bytes queued: 832 bytes of buffer");
	free(t);
	cr_assert_eq(
	    am_parse_udp_queues("   sl  local_address rem_address   st tx_queue rx_queue\n", &tx,
				&rx, NULL),
	    0, "no sockets is zero, not an error");
	cr_assert_eq(tx + rx, 0);
}

Test(node_parsers, arp_counts_entries_per_device)
{
	struct am_metric_set s = {0};
	const char *why = NULL;
	char *t = fixture("proc/real/1/net/arp");

	cr_assert_eq(am_parse_arp(t, &s, NULL), 0);
	cr_assert_eq(VALUE(&s, "node_arp_entries", "device", "eth0"), 1);
	am_metric_set_free(&s);
	free(t);
	cr_assert_eq(am_parse_arp("IP address       HW type     Flags       HW address            "
				  "Mask     Device\n10.0.0.1 0x1 0x2 aa:bb:cc:dd:ee:ff * eth0\n"
				  "10.0.0.2 0x1 0x2 aa:bb:cc:dd:ee:01 * eth0\n"
				  "10.1.0.1 0x1 0x2 aa:bb:cc:dd:ee:02 * eth1\n",
				  &s, NULL),
		     0);
	cr_assert_eq(VALUE(&s, "node_arp_entries", "device", "eth0"), 2);
	cr_assert_eq(VALUE(&s, "node_arp_entries", "device", "eth1"), 1);
	am_metric_set_free(&s);
	cr_assert_lt(am_parse_arp("10.0.0.1 0x1 0x2 aa * eth0\n", &s, &why), 0, "no header");
	cr_assert_lt(am_parse_arp("IP address x\n10.0.0.1 0x1\n", &s, &why), 0, "short entry");
	cr_assert_eq(s.n, 0);
}

Test(node_parsers, os_release_fields_and_version)
{
	struct am_os_release r;
	const char *why = NULL;
	char *t = fixture("etc/os-release");

	cr_assert_eq(am_parse_os_release(t, &r, NULL), 0);
	cr_assert_str_eq(r.field[AM_OS_ID], "debian");
	cr_assert_str_eq(r.field[AM_OS_PRETTY_NAME], "Debian GNU/Linux 12 (bookworm)");
	cr_assert_eq(am_os_release_version(&r), 12);
	free(t);
	cr_assert_eq(am_parse_os_release("# comment\nNAME='Ubuntu'\nVERSION_ID=\"22.04.3\"\n"
					 "PRETTY_NAME=\"say \\\"hi\\\"\"\n",
					 &r, NULL),
		     0);
	cr_assert_str_eq(r.field[AM_OS_NAME], "Ubuntu");
	cr_assert_str_eq(r.field[AM_OS_PRETTY_NAME], "say \"hi\"");
	cr_assert_float_eq(am_os_release_version(&r), 22.04, 1e-9);
	cr_assert_lt(am_parse_os_release("NAME=\"unterminated\n", &r, &why), 0);
	cr_assert_not_null(why);
	cr_assert_lt(am_parse_os_release("just words\n", &r, &why), 0);
	cr_assert_lt(am_parse_os_release("", &r, &why), 0);
}

Test(node_parsers, mounts_decode_escapes_and_apply_node_exporter_exclusions)
{
	struct am_mount *m = NULL;
	size_t n, i, kept = 0;
	char *t = fixture("proc/real/1/mounts");

	cr_assert_eq(am_parse_mounts(t, &m, &n, NULL), 0);
	cr_assert_gt(n, 10);
	for (i = 0; i < n; i++)
		if (!am_mount_excluded(&m[i])) {
			kept++;
			cr_assert_str_eq(m[i].mountpoint, "/", "node_exporter keeps only / here");
			cr_assert_str_eq(m[i].fstype, "ext4");
		}
	cr_assert_eq(kept, 1);
	free(m);
	free(t);
	cr_assert_eq(am_parse_mounts("/dev/sdb1 /data\\040disk xfs ro,noatime 0 0\n"
				     "srv:/x /var/lib/docker/overlay nfs rw 0 0\n"
				     "tmpfs /run tmpfs rw 0 0\n"
				     "tmpfs /runner tmpfs rw 0 0\n",
				     &m, &n, NULL),
		     0);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(m[0].mountpoint, "/data disk");
	cr_assert(m[0].readonly);
	cr_assert(!am_mount_excluded(&m[0]));
	cr_assert(am_mount_excluded(&m[1]), "under /var/lib/docker/");
	cr_assert(am_mount_excluded(&m[2]), "/run");
	cr_assert(!am_mount_excluded(&m[3]), "/runner is not /run");
	free(m);
	cr_assert_lt(am_parse_mounts("/dev/sda1 / ext4\n", &m, &n, NULL), 0);
}

Test(node_parsers, snmp6_counters_named_like_node_exporter)
{
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/1/net/snmp6");

	cr_assert_eq(am_parse_net_snmp6(t, &s, NULL), 0);
	cr_assert_eq(count_metric(&s, "node_netstat_Ip6_InOctets"), 1);
	cr_assert_eq(count_metric(&s, "node_netstat_Udp6_InDatagrams"), 1);
	cr_assert_eq(count_metric(&s, "node_netstat_UdpLite6_InErrors"), 1);
	am_metric_set_free(&s);
	free(t);
	cr_assert_lt(am_parse_net_snmp6("Ip6InOctets x\n", &s, NULL), 0);
	cr_assert_eq(s.n, 0);
}
