/* network: /proc/net/dev per interface, read from <procfs>/1/net with a self/net fallback. */
#include <criterion/criterion.h>

#include "collector_testlib.h"
#include "collectors/parse/parsers.h"

Test(network, captured_fixture_exact)
{
	struct am_metric_set s = {0};
	char *t = fixture("proc/real/1/net/dev");

	cr_assert_eq(am_parse_net_dev(t, &s, NULL), 0);
	cr_assert_eq(count_metric(&s, "antimetal_network_receive_bytes_total"), 4);
	cr_assert_eq(count_metric(&s, "antimetal_network_transmit_compressed_total"), 4);
	cr_assert_eq(VALUE(&s, "antimetal_network_receive_bytes_total", "device", "lo"), 6020);
	cr_assert_eq(VALUE(&s, "antimetal_network_receive_packets_total", "device", "lo"), 49);
	cr_assert_eq(VALUE(&s, "antimetal_network_transmit_bytes_total", "device", "lo"), 6020);
	cr_assert_eq(VALUE(&s, "antimetal_network_receive_bytes_total", "device", "eth0"),
		     194893151);
	cr_assert_eq(VALUE(&s, "antimetal_network_receive_packets_total", "device", "eth0"), 4130);
	cr_assert_eq(VALUE(&s, "antimetal_network_transmit_bytes_total", "device", "eth0"), 160806);
	cr_assert_eq(VALUE(&s, "antimetal_network_transmit_packets_total", "device", "eth0"), 2288);
	cr_assert_eq(VALUE(&s, "antimetal_network_receive_errs_total", "device", "ifb0"), 0);
	am_metric_set_free(&s);
	free(t);
}

static const char *const hdr = "Inter-|   Receive  |  Transmit\n"
			       " face |bytes    packets|bytes\n";

static void write_dev(const char *dir, const char *rel, const char *dev, unsigned long long rx)
{
	char path[512], text[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(text, sizeof(text), "%s%s: %llu 1 0 0 0 0 0 0 5 1 0 0 0 0 0 0\n", hdr, dev, rx);
	cr_assert_eq(am_test_write_file(path, text, strlen(text)), 0);
}

Test(network, reads_pid1_namespace_first_then_self)
{
	char *dir = am_test_mkdtemp("network");
	struct am_metric_set s = {0};

	write_dev(dir, "self/net/dev", "selfif", 7);
	cr_assert_eq(collect_once(&am_collector_network, dir, NULL, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_network_receive_bytes_total", "device", "selfif"), 7);
	am_metric_set_reset(&s);
	write_dev(dir, "1/net/dev", "hostif", 9);
	cr_assert_eq(collect_once(&am_collector_network, dir, NULL, NULL, &s), 0);
	cr_assert_eq(VALUE(&s, "antimetal_network_receive_bytes_total", "device", "hostif"), 9);
	cr_assert_null(
	    find_metric(&s, "antimetal_network_receive_bytes_total", "device", "selfif", NULL));
	am_metric_set_free(&s);
	am_test_rmtree(dir);
	free(dir);
}

Test(network, malformed_rejected)
{
	char text[512];
	static const char *const lines[] = {"eth0 1 2 3\n", "eth0: 1 2 3\n",
					    "eth0: 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 x\n",
					    "eth0: 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n", ": 1\n"};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct am_metric_set s = {0};
		const char *why = NULL;

		snprintf(text, sizeof(text), "%s%s", hdr, lines[i]);
		cr_assert_eq(am_parse_net_dev(text, &s, &why), -EINVAL, "accepted '%s'", lines[i]);
		cr_assert_not_null(why);
		cr_assert_eq(s.n, 0);
	}
	cr_assert_eq(am_parse_net_dev("eth0: 1\n", &(struct am_metric_set){0}, NULL), -EINVAL);
}
