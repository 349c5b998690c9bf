/* Where the cgroup hierarchies are: v1 controller mounts, the v2 mount, or both (hybrid), from
 * mountinfo; and a process's place in them, from /proc/PID/cgroup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"

/* The end of LINE (its newline or terminator), NEXT being am_next_line(LINE). */
static const char *line_end(const char *line, const char *next)
{
	const char *end = next ? next - 1 : line + strlen(line);

	if (end > line && end[-1] == '\n')
		end--;
	return end;
}

/* The v1 controllers a kernel can have; other super options (rw, xattr, ...) are not. */
static const char *const v1_controllers[] = {
    "cpu",	"cpuacct", "cpuset",	 "memory",  "devices", "freezer", "net_cls",
    "net_prio", "blkio",   "perf_event", "hugetlb", "pids",    "rdma",	  "misc",
};

static int is_controller(const char *tok, size_t len)
{
	size_t i;

	if (len > 5 && !strncmp(tok, "name=", 5))
		return 1;
	for (i = 0; i < sizeof(v1_controllers) / sizeof(v1_controllers[0]); i++)
		if (strlen(v1_controllers[i]) == len && !strncmp(tok, v1_controllers[i], len))
			return 1;
	return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static int unescape_field(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, w = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < len + 1 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (w + 1 >= outlen)
			return -EINVAL;
		out[w++] = c;
	}
	out[w] = '\0';
	return 0;
}

/* The controllers among comma-separated super OPTS, comma-joined into OUT. */
static void controllers_of(const char *opts, size_t len, char *out, size_t outlen)
{
	const char *p = opts, *end = opts + len;
	size_t w = 0;

	out[0] = '\0';
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = (size_t)((comma ? comma : end) - p);

		if (is_controller(p, n) && w + n + 2 < outlen) {
			if (w)
				out[w++] = ',';
			memcpy(out + w, p, n);
			w += n;
			out[w] = '\0';
		}
		p += n + 1;
	}
}

/* One mountinfo line "id parent maj:min root mountpoint opts [optional...] - fstype source
 * superopts". */
static int take_line(const char *line, size_t len, struct am_cgroup_layout *out)
{
	const char *end = line + len, *sep, *p = line, *mnt = NULL, *fs, *so;
	size_t mntlen = 0;
	int field;
	char mountpoint[256];

	sep = NULL;
	for (p = line; p + 3 <= end; p++)
		if (!strncmp(p, " - ", 3)) {
			sep = p;
			break;
		}
	if (!sep)
		return -EINVAL;
	fs = sep + 3;
	if (!((end - fs > 7 && !strncmp(fs, "cgroup ", 7)) ||
	      (end - fs > 8 && !strncmp(fs, "cgroup2 ", 8))))
		return 0;
	p = line;
	for (field = 0; field < 5 && p < sep; field++) {
		const char *sp = memchr(p, ' ', (size_t)(sep - p));

		if (!sp)
			return -EINVAL;
		if (field == 4) {
			mnt = p;
			mntlen = (size_t)(sp - p);
		}
		p = sp + 1;
	}
	if (!mnt || unescape_field(mnt, mntlen, mountpoint, sizeof(mountpoint)))
		return -EINVAL;
	if (fs[6] == '2') {
		if (!out->v2_mount[0])
			snprintf(out->v2_mount, sizeof(out->v2_mount), "%s", mountpoint);
		return 0;
	}
	so = memchr(fs + 7, ' ', (size_t)(end - fs - 7)); /* after the source */
	if (!so || out->nv1 >= AM_CGROUP_V1_MAX)
		return so ? 0 : -EINVAL;
	so++;
	controllers_of(so, (size_t)(end - so), out->v1[out->nv1].controllers,
		       sizeof(out->v1[0].controllers));
	if (!out->v1[out->nv1].controllers[0])
		return 0;
	snprintf(out->v1[out->nv1].mount, sizeof(out->v1[0].mount), "%s", mountpoint);
	out->nv1++;
	return 0;
}

int am_parse_cgroup_layout(const char *text, struct am_cgroup_layout *out, const char **why)
{
	const char *line, *next;
	int has_v1 = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (line = text; line && *line; line = next) {
		next = am_next_line(line);
		if (take_line(line, (size_t)(line_end(line, next) - line), out)) {
			if (why)
				*why = "garbled cgroup line (expected '... MOUNTPOINT ... - cgroup "
				       "SRC OPTS')";
			return -EINVAL;
		}
	}
	for (i = 0; i < out->nv1; i++)
		if (strncmp(out->v1[i].controllers, "name=", 5))
			has_v1 = 1;
	if (has_v1)
		out->mode = out->v2_mount[0] ? AM_CGROUP_HYBRID : AM_CGROUP_V1;
	else if (out->v2_mount[0])
		out->mode = AM_CGROUP_V2;
	return 0;
}

/* Whether comma-separated LIST holds NAME. */
static int list_has(const char *list, size_t len, const char *name)
{
	const char *p = list, *end = list + len;
	size_t n = strlen(name);

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t m = (size_t)((comma ? comma : end) - p);

		if (m == n && !strncmp(p, name, n))
			return 1;
		p += m + 1;
	}
	return 0;
}

const char *am_cgroup_layout_v1(const struct am_cgroup_layout *l, const char *controller)
{
	size_t i;

	for (i = 0; i < l->nv1; i++)
		if (list_has(l->v1[i].controllers, strlen(l->v1[i].controllers), controller))
			return l->v1[i].mount;
	return NULL;
}

int am_parse_proc_cgroup(const char *text, const char *controller, char *out, size_t outlen)
{
	const char *line, *next, *c1, *c2, *end;

	for (line = text; line && *line; line = next) {
		next = am_next_line(line);
		end = line_end(line, next);
		if (end == line)
			continue;
		c1 = memchr(line, ':', (size_t)(end - line));
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (!c2)
			return -EINVAL;
		if (controller ? !list_has(c1 + 1, (size_t)(c2 - c1 - 1), controller)
			       : (c2 != c1 + 1 || strncmp(line, "0:", 2)))
			continue;
		if ((size_t)(end - c2 - 1) >= outlen || c2[1] != '/')
			return -EINVAL;
		memcpy(out, c2 + 1, (size_t)(end - c2 - 1));
		out[end - c2 - 1] = '\0';
		return 0;
	}
	return -ENOENT;
}
