/* What the sender's files share: the sender itself, its queue entries, and one HTTP attempt.
 * sender.c owns the queue and the thread, sender_http.c the libcurl handle, sender_metrics.c
 * the self-metrics. Not for users of the sender: they have sender.h. */
#ifndef ANTIMETAL_EXPORT_SENDER_INTERNAL_H
#define ANTIMETAL_EXPORT_SENDER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "export/sender.h"
#include "util/clock.h"

/* Bytes of a receiver's answer kept: enough for any OTLP partial success and an error text;
 * a longer answer is cut off there (the transfer aborted), never read whole. */
#define AM_SENDER_RESPONSE_MAX (64u << 10)
/* Bytes of a refusal's body quoted in the log. */
#define AM_SENDER_QUOTE_MAX 256
/* One delivery problem logged per sender per this many nanoseconds; the rest are counted. */
#define AM_SENDER_LOG_INTERVAL_NS (10ull * 1000000000ull)

struct am_sender_item {
	struct am_sender_item *next;
	void *buf;
	size_t len;
	uint64_t nitems;
};

enum am_attempt_result {
	AM_ATTEMPT_OK,	      /* 2xx: the receiver took it (maybe rejecting some items) */
	AM_ATTEMPT_RETRY,     /* connection error, timeout, 429, 502, 503, 504 */
	AM_ATTEMPT_PERMANENT, /* any other answer: retrying cannot help */
	AM_ATTEMPT_ABORTED,   /* the stop deadline passed mid-request */
};

struct am_attempt {
	enum am_attempt_result result;
	long status; /* HTTP status, 0 when none came */
	bool has_retry_after;
	uint32_t retry_after_ms;
	uint64_t rejected;			/* partial success, from parse_response */
	double seconds;				/* the request's duration */
	char detail[AM_SENDER_QUOTE_MAX + 128]; /* why it failed, or the partial-success text */
};

struct am_sender_http {
	void *curl; /* CURL * */
	struct curl_slist *headers;
	char *body; /* the answer, at most AM_SENDER_RESPONSE_MAX bytes */
	size_t body_len;
	bool body_cut;
	char errbuf[256];
};

struct am_sender {
	struct am_sender_config cfg; /* strings point into OWNED */
	char **owned;
	size_t nowned;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC; queue changes, evictions, stop */
	struct am_sender_item *head, *tail;
	/* The payload the thread is delivering (the head), or NULL after it was evicted while
	 * waiting to retry; BUSY while it is on the wire, when it cannot be evicted. */
	struct am_sender_item *current;
	bool busy;
	bool sync_ok, stopping, thread_started, joined;
	uint64_t stop_deadline_ns; /* CLOCK_MONOTONIC, valid once STOPPING */
	/* The same deadline for the transfer callback, read without the lock (0: none). */
	uint64_t abort_at_ns;
	struct am_sender_stats st;
	uint64_t log_last_ns, log_suppressed;
	/* The backoff outlives a payload evicted or given up while waiting: the next one waits
	 * out the rest of it, so a full queue does not turn into a burst of attempts. */
	uint64_t resume_ns;
	unsigned failures; /* consecutive failed attempts, the backoff's exponent */
	pthread_t thread;

	/* The thread's own. */
	struct am_sender_http http;
	uint32_t rnd;
};

static inline uint64_t am_sender_now_ns(void)
{
	return am_clock_ns(CLOCK_MONOTONIC);
}

/* Count IT dropped for WHY and free it (already unlinked). Lock held. */
void am_sender_drop_item(struct am_sender *s, struct am_sender_item *it, enum am_sender_drop why);
/* Unlink the head of the queue (there is one) and return it. Lock held. */
struct am_sender_item *am_sender_pop_head(struct am_sender *s);
/* The sender thread's body. */
void *am_sender_thread_main(void *arg);

/* Make S's libcurl handle with everything that is the same for every request. Returns 0 or
 * -errno with the setting at fault in ERR. */
int am_sender_http_init(struct am_sender *s, char *err, size_t errlen);
void am_sender_http_free(struct am_sender *s);
/* POST IT once within TIMEOUT_MS and classify the outcome into *A. Called without the lock. */
void am_sender_http_attempt(struct am_sender *s, const struct am_sender_item *it,
			    uint32_t timeout_ms, struct am_attempt *a);
/* Log one delivery problem of S unless one was logged less than 10 s ago (then count it).
 * Called with S's lock held. */
void am_sender_log_limited(struct am_sender *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
