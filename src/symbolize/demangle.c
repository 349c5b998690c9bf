#include "symbolize/demangle.h"

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

/* perf's default display (perf report, perf script; perf -v adds DMGL_PARAMS | DMGL_ANSI):
 * no parameter lists or cv-qualifiers, so overloads share a frame as they do in perf. The Rust
 * legacy hash is dropped without DMGL_VERBOSE. */
#define OPTIONS DMGL_NO_OPTS

/* The demangled text, gathered from libiberty's callbacks. */
struct out {
	char *buf;
	size_t len, cap;
	bool over; /* past the limit (or out of memory): leave at the next call */
	jmp_buf abort;
};

static int append(struct out *o, const char *s, size_t n)
{
	size_t cap;
	char *nb;

	if (n > AM_DEMANGLE_MAX_OUT - o->len)
		return -E2BIG;
	if (o->len + n + 1 > o->cap) {
		for (cap = o->cap ? o->cap : 256; cap < o->len + n + 1; cap *= 2)
			;
		nb = realloc(o->buf, cap);
		if (!nb)
			return -ENOMEM;
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 0;
}

static bool has_non_ascii(const char *s, size_t n)
{
	while (n--)
		if ((unsigned char)*s++ >= 0x80)
			return true;
	return false;
}

/* libiberty's callback cannot report an error, and a name that expands without end keeps it
 * printing: leave the demangler by longjmp. Its callback entry points keep their state on the
 * stack, except the Rust one while it prints a decoded punycode identifier: that text is in a
 * malloc'd buffer freed after this call returns. It is the only text with non-ASCII bytes
 * (the rest is the ASCII-only symbol, literals and numbers), so then leave at the next call;
 * run() checks OVER in case there is none. */
static void put(const char *s, size_t n, void *opaque)
{
	struct out *o = opaque;

	if (!o->over && !append(o, s, n))
		return;
	if (!o->over && has_non_ascii(s, n)) {
		o->over = true;
		return;
	}
	longjmp(o->abort, 1);
}

/* cplus_demangle()'s automatic style through the callback entry points, in its order: legacy
 * Rust symbols are valid C++ manglings too, so Rust is tried first. setjmp lives here, apart
 * from O, so the state the callback changed is not a local of the function that returns
 * twice. */
static bool run(const char *name, struct out *o)
{
	if (setjmp(o->abort))
		return false;
	if (rust_demangle_callback(name, OPTIONS, put, o))
		return !o->over;
	if (o->over)
		return false;
	o->len = 0; /* a failed attempt may have printed part of a name */
	return cplus_demangle_v3_callback(name, OPTIONS, put, o) && !o->over;
}

char *am_demangle(const char *name)
{
	struct out o = {0};

	if (!name || strnlen(name, AM_DEMANGLE_MAX_IN + 1) > AM_DEMANGLE_MAX_IN)
		return NULL;
	if (!run(name, &o) || !o.len) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
