#include "agent/remote_write_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/remote_write.h"
#include "util/clock.h"
#include "util/log.h"

/* Prometheus sends metadata once a minute by default (metadata_config.send_interval). */
#define METADATA_INTERVAL_NS (60ull * 1000000000ull)

#define COUNTER(var, nm, hlp, u)                                                                   \
	static const struct am_metric_desc var = {                                                 \
	    .name = nm, .help = hlp, .unit = u, .type = AM_METRIC_COUNTER}

COUNTER(pushes_desc, "antimetal_remote_write_pushes_total",
	"WriteRequests encoded and queued for the remote_write receiver.", "{request}");
COUNTER(series_desc, "antimetal_remote_write_series_total",
	"Series (one sample each) queued for the remote_write receiver.", "{series}");
COUNTER(dup_desc, "antimetal_remote_write_duplicate_series_total",
	"Series left out of a push because an earlier one had the same labels (a scrape of "
	"/metrics would keep the first too).",
	"{series}");
COUNTER(bytes_desc, "antimetal_remote_write_bytes_total",
	"Snappy-compressed WriteRequest bytes queued (HTTP headers not included).", "By");
COUNTER(raw_desc, "antimetal_remote_write_uncompressed_bytes_total",
	"WriteRequest bytes before snappy compression.", "By");
COUNTER(fail_desc, "antimetal_remote_write_encode_failures_total",
	"Pushes lost before the queue: out of memory while encoding.", "{request}");

static void on_timer(void *ctx, uint32_t events, uint64_t expirations)
{
	(void)events;
	(void)expirations; /* a late timer pushes once: every new collection is in that push */
	am_rw_source_push(ctx);
}

static struct am_rw_sent *sent_slot(struct am_rw_source *s, const struct am_collector *col)
{
	struct am_rw_sent *grown;
	size_t i;

	for (i = 0; i < s->nsent; i++)
		if (s->sent[i].col == col)
			return &s->sent[i];
	grown = realloc(s->sent, (s->nsent + 1) * sizeof(*s->sent));
	if (!grown)
		return NULL;
	s->sent = grown;
	s->sent[s->nsent] = (struct am_rw_sent){col, 0};
	return &s->sent[s->nsent++];
}

int am_rw_source_start(struct am_rw_source *s, const struct am_config *cfg, const char *host,
		       struct am_loop *loop, struct am_push *push, const struct am_runner *r,
		       am_rw_own_fn own, void *ctx)
{
	struct am_sender_config sc = {0};
	uint64_t interval = cfg->rw_interval_ms ? cfg->rw_interval_ms : cfg->interval_ms;
	char err[768];
	int rc;

	*s = (struct am_rw_source){.runner = r, .own = own, .own_ctx = ctx};
	s->legacy_names = cfg->http_antimetal_names;
	s->metadata = cfg->rw_metadata;
	rc = am_rw_settings_build(cfg, host, &s->set, err, sizeof(err));
	if (rc) {
		am_err("remote_write: %s", err);
		am_rw_settings_free(&s->set);
		return rc;
	}
	sc.name = "remote_write";
	sc.url = cfg->rw_url;
	sc.content_type = AM_RW_CONTENT_TYPE;
	sc.content_encoding = AM_RW_CONTENT_ENCODING;
	sc.headers = (const char *const *)s->set.headers.lines;
	sc.nheaders = s->set.headers.n;
	sc.timeout_ms = (uint32_t)cfg->rw_timeout_ms;
	sc.queue_max_bytes = cfg->rw_queue_bytes;
	sc.ca_file = cfg->rw_ca_file[0] ? cfg->rw_ca_file : NULL;
	sc.client_cert = cfg->rw_cert_file[0] ? cfg->rw_cert_file : NULL;
	sc.client_key = cfg->rw_key_file[0] ? cfg->rw_key_file : NULL;
	rc = am_sender_new(&sc, &s->sender, err, sizeof(err));
	if (rc) {
		am_err("remote_write: %s", err);
		am_rw_settings_free(&s->set);
		return rc;
	}
	rc = am_push_add(push, s->sender);
	if (rc) {
		s->sender = NULL;
		am_rw_settings_free(&s->set);
		return rc;
	}
	s->timer = am_loop_add_timer(loop, interval, interval, on_timer, s);
	if (!s->timer) {
		s->sender = NULL; /* the push list frees it */
		am_rw_settings_free(&s->set);
		return -ENOMEM;
	}
	am_info("remote_write: pushing to %s every %llu ms", cfg->rw_url,
		(unsigned long long)interval);
	return 0;
}

/* The collectors' snapshots not queued yet, into SETS (room for the runner's entries). */
static size_t new_snapshots(struct am_rw_source *s, const struct am_metric_set **sets,
			    const struct am_collector **cols)
{
	size_t i, n = 0;

	for (i = 0; i < s->runner->n; i++) {
		const struct am_runner_entry *e = &s->runner->entries[i];
		struct am_rw_sent *slot;

		if (!e->latest.n)
			continue;
		slot = sent_slot(s, e->col);
		if (slot && e->latest.timestamp_ns <= slot->ts_ns)
			continue;
		cols[n] = e->col;
		sets[n++] = &e->latest;
	}
	return n;
}

void am_rw_source_push(struct am_rw_source *s)
{
	const struct am_metric_set **sets = NULL;
	const struct am_collector **cols = NULL;
	struct am_metric_set own = {0};
	struct am_rw_options o = {.external = s->set.external,
				  .nexternal = s->set.nexternal,
				  .legacy_names = s->legacy_names};
	uint64_t now = am_clock_ns(CLOCK_MONOTONIC);
	struct am_rw_payload p;
	size_t nsets, i;
	int rc = -ENOMEM;

	if (!s->sender)
		return;
	sets = calloc(s->runner->n + 1, sizeof(*sets));
	cols = calloc(s->runner->n + 1, sizeof(*cols));
	if (!sets || !cols)
		goto fail;
	nsets = new_snapshots(s, sets, cols);
	s->own(s->own_ctx, &own);
	own.timestamp_ns = am_clock_ns(CLOCK_REALTIME);
	if (own.oom)
		goto fail;
	sets[nsets] = &own;
	o.metadata =
	    s->metadata && (!s->last_meta_ns || now - s->last_meta_ns >= METADATA_INTERVAL_NS);
	rc = am_rw_encode(sets, nsets + 1, &o, &p);
	if (rc)
		goto fail;
	for (i = 0; i < nsets; i++) {
		struct am_rw_sent *slot = sent_slot(s, cols[i]);

		if (slot)
			slot->ts_ns = sets[i]->timestamp_ns;
	}
	if (o.metadata)
		s->last_meta_ns = now;
	s->pushes++;
	s->series += p.series;
	s->duplicates += p.duplicates;
	s->bytes += p.len;
	s->raw_bytes += p.raw_len;
	am_sender_submit(s->sender, p.data, p.len, p.series);
	goto out;
fail:
	s->encode_failures++;
	am_err("remote_write: cannot encode a push: %s", strerror(-rc));
out:
	am_metric_set_free(&own);
	free(sets);
	free(cols);
}

void am_rw_source_metrics(const struct am_rw_source *s, struct am_metric_set *out)
{
	if (!s->sender)
		return;
	am_metric_add(out, &pushes_desc, (double)s->pushes, NULL);
	am_metric_add(out, &series_desc, (double)s->series, NULL);
	am_metric_add(out, &dup_desc, (double)s->duplicates, NULL);
	am_metric_add(out, &bytes_desc, (double)s->bytes, NULL);
	am_metric_add(out, &raw_desc, (double)s->raw_bytes, NULL);
	am_metric_add(out, &fail_desc, (double)s->encode_failures, NULL);
}

bool am_rw_config_changed(const struct am_config *x, const struct am_config *y)
{
	return strcmp(x->rw_url, y->rw_url) || x->rw_interval_ms != y->rw_interval_ms ||
	       x->rw_timeout_ms != y->rw_timeout_ms || x->rw_queue_bytes != y->rw_queue_bytes ||
	       strcmp(x->rw_headers, y->rw_headers) ||
	       strcmp(x->rw_external_labels, y->rw_external_labels) ||
	       x->rw_metadata != y->rw_metadata ||
	       strcmp(x->rw_bearer_token_file, y->rw_bearer_token_file) ||
	       strcmp(x->rw_basic_username, y->rw_basic_username) ||
	       strcmp(x->rw_basic_password, y->rw_basic_password) ||
	       strcmp(x->rw_basic_password_file, y->rw_basic_password_file) ||
	       strcmp(x->rw_auth_type, y->rw_auth_type) ||
	       strcmp(x->rw_auth_credentials, y->rw_auth_credentials) ||
	       strcmp(x->rw_auth_credentials_file, y->rw_auth_credentials_file) ||
	       strcmp(x->rw_ca_file, y->rw_ca_file) || strcmp(x->rw_cert_file, y->rw_cert_file) ||
	       strcmp(x->rw_key_file, y->rw_key_file) ||
	       x->http_antimetal_names != y->http_antimetal_names ||
	       strcmp(x->hostname, y->hostname) || x->interval_ms != y->interval_ms;
}

bool am_rw_source_headers_changed(const struct am_rw_source *s, const struct am_config *cfg,
				  const char *host)
{
	struct am_rw_settings next;
	char err[768];
	bool changed;
	size_t i;

	if (!s->sender)
		return cfg->rw_url[0] != '\0';
	/* A file that cannot be read now: the restart says why. */
	changed = am_rw_settings_build(cfg, host, &next, err, sizeof(err)) ||
		  next.headers.n != s->set.headers.n;
	for (i = 0; !changed && i < next.headers.n; i++)
		changed = strcmp(next.headers.lines[i], s->set.headers.lines[i]) != 0;
	am_rw_settings_free(&next);
	return changed;
}

void am_rw_source_close(struct am_rw_source *s, struct am_loop *loop, struct am_push *push,
			uint32_t deadline_ms)
{
	if (s->sender) {
		am_rw_source_push(s);
		am_push_remove(push, s->sender, deadline_ms);
	}
	am_rw_source_stop(s, loop);
}

void am_rw_source_stop(struct am_rw_source *s, struct am_loop *loop)
{
	if (s->timer)
		am_loop_remove(loop, s->timer);
	am_rw_settings_free(&s->set);
	free(s->sent);
	*s = (struct am_rw_source){0};
}
