#include "core/kversion.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

/* Kernel version components are small; the bound rejects absurd input instead of wrapping. */
#define KVER_MAX_COMPONENT 1000000u

static int parse_num(const char **p, unsigned int *out)
{
	const char *s = *p;
	unsigned long v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > KVER_MAX_COMPONENT)
			return -EINVAL;
		s++;
	}
	*out = (unsigned int)v;
	*p = s;
	return 0;
}

int am_kver_parse(const char *release, struct am_kver *v)
{
	const char *p = release;

	memset(v, 0, sizeof(*v));
	if (!p || parse_num(&p, &v->major) || *p++ != '.' || parse_num(&p, &v->minor))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (parse_num(&p, &v->patch))
			return -EINVAL;
	}
	if (*p && !strchr("-+_~", *p))
		return -EINVAL;
	snprintf(v->extra, sizeof(v->extra), "%s", p);
	if (!strncmp(p, "-rc", 3) && isdigit((unsigned char)p[3])) {
		const char *q = p + 3;

		if (parse_num(&q, &v->rc) || (*q && !strchr("-+_~.", *q)))
			v->rc = 0;
	}
	return 0;
}

int am_kver_host(struct am_kver *v)
{
	struct utsname u;

	if (uname(&u))
		return -errno;
	return am_kver_parse(u.release, v);
}

static int cmp_u(unsigned int a, unsigned int b)
{
	return (a > b) - (a < b);
}

int am_kver_cmp(const struct am_kver *a, const struct am_kver *b)
{
	int c;

	if ((c = cmp_u(a->major, b->major)) || (c = cmp_u(a->minor, b->minor)) ||
	    (c = cmp_u(a->patch, b->patch)))
		return c;
	if (a->rc && b->rc)
		return cmp_u(a->rc, b->rc);
	/* 5.4.0-rc1 comes before 5.4.0 */
	return (a->rc ? -1 : 0) + (b->rc ? 1 : 0);
}

bool am_kver_at_least(const struct am_kver *v, unsigned int major, unsigned int minor,
		      unsigned int patch)
{
	struct am_kver w = {.major = major, .minor = minor, .patch = patch};
	struct am_kver x = *v;

	x.rc = 0;
	return am_kver_cmp(&x, &w) >= 0;
}

uint32_t am_kver_code(const struct am_kver *v)
{
	unsigned int patch = v->patch > 255 ? 255 : v->patch;

	return ((uint32_t)v->major << 16) + ((uint32_t)v->minor << 8) + patch;
}
