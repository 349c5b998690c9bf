/* remote_write encoding: known sets go in, the snappy block is uncompressed and decoded with
 * protobuf-c's own unpacker, and every series, label, value and timestamp is checked. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export/remote_write.h"
#include "prom_remote.pb-c.h"

static const struct am_metric_desc cpu_desc = {
    .name = "antimetal_cpu_seconds_total",
    .prom = "node_cpu_seconds_total",
    .help = "Seconds the CPUs spent in each mode.",
    .unit = "s",
    .type = AM_METRIC_COUNTER,
    .labels = {"cpu", "mode"},
};

static const struct am_metric_desc mem_desc = {
    .name = "antimetal_memory_total_bytes",
    .prom = "node_memory_MemTotal_bytes",
    .help = "Memory information field MemTotal_bytes.",
    .unit = "By",
    .type = AM_METRIC_GAUGE,
};

static const struct am_metric_desc vm_desc = {
    .prom = "node_vmstat_pgfault",
    .help = "/proc/vmstat information field pgfault.",
    .type = AM_METRIC_COUNTER,
    .prom_untyped = 1,
};

static const struct am_metric_desc fs_desc = {
    .name = "antimetal_filesystem_info",
    .help = "A filesystem.",
    .type = AM_METRIC_INFO,
    .labels = {"device", "mountpoint", "Zone"},
};

static Prometheus__WriteRequest *decode(const struct am_rw_payload *p)
{
	Prometheus__WriteRequest *req;
	size_t len;
	void *raw;

	cr_assert_eq(am_rw_snappy_uncompress(p->data, p->len, &raw, &len), 0);
	cr_assert_eq(len, p->raw_len, "uncompressed %zu bytes, encoded %zu", len, p->raw_len);
	req = prometheus__write_request__unpack(NULL, len, raw);
	free(raw);
	cr_assert_not_null(req, "protobuf-c cannot unpack the WriteRequest");
	return req;
}

/* The series whose labels are exactly PAIRS (NULL-terminated name, value), in that order. */
static const Prometheus__TimeSeries *series(const Prometheus__WriteRequest *r,
					    const char *const *pairs)
{
	size_t i, j, n = 0;

	while (pairs[2 * n])
		n++;
	for (i = 0; i < r->n_timeseries; i++) {
		const Prometheus__TimeSeries *t = r->timeseries[i];

		if (t->n_labels != n)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(t->labels[j]->name, pairs[2 * j]) ||
			    strcmp(t->labels[j]->value, pairs[2 * j + 1]))
				break;
		if (j == n)
			return t;
	}
	return NULL;
}

static void expect(const Prometheus__WriteRequest *r, const char *const *pairs, double v,
		   int64_t ts)
{
	const Prometheus__TimeSeries *t = series(r, pairs);

	cr_assert_not_null(t, "no series {%s=%s, %s=%s, ...} with exactly these labels", pairs[0],
			   pairs[1], pairs[2] ? pairs[2] : "", pairs[2] ? pairs[3] : "");
	cr_assert_eq(t->n_samples, 1);
	cr_assert_eq(t->samples[0]->value, v, "value %.17g, expected %.17g", t->samples[0]->value,
		     v);
	cr_assert_eq(t->samples[0]->timestamp, ts, "timestamp %lld, expected %lld",
		     (long long)t->samples[0]->timestamp, (long long)ts);
}

static const struct am_rw_label external[] = {
    {"job", "antimetal-agent"}, {"instance", "host-a"}, {"region", ""}};

Test(remote_write, encodes_every_series_with_sorted_labels_and_its_sets_timestamp)
{
	struct am_metric_set a = {.timestamp_ns = 1700000000123456789ull};
	struct am_metric_set b = {.timestamp_ns = 1700000001999000000ull};
	const struct am_metric_set *sets[] = {&a, &b};
	struct am_rw_options o = {.external = external, .nexternal = 3};
	struct am_rw_payload p;
	Prometheus__WriteRequest *r;
	size_t i, j;

	am_metric_add(&a, &cpu_desc, 1234.5, "cpu", "0", "mode", "user", NULL);
	am_metric_add(&a, &cpu_desc, 99, "cpu", "1", "mode", "idle", NULL);
	am_metric_add(&a, &mem_desc, 8589934592.0, NULL);
	/* A series' own label wins over an external one; an empty value is no label; bytes
	 * that are not UTF-8 read '?' as on /metrics. */
	am_metric_add(&b, &fs_desc, 1, "device", "/dev/sda1", "mountpoint", "", "Zone", "bad\xff",
		      NULL);
	am_metric_add(&b, &vm_desc, 77, NULL);
	am_metric_add(&b, &mem_desc, NAN, "instance", "own", NULL);
	cr_assert_eq(am_rw_encode(sets, 2, &o, &p), 0);
	cr_assert_eq(p.series, 6);
	cr_assert_eq(p.duplicates, 0);
	cr_assert_eq(p.metadata, 0, "metadata only when asked for");
	cr_assert_lt(p.len, p.raw_len, "snappy did not shrink %zu bytes", p.raw_len);
	r = decode(&p);
	cr_assert_eq(r->n_timeseries, 6);
	cr_assert_eq(r->n_metadata, 0);
	expect(r,
	       (const char *const[]){"__name__", "node_cpu_seconds_total", "cpu", "0", "instance",
				     "host-a", "job", "antimetal-agent", "mode", "user", NULL},
	       1234.5, 1700000000123);
	expect(r,
	       (const char *const[]){"__name__", "node_cpu_seconds_total", "cpu", "1", "instance",
				     "host-a", "job", "antimetal-agent", "mode", "idle", NULL},
	       99, 1700000000123);
	expect(r,
	       (const char *const[]){"__name__", "node_memory_MemTotal_bytes", "instance", "host-a",
				     "job", "antimetal-agent", NULL},
	       8589934592.0, 1700000000123);
	/* Byte order: "Zone" before "__name__". */
	expect(r,
	       (const char *const[]){"Zone", "bad?", "__name__", "antimetal_filesystem_info",
				     "device", "/dev/sda1", "instance", "host-a", "job",
				     "antimetal-agent", NULL},
	       1, 1700000001999);
	expect(r,
	       (const char *const[]){"__name__", "node_vmstat_pgfault", "instance", "host-a", "job",
				     "antimetal-agent", NULL},
	       77, 1700000001999);
	{
		const Prometheus__TimeSeries *t = series(
		    r, (const char *const[]){"__name__", "node_memory_MemTotal_bytes", "instance",
					     "own", "job", "antimetal-agent", NULL});

		cr_assert_not_null(t);
		cr_assert(isnan(t->samples[0]->value));
	}
	for (i = 0; i < r->n_timeseries; i++)
		for (j = 1; j < r->timeseries[i]->n_labels; j++)
			cr_assert_lt(strcmp(r->timeseries[i]->labels[j - 1]->name,
					    r->timeseries[i]->labels[j]->name),
				     0, "labels of series %zu not sorted", i);
	prometheus__write_request__free_unpacked(r, NULL);
	free(p.data);
	am_metric_set_free(&a);
	am_metric_set_free(&b);
}

Test(remote_write, names_follow_the_metrics_endpoints_choice)
{
	struct am_metric_set a = {.timestamp_ns = 5000000};
	const struct am_metric_set *sets[] = {&a};
	struct am_rw_options o = {.legacy_names = 1};
	struct am_rw_payload p;
	Prometheus__WriteRequest *r;

	am_metric_add(&a, &mem_desc, 1, NULL);
	am_metric_add(&a, &vm_desc, 2, NULL);
	cr_assert_eq(am_rw_encode(sets, 1, &o, &p), 0);
	r = decode(&p);
	/* antimetal_* where the agent has its own name, node_exporter's where it has only that */
	expect(r, (const char *const[]){"__name__", "antimetal_memory_total_bytes", NULL}, 1, 5);
	expect(r, (const char *const[]){"__name__", "node_vmstat_pgfault", NULL}, 2, 5);
	prometheus__write_request__free_unpacked(r, NULL);
	free(p.data);
	am_metric_set_free(&a);
}

Test(remote_write, a_duplicate_series_is_left_out_and_counted_keeping_the_first)
{
	struct am_metric_set a = {.timestamp_ns = 1000000000}, b = {.timestamp_ns = 2000000000};
	const struct am_metric_set *sets[] = {&a, &b};
	struct am_rw_options o = {0};
	struct am_rw_payload p;
	Prometheus__WriteRequest *r;

	am_metric_add(&a, &cpu_desc, 1, "cpu", "0", "mode", "user", NULL);
	am_metric_add(&b, &cpu_desc, 2, "mode", "user", "cpu", "0", NULL);
	/* An empty label is no label: the same series as the one without it. */
	am_metric_add(&a, &mem_desc, 3, NULL);
	am_metric_add(&a, &mem_desc, 4, "x", "", NULL);
	cr_assert_eq(am_rw_encode(sets, 2, &o, &p), 0);
	cr_assert_eq(p.series, 2);
	cr_assert_eq(p.duplicates, 2);
	r = decode(&p);
	expect(r,
	       (const char *const[]){"__name__", "node_cpu_seconds_total", "cpu", "0", "mode",
				     "user", NULL},
	       1, 1000);
	expect(r, (const char *const[]){"__name__", "node_memory_MemTotal_bytes", NULL}, 3, 1000);
	prometheus__write_request__free_unpacked(r, NULL);
	free(p.data);
	am_metric_set_free(&a);
	am_metric_set_free(&b);
}

Test(remote_write, metadata_gives_each_family_its_type_help_and_unit_once)
{
	struct am_metric_set a = {.timestamp_ns = 1};
	const struct am_metric_set *sets[] = {&a};
	struct am_rw_options o = {.metadata = true};
	struct am_rw_payload p;
	Prometheus__WriteRequest *r;
	size_t i;
	int seen = 0;

	am_metric_add(&a, &cpu_desc, 1, "cpu", "0", "mode", "user", NULL);
	am_metric_add(&a, &cpu_desc, 1, "cpu", "0", "mode", "system", NULL);
	am_metric_add(&a, &mem_desc, 1, NULL);
	am_metric_add(&a, &vm_desc, 1, NULL);
	am_metric_add(&a, &fs_desc, 1, "device", "d", NULL);
	cr_assert_eq(am_rw_encode(sets, 1, &o, &p), 0);
	r = decode(&p);
	cr_assert_eq(r->n_metadata, 4);
	for (i = 0; i < r->n_metadata; i++) {
		const Prometheus__MetricMetadata *m = r->metadata[i];

		if (!strcmp(m->metric_family_name, "node_cpu_seconds_total")) {
			cr_assert_eq(m->type, PROMETHEUS__METRIC_METADATA__METRIC_TYPE__COUNTER);
			cr_assert_str_eq(m->help, cpu_desc.help);
			cr_assert_str_eq(m->unit, "seconds");
			seen |= 1;
		} else if (!strcmp(m->metric_family_name, "node_memory_MemTotal_bytes")) {
			cr_assert_eq(m->type, PROMETHEUS__METRIC_METADATA__METRIC_TYPE__GAUGE);
			cr_assert_str_eq(m->unit, "bytes");
			seen |= 2;
		} else if (!strcmp(m->metric_family_name, "node_vmstat_pgfault")) {
			/* untyped on /metrics, as node_exporter declares it */
			cr_assert_eq(m->type, PROMETHEUS__METRIC_METADATA__METRIC_TYPE__UNKNOWN);
			cr_assert_str_eq(m->unit, "");
			seen |= 4;
		} else if (!strcmp(m->metric_family_name, "antimetal_filesystem_info")) {
			cr_assert_eq(m->type, PROMETHEUS__METRIC_METADATA__METRIC_TYPE__GAUGE);
			seen |= 8;
		}
	}
	cr_assert_eq(seen, 15);
	prometheus__write_request__free_unpacked(r, NULL);
	free(p.data);
	am_metric_set_free(&a);
}

Test(remote_write, nothing_to_send_is_einval)
{
	struct am_metric_set a = {0};
	const struct am_metric_set *sets[] = {&a};
	struct am_rw_options o = {0};
	struct am_rw_payload p;

	cr_assert_eq(am_rw_encode(sets, 1, &o, &p), -EINVAL);
	cr_assert_null(p.data);
	cr_assert_eq(am_rw_encode(NULL, 0, &o, &p), -EINVAL);
}

Test(remote_write, snappy_round_trips_and_refuses_corrupt_blocks)
{
	size_t n = 200000, len, back_len, i;
	unsigned char *in = malloc(n);
	void *packed, *back;
	unsigned seed = 1;

	/* Half compressible text, half noise: both of snappy's paths. */
	for (i = 0; i < n; i++)
		in[i] = i < n / 2 ? (unsigned char)("node_cpu_seconds_total"[i % 22])
				  : (unsigned char)(rand_r(&seed) & 0xff);
	cr_assert_eq(am_rw_snappy_compress(in, n, &packed, &len), 0);
	cr_assert_lt(len, n);
	cr_assert_eq(am_rw_snappy_uncompress(packed, len, &back, &back_len), 0);
	cr_assert_eq(back_len, n);
	cr_assert_eq(memcmp(in, back, n), 0);
	free(back);
	/* The length prefix claims more than the block holds. */
	((unsigned char *)packed)[0] ^= 0x7f;
	cr_assert_eq(am_rw_snappy_uncompress(packed, len, &back, &back_len), -EINVAL);
	cr_assert_null(back);
	cr_assert_eq(am_rw_snappy_uncompress("\xff\xff\xff\xff\xff\xff", 6, &back, &back_len),
		     -EINVAL);
	free(packed);
	cr_assert_eq(am_rw_snappy_compress("", 0, &packed, &len), 0);
	cr_assert_eq(am_rw_snappy_uncompress(packed, len, &back, &back_len), 0);
	cr_assert_eq(back_len, 0);
	free(back);
	free(packed);
	free(in);
}

Test(remote_write, external_label_names_are_checked)
{
	cr_assert(am_rw_label_name_valid("instance"));
	cr_assert(am_rw_label_name_valid("_x9"));
	cr_assert(am_rw_label_name_valid("Zone"));
	cr_assert_not(am_rw_label_name_valid(""));
	cr_assert_not(am_rw_label_name_valid("9lives"));
	cr_assert_not(am_rw_label_name_valid("__name__"));
	cr_assert_not(am_rw_label_name_valid("a-b"));
	cr_assert_not(am_rw_label_name_valid("a.b"));
}
