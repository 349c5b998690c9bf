/* HTTP basic authentication against bcrypt hashes (node_exporter's basic_auth_users), checked
 * with libcrypt. A bcrypt check costs tens of milliseconds on the agent's one loop, so results
 * are cached (a scraper pays once per configuration; only successes, so guesses cannot evict it)
 * and the time spent on uncached checks is budgeted: a flood of wrong passwords gets 503s, not the
 * loop. */
#ifndef ANTIMETAL_EXPORT_BASIC_AUTH_H
#define ANTIMETAL_EXPORT_BASIC_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AM_BASIC_AUTH_CACHE 32
/* Loop time uncached checks may take per second. */
#define AM_BASIC_AUTH_BUDGET_NS (200ull * 1000 * 1000)

struct am_basic_auth_user {
	char *name;
	char *hash; /* crypt(3) string: $2y$, $2b$, $2a$ (bcrypt) */
};

struct am_basic_auth {
	struct am_basic_auth_user *users;
	size_t n;
	/* SHA-256 of user, password and hash of recent successes; all zero: free */
	unsigned char cache[AM_BASIC_AUTH_CACHE][32];
	unsigned next; /* cache slot replaced next */
	uint64_t window_ns, spent_ns;
	uint64_t denied, throttled; /* requests refused: wrong credentials, over budget */
};

enum am_auth_result { AM_AUTH_OK, AM_AUTH_DENIED, AM_AUTH_BUSY };

/* Whether HASH is a bcrypt hash libcrypt can check. */
bool am_basic_auth_hash_ok(const char *hash);
/* Add USER with bcrypt HASH (both copied). Returns 0 or -ENOMEM / -EINVAL (bad hash). */
int am_basic_auth_add(struct am_basic_auth *a, const char *user, const char *hash);
/* Check USER and PASS (either may be NULL: no credentials). */
enum am_auth_result am_basic_auth_check(struct am_basic_auth *a, const char *user,
					const char *pass);
/* Free A's users; A can be filled again. */
void am_basic_auth_free(struct am_basic_auth *a);

#endif
