#include "export/sender_retry.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <string.h>

/* delay-seconds is 1*DIGIT; surrounding blanks are tolerated, a sign or a fraction is not. */
static int parse_seconds(const char *s, uint64_t *sec)
{
	uint64_t v = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (v < UINT64_MAX / 100)
			v = v * 10 + (uint64_t)(*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return -EINVAL;
	*sec = v;
	return 0;
}

int am_retry_after_parse(const char *value, time_t now, uint32_t *ms)
{
	uint64_t sec;
	time_t when;

	if (!value)
		return -EINVAL;
	if (isdigit((unsigned char)value[strspn(value, " \t")])) {
		if (parse_seconds(value, &sec))
			return -EINVAL;
	} else {
		/* libcurl's date parser reads the three forms RFC 9110 allows. */
		when = curl_getdate(value, NULL);
		if (when == (time_t)-1)
			return -EINVAL;
		sec = when > now ? (uint64_t)(when - now) : 0;
	}
	*ms = sec >= AM_RETRY_AFTER_MAX_MS / 1000 ? AM_RETRY_AFTER_MAX_MS : (uint32_t)sec * 1000u;
	return 0;
}

uint32_t am_backoff_ms(uint32_t initial_ms, uint32_t max_ms, unsigned attempt, uint32_t rnd)
{
	double base = initial_ms, jittered;
	unsigned i;

	for (i = 0; i < attempt && base < max_ms; i++)
		base *= 1.5;
	if (base > max_ms)
		base = max_ms;
	/* Spread retries of many agents that failed together (the OpenTelemetry Collector's
	 * randomization factor 0.5). */
	jittered = base * (0.5 + (double)rnd / 4294967296.0);
	return jittered > max_ms ? max_ms : (uint32_t)jittered;
}
