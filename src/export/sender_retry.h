/* The sender's retry arithmetic, apart from HTTP so it can be tested alone: the receiver's
 * Retry-After and the exponential backoff with jitter. */
#ifndef ANTIMETAL_EXPORT_SENDER_RETRY_H
#define ANTIMETAL_EXPORT_SENDER_RETRY_H

#include <stdint.h>
#include <time.h>

/* A Retry-After longer than this is taken as this: a receiver's clock or typo must not park a
 * payload for days (max_elapsed_ms then decides whether it is still worth waiting). */
#define AM_RETRY_AFTER_MAX_MS (3600u * 1000u)

/* Parse a Retry-After VALUE (RFC 9110: delay-seconds, or an HTTP-date, read relative to NOW)
 * into *MS, capped at AM_RETRY_AFTER_MAX_MS; a date in the past is 0. Returns 0, or -EINVAL
 * for anything else (the caller then backs off as if no header came). */
int am_retry_after_parse(const char *value, time_t now, uint32_t *ms);

/* The wait before retry number ATTEMPT (0 for the first retry): INITIAL_MS * 1.5^ATTEMPT,
 * capped at MAX_MS, then scaled by a jitter factor in [0.5, 1.5) drawn from RND (any 32-bit
 * random value), and capped at MAX_MS again. */
uint32_t am_backoff_ms(uint32_t initial_ms, uint32_t max_ms, unsigned attempt, uint32_t rnd);

#endif
