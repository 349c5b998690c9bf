/* /proc/PID/mounts and node_exporter's default mount exclusions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"

/* Copy the next field of *P into OUT, decoding the kernel's \ooo escapes (space, tab, newline,
 * backslash in paths). Returns 0, or -EINVAL for a missing or overlong field. */
static int field(const char **pp, char *out, size_t len)
{
	const char *p = am_skip_blank(*pp);
	size_t n = 0;

	if (am_at_eol(p))
		return -EINVAL;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
		char c = *p++;

		if (c == '\\' && p[0] >= '0' && p[0] <= '3' && p[1] >= '0' && p[1] <= '7' &&
		    p[2] >= '0' && p[2] <= '7') {
			c = (char)((p[0] - '0') << 6 | (p[1] - '0') << 3 | (p[2] - '0'));
			p += 3;
		}
		if (n + 1 >= len)
			return -EINVAL;
		out[n++] = c;
	}
	out[n] = '\0';
	*pp = p;
	return 0;
}

static int has_option(const char *opts, const char *opt)
{
	size_t n = strlen(opt);

	while (*opts) {
		size_t len = strcspn(opts, ",");

		if (len == n && !strncmp(opts, opt, n))
			return 1;
		opts += len + (opts[len] == ',');
	}
	return 0;
}

int am_parse_mounts(const char *text, struct am_mount **out, size_t *n, const char **why)
{
	struct am_mount *v = NULL;
	size_t cnt = 0, cap = 0;
	const char *line;

	for (line = text; line && *line; line = am_next_line(line)) {
		const char *p = line, *q;
		char opts[1024];
		struct am_mount m;
		uint64_t dump, pass;

		if (am_at_eol(line))
			continue;
		if (field(&p, m.device, sizeof(m.device)) ||
		    field(&p, m.mountpoint, sizeof(m.mountpoint)) ||
		    field(&p, m.fstype, sizeof(m.fstype)) || field(&p, opts, sizeof(opts)) ||
		    (q = p, am_parse_u64(&q, &dump)) || am_parse_u64(&q, &pass) || !am_at_eol(q)) {
			free(v);
			if (why)
				*why =
				    "expected 'DEVICE MOUNTPOINT FSTYPE OPTIONS DUMP PASS' lines";
			return -EINVAL;
		}
		m.readonly = has_option(opts, "ro");
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct am_mount *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		v[cnt++] = m;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* ^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/) */
static int mountpoint_excluded(const char *mp)
{
	static const char *const whole[] = {"/dev", "/proc", "/run", "/sys", "/mnt", "/media"};
	static const char *const under[] = {"/var/lib/docker/", "/var/lib/containers/storage/"};
	size_t i, n;

	for (i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		n = strlen(whole[i]);
		if (!strncmp(mp, whole[i], n) && (mp[n] == '\0' || mp[n] == '/'))
			return 1;
	}
	for (i = 0; i < sizeof(under) / sizeof(under[0]); i++) {
		n = strlen(under[i]);
		if (!strncmp(mp, under[i], n) && mp[n])
			return 1;
	}
	return 0;
}

int am_mount_excluded(const struct am_mount *m)
{
	static const char *const types[] = {
	    "autofs",	  "binfmt_misc", "bpf",	      "cgroup",	  "cgroup2",   "configfs",
	    "debugfs",	  "devpts",	 "devtmpfs",  "fusectl",  "hugetlbfs", "iso9660",
	    "mqueue",	  "nsfs",	 "overlay",   "proc",	  "procfs",    "pstore",
	    "rpc_pipefs", "securityfs",	 "selinuxfs", "squashfs", "sysfs",     "tracefs",
	};
	size_t i;

	if (mountpoint_excluded(m->mountpoint))
		return 1;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(m->fstype, types[i]))
			return 1;
	return 0;
}
