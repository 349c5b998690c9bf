/* OTLP metrics, decoded by the decoders npm's @opentelemetry/otlp-transformer generated from the
 * official protos (tests/tools/otlp_decode.js): fixture sets checked field by field, and every
 * point of every system collector's real collection checked against its set (name, unit, kind,
 * monotonic, temporality, start and collection times, value bits, attributes), with the
 * semantic-conventions names of the series that have one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/collector_runner.h"
#include "agent/config.h"
#include "export/otlp_metrics.h"
#include "otlp_metrics_service.pb-c.h"
#include "records/resource.h"
#include "gunzip.h"
#include "otlp_decode.h"
#include "testutil.h"

#define DECODER AM_TEST_SRC_DIR "/tests/tools/otlp_decode.js"

static void resource(struct am_resource *r)
{
	*r = (struct am_resource){0};
	cr_assert_eq(am_resource_set(r, "host.name", "h1"), 0);
	cr_assert_eq(am_resource_set(r, "service.name", "antimetal-agent"), 0);
}

static const struct am_metric_desc rx = {
    .name = "antimetal_network_receive_bytes_total",
    .prom = "node_network_receive_bytes_total",
    .otel = "system.network.io",
    .otel_attrs = {{"network.io.direction", "receive"}},
    .otel_labels = {{"device", "network.interface.name"}},
    .help = "Bytes received.",
    .unit = "By",
    .type = AM_METRIC_COUNTER,
    .labels = {"device"},
};
static const struct am_metric_desc tx = {
    .name = "antimetal_network_transmit_bytes_total",
    .otel = "system.network.io",
    .otel_attrs = {{"network.io.direction", "transmit"}},
    .otel_labels = {{"device", "network.interface.name"}},
    .help = "Bytes received.",
    .unit = "By",
    .type = AM_METRIC_COUNTER,
    .labels = {"device"},
};
static const struct am_metric_desc memfree = {
    .name = "antimetal_memory_free_bytes",
    .otel = "system.memory.usage",
    .otel_attrs = {{"system.memory.state", "free"}},
    .otel_updown = 1,
    .help = "Free memory.",
    .unit = "By",
    .type = AM_METRIC_GAUGE,
};
static const struct am_metric_desc load1 = {
    .name = "antimetal_load1",
    .otel = "system.cpu.load_average.1m",
    .otel_unit = "{thread}",
    .help = "1m load average.",
    .type = AM_METRIC_GAUGE,
};
static const struct am_metric_desc plain = {
    .prom = "node_netstat_Icmp_InMsgs",
    .help = "Icmp InMsgs.",
    .type = AM_METRIC_COUNTER,
};

Test(otlp_metrics, fixture_set_decodes_to_the_conventions)
{
	struct am_metric_set s = {.timestamp_ns = 1700000000123456789ull};
	struct am_otlp_metrics_input in = {&s, 1690000000000000000ull};
	struct am_strbuf out = {0};
	struct am_resource r;
	uint64_t npoints;
	size_t len;
	void *buf;

	am_test_require_otlp_decoder();
	resource(&r);
	am_metric_add(&s, &rx, 1234, "device", "eth0", NULL);
	am_metric_add(&s, &memfree, 4096, NULL);
	am_metric_add(&s, &tx, 99, "device", "eth0", NULL);
	am_metric_add(&s, &load1, 0.5, NULL);
	am_metric_add(&s, &plain, 7, NULL);
	am_metric_add(&s, &rx, 1, "device", "", NULL); /* empty label: no attribute */
	cr_assert_eq(am_otlp_metrics_encode(&in, 1, &r, "9.9.9", false, &buf, &len, &npoints), 0);
	cr_assert_eq(npoints, 6u);
	am_test_otlp_decode(DECODER, NULL, buf, len, &out);
	cr_assert_str_eq(
	    out.data,
	    "{\"metric\":\"antimetal.netstat.icmp_inmsgs\",\"unit\":\"\",\"description\":\"Icmp "
	    "InMsgs.\",\"kind\":\"sum\",\"monotonic\":true,\"temporality\":2,\"start\":"
	    "\"1690000000000000000\",\"time\":\"1700000000123456789\",\"value\":7,\"attributes\":"
	    "{},\"resource\":{\"host.name\":\"h1\",\"service.name\":\"antimetal-agent\"},"
	    "\"scope\":\"antimetal-agent\",\"scope_version\":\"9.9.9\"}\n"
	    "{\"metric\":\"system.cpu.load_average.1m\",\"unit\":\"{thread}\",\"description\":\"1m "
	    "load average.\",\"kind\":\"gauge\",\"monotonic\":null,\"temporality\":null,\"start\":"
	    "\"0\",\"time\":\"1700000000123456789\",\"value\":0.5,\"attributes\":{},\"resource\":{"
	    "\"host.name\":\"h1\",\"service.name\":\"antimetal-agent\"},\"scope\":\"antimetal-"
	    "agent\",\"scope_version\":\"9.9.9\"}\n"
	    "{\"metric\":\"system.memory.usage\",\"unit\":\"By\",\"description\":\"Free "
	    "memory.\",\"kind\":\"sum\",\"monotonic\":false,\"temporality\":2,\"start\":"
	    "\"1690000000000000000\",\"time\":\"1700000000123456789\",\"value\":4096,"
	    "\"attributes\":{\"system.memory.state\":\"free\"},\"resource\":{\"host.name\":\"h1\","
	    "\"service.name\":\"antimetal-agent\"},\"scope\":\"antimetal-agent\",\"scope_version\":"
	    "\"9.9.9\"}\n"
	    "{\"metric\":\"system.network.io\",\"unit\":\"By\",\"description\":\"Bytes "
	    "received.\",\"kind\":\"sum\",\"monotonic\":true,\"temporality\":2,\"start\":"
	    "\"1690000000000000000\",\"time\":\"1700000000123456789\",\"value\":1234,"
	    "\"attributes\":{\"network.io.direction\":\"receive\",\"network.interface.name\":"
	    "\"eth0\"},\"resource\":{\"host.name\":\"h1\",\"service.name\":\"antimetal-agent\"},"
	    "\"scope\":\"antimetal-agent\",\"scope_version\":\"9.9.9\"}\n"
	    "{\"metric\":\"system.network.io\",\"unit\":\"By\",\"description\":\"Bytes "
	    "received.\",\"kind\":\"sum\",\"monotonic\":true,\"temporality\":2,\"start\":"
	    "\"1690000000000000000\",\"time\":\"1700000000123456789\",\"value\":99,\"attributes\":"
	    "{\"network.io.direction\":\"transmit\",\"network.interface.name\":\"eth0\"},"
	    "\"resource\":{\"host.name\":\"h1\",\"service.name\":\"antimetal-agent\"},\"scope\":"
	    "\"antimetal-agent\",\"scope_version\":\"9.9.9\"}\n"
	    "{\"metric\":\"system.network.io\",\"unit\":\"By\",\"description\":\"Bytes "
	    "received.\",\"kind\":\"sum\",\"monotonic\":true,\"temporality\":2,\"start\":"
	    "\"1690000000000000000\",\"time\":\"1700000000123456789\",\"value\":1,\"attributes\":"
	    "{\"network.io.direction\":\"receive\"},\"resource\":{\"host.name\":\"h1\","
	    "\"service.name\":\"antimetal-agent\"},\"scope\":\"antimetal-agent\","
	    "\"scope_version\":\"9.9.9\"}\n");
	/* gzip'd by the encoder (as the logs encoder does): the same bytes once inflated. */
	{
		struct am_strbuf inflated = {0};
		uint64_t npz;
		size_t zlen;
		void *z;

		cr_assert_eq(am_otlp_metrics_encode(&in, 1, &r, "9.9.9", true, &z, &zlen, &npz), 0);
		cr_assert_eq(npz, npoints);
		cr_assert_eq(((unsigned char *)z)[0], 0x1f, "not a gzip member");
		am_test_gunzip(z, zlen, &inflated);
		cr_assert_eq(inflated.len, len);
		cr_assert_eq(memcmp(inflated.data, buf, len), 0);
		free(z);
		am_strbuf_free(&inflated);
	}
	free(buf);
	am_strbuf_free(&out);
	am_metric_set_free(&s);
	am_resource_free(&r);
}

Test(otlp_metrics, derived_names_for_metrics_without_a_convention)
{
	char name[160];

	am_otlp_metric_name(&plain, name, sizeof(name));
	cr_assert_str_eq(name, "antimetal.netstat.icmp_inmsgs");
	am_otlp_metric_name(AM_METRIC_DESC(.name = "antimetal_disk_read_time_seconds_total",
					   .unit = "s", .type = AM_METRIC_COUNTER),
			    name, sizeof(name));
	cr_assert_str_eq(name, "antimetal.disk.read_time_seconds");
	am_otlp_metric_name(
	    AM_METRIC_DESC(.name = "antimetal_agent_scrapes_total", .type = AM_METRIC_COUNTER),
	    name, sizeof(name));
	cr_assert_str_eq(name, "antimetal.agent.scrapes");
	am_otlp_metric_name(AM_METRIC_DESC(.prom = "process_resident_memory_bytes", .unit = "By"),
			    name, sizeof(name));
	cr_assert_str_eq(name, "antimetal.process.resident_memory_bytes");
}

Test(otlp_metrics, empty_request_and_partial_success_response)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse resp =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess ps =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
	struct am_metric_set s = {0};
	struct am_otlp_metrics_input in = {&s, 0};
	struct am_resource r = {0};
	uint8_t wire[256];
	uint64_t npoints, rejected;
	char msg[128];
	size_t len;
	void *buf;

	cr_assert_eq(am_otlp_metrics_encode(&in, 1, &r, "1", false, &buf, &len, &npoints), 0);
	cr_assert_eq(npoints, 0u);
	free(buf);
	ps.rejected_data_points = 3;
	ps.error_message = "3 points too old";
	resp.partial_success = &ps;
	len = opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(
	    &resp, wire);
	am_otlp_metrics_parse_response(wire, len, &rejected, msg, sizeof(msg));
	cr_assert_eq(rejected, 3u);
	cr_assert_str_eq(msg, "3 points too old");
	am_otlp_metrics_parse_response("", 0, &rejected, msg, sizeof(msg));
	cr_assert_eq(rejected, 0u);
	cr_assert_str_eq(msg, "");
	am_otlp_metrics_parse_response("\xff\xff\xff", 3, &rejected, msg, sizeof(msg));
	cr_assert_eq(rejected, 0u);
	cr_assert_not_null(strstr(msg, "not an ExportMetricsServiceResponse"), "%s", msg);
}

/* ---- every point of a real collection ---- */

static void hex(struct am_strbuf *b, const char *s)
{
	for (; *s; s++)
		am_strbuf_printf(b, "%02x", (unsigned char)*s);
}

struct attr {
	const char *k, *v;
};

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct attr *)a)->k, ((const struct attr *)b)->k);
}

/* The decoder's --points line M must decode to. */
static void expected_line(const struct am_metric *m, const struct am_otlp_metrics_input *in,
			  struct am_strbuf *b)
{
	const struct am_metric_desc *d = m->desc;
	struct attr a[AM_METRIC_MAX_LABELS + 2];
	bool sum = d->type == AM_METRIC_COUNTER || d->otel_updown;
	const char *unit = am_otlp_metric_unit(d);
	size_t n = 0, i;
	char name[160];
	uint64_t bits;
	int j;

	for (i = 0; i < 2; i++)
		if (d->otel_attrs[i].a)
			a[n++] = (struct attr){d->otel_attrs[i].a, d->otel_attrs[i].b};
	for (j = 0; j < m->nlabels; j++) {
		const char *k = m->labels[j].name;

		if (!m->labels[j].value[0])
			continue;
		for (i = 0; i < 3; i++)
			if (d->otel_labels[i].a && !strcmp(d->otel_labels[i].a, k))
				k = d->otel_labels[i].b;
		a[n++] = (struct attr){k, m->labels[j].value};
	}
	qsort(a, n, sizeof(a[0]), by_key);
	am_otlp_metric_name(d, name, sizeof(name));
	memcpy(&bits, &m->value, 8);
	am_strbuf_printf(b, "%s %s %s %s %s %llu %llu %016llx ", name, sum ? "sum" : "gauge",
			 sum ? (d->otel_updown ? "0" : "1") : "-", sum ? "2" : "-",
			 *unit ? unit : "-", sum ? (unsigned long long)in->start_ns : 0ull,
			 (unsigned long long)in->set->timestamp_ns, (unsigned long long)bits);
	for (i = 0; i < n; i++) {
		am_strbuf_printf(b, "%s%s=", i ? "," : "", a[i].k);
		hex(b, a[i].v);
	}
	if (!n)
		am_strbuf_putc(b, '-');
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines of TEXT (modified), sorted. */
static char **sorted_lines(char *text, size_t *n)
{
	char **v = NULL, *save = NULL, *l;

	*n = 0;
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		v = realloc(v, (*n + 1) * sizeof(*v));
		cr_assert_not_null(v);
		v[(*n)++] = l;
	}
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static bool has_line(char **lines, size_t n, const char *want)
{
	return bsearch(&want, lines, n, sizeof(*lines), cmp_str) != NULL;
}

/* Whether some decoded line starts with PREFIX and contains NEEDLE. */
static bool has_point(char **lines, size_t n, const char *prefix, const char *needle)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strncmp(lines[i], prefix, strlen(prefix)) && strstr(lines[i], needle))
			return true;
	return false;
}

/* ",KEY=HEX(V)" or " KEY=..." as it appears in a --points line. */
static const char *attr_text(const char *k, const char *v, char *out, size_t len)
{
	struct am_strbuf b = {0};

	am_strbuf_printf(&b, "%s=", k);
	hex(&b, v);
	snprintf(out, len, "%s", b.data);
	am_strbuf_free(&b);
	return out;
}

/* Two descriptors under one OTel name must agree on unit and kind. */
static void check_names_consistent(const struct am_metric_desc **d, size_t n)
{
	size_t i, j;
	char a[160], b[160];

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			const struct am_metric_desc *x = d[i], *y = d[j];

			am_otlp_metric_name(x, a, sizeof(a));
			am_otlp_metric_name(y, b, sizeof(b));
			if (strcmp(a, b))
				continue;
			cr_assert_str_eq(am_otlp_metric_unit(x), am_otlp_metric_unit(y),
					 "%s: units differ", a);
			cr_assert_eq(x->type == AM_METRIC_COUNTER || x->otel_updown,
				     y->type == AM_METRIC_COUNTER || y->otel_updown,
				     "%s: sum and gauge", a);
			cr_assert_eq(x->otel_updown, y->otel_updown, "%s: monotonic differs", a);
		}
}

/* Add D to the distinct descriptors V[0..*N). */
static void add_desc(const struct am_metric_desc **v, size_t *n, size_t cap,
		     const struct am_metric_desc *d)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (v[i] == d)
			return;
	cr_assert_lt(*n, cap);
	v[(*n)++] = d;
}

Test(otlp_metrics, every_point_of_a_real_collection, .timeout = 120)
{
	struct am_otlp_metrics_input in[AM_CONFIG_MAX_COLLECTORS * 2];
	struct am_strbuf out = {0}, want = {0};
	struct am_config cfg;
	struct am_runner r;
	struct am_resource res;
	static const struct am_metric_desc *descs[4096];
	size_t ndescs = 0;
	uint64_t npoints, total = 0;
	size_t i, j, nin = 0, nlines;
	char **lines, at[256];
	size_t len;
	void *buf;

	am_test_require_otlp_decoder();
	am_config_defaults(&cfg);
	cr_assert_eq(am_runner_init(&r, &cfg), 0);
	for (i = 0; i < r.n; i++) {
		if (r.entries[i].init_error)
			continue;
		am_runner_collect(&r, i);
		am_runner_collect(&r, i); /* rates need two samples */
		if (!r.entries[i].latest.n)
			continue;
		in[nin] =
		    (struct am_otlp_metrics_input){&r.entries[i].latest, 1000000000ull * (i + 1)};
		total += r.entries[i].latest.n;
		nin++;
	}
	cr_assert_gt(nin, 5u, "collectors ran: %zu", nin);
	resource(&res);
	cr_assert_eq(am_otlp_metrics_encode(in, nin, &res, "1.0", false, &buf, &len, &npoints), 0);
	cr_assert_eq(npoints, total);
	am_test_otlp_decode(DECODER, "--points", buf, len, &out);
	lines = sorted_lines(out.data, &nlines);
	cr_assert_eq(nlines, total, "decoded %zu points of %llu", nlines,
		     (unsigned long long)total);
	for (i = 0; i < nin; i++)
		for (j = 0; j < in[i].set->n; j++) {
			am_strbuf_reset(&want);
			expected_line(&in[i].set->items[j], &in[i], &want);
			cr_assert(has_line(lines, nlines, want.data), "not decoded: %s (%s)",
				  want.data, am_metric_name(&in[i].set->items[j]));
		}
	/* The conventions' names and attributes for the series that have them. */
	cr_assert(has_point(lines, nlines, "system.cpu.time sum 1 2 s ",
			    attr_text("cpu.mode", "idle", at, sizeof(at))));
	cr_assert(has_point(lines, nlines, "system.memory.usage sum 0 2 By ",
			    attr_text("system.memory.state", "free", at, sizeof(at))));
	cr_assert(has_point(lines, nlines, "system.memory.limit sum 0 2 By ", ""));
	cr_assert(has_point(lines, nlines, "system.cpu.load_average.1m gauge - - {thread} ", ""));
	cr_assert(has_point(lines, nlines, "system.network.io sum 1 2 By ",
			    attr_text("network.io.direction", "transmit", at, sizeof(at))));
	cr_assert(has_point(lines, nlines, "system.network.io sum 1 2 By ",
			    attr_text("network.interface.name", "lo", at, sizeof(at))));
	cr_assert(has_point(lines, nlines, "system.processes.count sum 0 2 {process} ",
			    attr_text("status", "running", at, sizeof(at))));
	cr_assert(has_point(lines, nlines, "system.paging.faults sum 1 2 {fault} ",
			    attr_text("system.paging.type", "major", at, sizeof(at))));
	cr_assert(has_point(lines, nlines, "process.cpu.time sum 1 2 s ", ""));
	/* Names shared by several descriptors agree on unit and kind. */
	for (i = 0; i < nin; i++)
		for (j = 0; j < in[i].set->n; j++)
			add_desc(descs, &ndescs, 4096, in[i].set->items[j].desc);
	check_names_consistent(descs, ndescs);
	free(lines);
	free(buf);
	am_strbuf_free(&out);
	am_strbuf_free(&want);
	am_resource_free(&res);
	am_runner_destroy(&r);
}
