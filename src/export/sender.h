/* Delivery of encoded payloads (OTLP/HTTP, remote_write) to one HTTP receiver. The collecting
 * thread only queues: a sender thread of its own does the HTTP (libcurl), so collection never
 * waits on the network. The queue is bounded in bytes and drops its oldest payloads when full;
 * retryable failures (connection errors, timeouts, 429, 502, 503, 504) are retried with
 * exponential backoff and jitter, honouring Retry-After; permanent ones (other 4xx, 5xx) drop
 * the payload. Every item (data point, sample or log record) the sender was given ends up
 * counted exactly once: sent, rejected by the receiver (partial success), or dropped by reason.
 * Guarantee: at-least-once while the queue holds; a payload whose answer was lost (timeout
 * after the receiver took it) is sent again and may be duplicated. */
#ifndef ANTIMETAL_EXPORT_SENDER_H
#define ANTIMETAL_EXPORT_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct am_metric_set;

enum am_sender_drop {
	AM_SENDER_DROP_QUEUE_FULL, /* evicted, oldest first, to make room */
	AM_SENDER_DROP_PERMANENT,  /* the receiver refused it: 400, 401, 403, 404, 413... */
	AM_SENDER_DROP_RETRIES,	   /* retryable failures went on past max_elapsed_ms */
	AM_SENDER_DROP_SHUTDOWN,   /* still queued when the flush deadline passed */
	AM_SENDER_DROP_NREASONS,
};

struct am_sender_config {
	const char *name; /* self-metric label: "otlp_metrics", "otlp_logs", "remote_write" */
	const char *url;  /* full URL, http:// or https:// */
	const char *content_type; /* "application/x-protobuf" */
	/* "Content-Encoding" value sent with every payload ("gzip", "snappy"), NULL: none. The
	 * payload is given already encoded: compression is the encoder's job. */
	const char *content_encoding;
	const char *const *headers; /* extra "Name: value" lines, NHEADERS of them */
	size_t nheaders;
	uint32_t timeout_ms;	 /* one request, connect included */
	size_t queue_max_bytes;	 /* payload bytes queued at most */
	uint32_t max_elapsed_ms; /* give a payload up after retrying this long (0: default) */
	/* Backoff between retries: INITIAL, times 1.5 per retry up to MAX, each +-50% jitter
	 * (0: the OpenTelemetry Collector's defaults, 5 s and 30 s). Retry-After, when the
	 * receiver sends one, replaces the backoff of that retry. */
	uint32_t initial_backoff_ms;
	uint32_t max_backoff_ms;
	const char *ca_file; /* extra CA bundle (PEM), NULL: the system's */
	/* The system's CA directory (hashed names), trusted beside CA_FILE; NULL: /etc/ssl/certs.
	 * Tests point it elsewhere. */
	const char *ca_dir;
	const char *client_cert; /* mTLS, PEM; NULL: none */
	const char *client_key;
	/* Reads a 2xx answer's body (OTLP partial success): sets *REJECTED items and a message.
	 * NULL: every item of a 2xx payload counts as sent. */
	void (*parse_response)(const void *body, size_t len, uint64_t *rejected, char *msg,
			       size_t msglen);
};

/* Defaults for the zero fields of struct am_sender_config. */
#define AM_SENDER_DEFAULT_TIMEOUT_MS	     10000u
#define AM_SENDER_DEFAULT_QUEUE_BYTES	     (16u << 20)
#define AM_SENDER_DEFAULT_MAX_ELAPSED_MS     300000u
#define AM_SENDER_DEFAULT_INITIAL_BACKOFF_MS 5000u
#define AM_SENDER_DEFAULT_MAX_BACKOFF_MS     30000u

struct am_sender_stats {
	uint64_t requests; /* HTTP requests made, retries included */
	uint64_t sent_payloads, sent_items;
	uint64_t retries;	 /* requests that were a retry */
	uint64_t rejected_items; /* partial success: the receiver took the payload, not these */
	uint64_t dropped_items[AM_SENDER_DROP_NREASONS];
	uint64_t dropped_payloads[AM_SENDER_DROP_NREASONS];
	uint64_t queued_items, queue_bytes, queue_max_bytes;
	uint64_t last_success_unix_ns; /* 0: never */
	double request_seconds_sum;    /* request latency, for a summary */
	uint64_t request_seconds_count;
};

struct am_sender;

/* Initialise libcurl for the process; call once before any thread starts (am_sender_new calls
 * it too, for programs that have a single thread). Returns 0 or -EIO. */
int am_sender_global_init(void);
/* Check C (URL scheme, CA and certificate files readable) and start the sender thread.
 * Returns 0, or -errno with the reason in ERR naming the setting at fault. */
int am_sender_new(const struct am_sender_config *c, struct am_sender **out, char *err,
		  size_t errlen);
/* Queue a payload of NITEMS items; takes BUF (malloc'd) in every case. Never blocks on the
 * network. */
void am_sender_submit(struct am_sender *s, void *buf, size_t len, uint64_t nitems);
/* Deliver what is queued, waiting at most DEADLINE_MS, then stop the thread; what is left is
 * counted as AM_SENDER_DROP_SHUTDOWN and logged. Returns the items left undelivered. */
uint64_t am_sender_flush_stop(struct am_sender *s, uint32_t deadline_ms);
/* Start what am_sender_flush_stop does without waiting, so several senders flush at once
 * within one deadline; a later am_sender_flush_stop waits for it (the earlier deadline wins). */
void am_sender_stop_begin(struct am_sender *s, uint32_t deadline_ms);
void am_sender_free(struct am_sender *s);
/* The name the sender was given (its self-metrics' exporter label). */
const char *am_sender_name(const struct am_sender *s);
void am_sender_get_stats(struct am_sender *s, struct am_sender_stats *out);
/* The self-metrics of one sender (antimetal_export_*{exporter="NAME"}) appended to OUT. */
void am_sender_metrics(struct am_sender *s, struct am_metric_set *out);

#endif
