#include "export/basic_auth.h"

#include <crypt.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"

bool am_basic_auth_hash_ok(const char *hash)
{
	struct crypt_data cd;
	const char *r;

	if (strncmp(hash, "$2y$", 4) && strncmp(hash, "$2b$", 4) && strncmp(hash, "$2a$", 4))
		return false;
	/* Hashing the empty password with it proves the setting parses (cost, salt). */
	memset(&cd, 0, sizeof(cd));
	r = crypt_r("", hash, &cd);
	return r && r[0] != '*' && strlen(r) == strlen(hash);
}

int am_basic_auth_add(struct am_basic_auth *a, const char *user, const char *hash)
{
	struct am_basic_auth_user *u;

	if (!am_basic_auth_hash_ok(hash))
		return -EINVAL;
	u = realloc(a->users, (a->n + 1) * sizeof(*u));
	if (!u)
		return -ENOMEM;
	a->users = u;
	u[a->n].name = strdup(user);
	u[a->n].hash = strdup(hash);
	if (!u[a->n].name || !u[a->n].hash) {
		free(u[a->n].name);
		free(u[a->n].hash);
		return -ENOMEM;
	}
	a->n++;
	return 0;
}

/* Equal-length comparison that takes the same time wherever the first difference is. */
static bool same(const char *x, const char *y)
{
	size_t n = strlen(x), i;
	unsigned char d = 0;

	if (n != strlen(y))
		return false;
	for (i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

static void digest(const char *user, const char *pass, const char *hash, unsigned char out[32])
{
	gnutls_hash_hd_t h;

	memset(out, 0, 32);
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256))
		return;
	gnutls_hash(h, user, strlen(user) + 1);
	gnutls_hash(h, pass, strlen(pass) + 1);
	gnutls_hash(h, hash, strlen(hash) + 1);
	gnutls_hash_deinit(h, out);
}

static bool cached(struct am_basic_auth *a, const unsigned char d[32])
{
	static const unsigned char zero[32];
	size_t i;

	if (!memcmp(d, zero, 32))
		return false;
	for (i = 0; i < AM_BASIC_AUTH_CACHE; i++)
		if (!memcmp(a->cache[i], d, 32))
			return true;
	return false;
}

/* Whether another uncached check fits this second's budget. */
static bool within_budget(struct am_basic_auth *a, uint64_t now)
{
	if (now - a->window_ns >= 1000000000ull) {
		a->window_ns = now;
		a->spent_ns = 0;
	}
	return a->spent_ns < AM_BASIC_AUTH_BUDGET_NS;
}

enum am_auth_result am_basic_auth_check(struct am_basic_auth *a, const char *user, const char *pass)
{
	const struct am_basic_auth_user *u = NULL;
	struct crypt_data cd;
	unsigned char d[32];
	const char *r;
	uint64_t t0;
	size_t i;
	bool ok;

	if (!user || !pass || !a->n) {
		a->denied++;
		return AM_AUTH_DENIED;
	}
	for (i = 0; i < a->n && !u; i++)
		if (!strcmp(a->users[i].name, user))
			u = &a->users[i];
	/* An unknown user costs a bcrypt check too, so timing does not tell names apart. */
	digest(user, pass, u ? u->hash : "", d);
	if (cached(a, d))
		return AM_AUTH_OK;
	t0 = am_clock_ns(CLOCK_MONOTONIC);
	if (!within_budget(a, t0)) {
		a->throttled++;
		return AM_AUTH_BUSY;
	}
	memset(&cd, 0, sizeof(cd));
	r = crypt_r(pass, u ? u->hash : a->users[0].hash, &cd);
	ok = u && r && r[0] != '*' && same(r, u->hash);
	a->spent_ns += am_clock_ns(CLOCK_MONOTONIC) - t0;
	if (!ok) {
		a->denied++;
		return AM_AUTH_DENIED;
	}
	/* Only successes are kept: wrong guesses must not push a scraper's entry out. */
	memcpy(a->cache[a->next], d, 32);
	a->next = (a->next + 1) % AM_BASIC_AUTH_CACHE;
	return AM_AUTH_OK;
}

void am_basic_auth_free(struct am_basic_auth *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	free(a->users);
	memset(a, 0, sizeof(*a));
}
