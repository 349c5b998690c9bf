/* os-release(5): shell-like KEY=value lines, as systemd documents them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"

const char *const am_os_release_labels[AM_OS_NFIELDS] = {
    "build_id",	   "id",      "id_like",    "image_id", "image_version",    "name",
    "pretty_name", "variant", "variant_id", "version",	"version_codename", "version_id",
};

static const char *const keys[AM_OS_NFIELDS] = {
    "BUILD_ID",	   "ID",      "ID_LIKE",    "IMAGE_ID", "IMAGE_VERSION",    "NAME",
    "PRETTY_NAME", "VARIANT", "VARIANT_ID", "VERSION",	"VERSION_CODENAME", "VERSION_ID",
};

/* Unquote VALUE (up to end of line) into OUT; returns 0 or -EINVAL (unterminated quote). */
static int unquote(const char *p, char *out, size_t outlen)
{
	char q = 0;
	size_t n = 0;

	if (*p == '"' || *p == '\'')
		q = *p++;
	for (; *p && *p != '\n'; p++) {
		if (q && *p == q) {
			q = 0;
			p++;
			break;
		}
		if (*p == '\\' && q == '"' && p[1] && p[1] != '\n')
			p++;
		if (n + 1 < outlen)
			out[n++] = *p;
	}
	out[n] = '\0';
	if (q)
		return -EINVAL;
	return am_at_eol(p) ? 0 : -EINVAL;
}

int am_parse_os_release(const char *text, struct am_os_release *out, const char **why)
{
	struct am_os_release r;
	const char *line;
	int i, lines = 0;

	memset(&r, 0, sizeof(r));
	for (line = text; line && *line; line = am_next_line(line)) {
		const char *p = am_skip_blank(line), *eq;

		if (am_at_eol(p) || *p == '#')
			continue;
		eq = p;
		while ((*eq >= 'A' && *eq <= 'Z') || (*eq >= '0' && *eq <= '9') || *eq == '_')
			eq++;
		if (eq == p || *eq != '=') {
			if (why)
				*why = "a line is not KEY=value";
			return -EINVAL;
		}
		lines++;
		for (i = 0; i < AM_OS_NFIELDS; i++) {
			if (strlen(keys[i]) != (size_t)(eq - p) || strncmp(p, keys[i], eq - p))
				continue;
			if (unquote(eq + 1, r.field[i], sizeof(r.field[i]))) {
				if (why)
					*why = "a value has an unterminated quote";
				return -EINVAL;
			}
		}
	}
	if (!lines) {
		if (why)
			*why = "empty";
		return -EINVAL;
	}
	*out = r;
	return 0;
}

double am_os_release_version(const struct am_os_release *r)
{
	const char *v = r->field[AM_OS_VERSION_ID];
	char *end;
	double x;

	if (*v < '0' || *v > '9')
		return -1;
	/* "22.04" -> 22.04, "12" -> 12, "3.18.4" -> 3.18 (major.minor only). */
	x = strtod(v, &end);
	if (*end == '.') {
		char buf[32];
		const char *dot = strchr(v, '.'), *dot2 = dot ? strchr(dot + 1, '.') : NULL;
		size_t n = dot2 ? (size_t)(dot2 - v) : strlen(v);

		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, v, n);
		buf[n] = '\0';
		x = strtod(buf, NULL);
	}
	return x;
}
