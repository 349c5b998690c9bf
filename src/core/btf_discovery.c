#include "core/btf_discovery.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "core/btf_search.h"
#include "core/root_path.h"
#include "util/file.h"
#include "util/log.h"

const char *am_btf_source_name(enum am_btf_source src)
{
	switch (src) {
	case AM_BTF_EXPLICIT:
		return "--btf";
	case AM_BTF_ENV:
		return "ANTIMETAL_BTF_PATH";
	case AM_BTF_NATIVE:
		return "native";
	case AM_BTF_ARCHIVE:
		return "btfhub archive";
	case AM_BTF_BOOT:
		return "/boot";
	case AM_BTF_MODULES:
		return "/lib/modules";
	case AM_BTF_DEBUG:
		return "debug symbols";
	case AM_BTF_NONE:
		break;
	}
	return "none";
}

const char *am_btf_hub_arch(const char *machine)
{
	if (!strcmp(machine, "aarch64"))
		return "arm64";
	return machine;
}

static void unquote(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		memmove(v, v + 1, n - 2);
		v[n - 2] = '\0';
	}
}

int am_os_release_read(const char *root, char *id, size_t idlen, char *ver, size_t verlen)
{
	char path[PATH_MAX], line[512];
	FILE *f;
	int err = am_root_path(path, sizeof(path), root, "/etc/os-release");

	id[0] = ver[0] = '\0';
	if (err)
		return err;
	f = am_file_fopen_regular(path);
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq++ = '\0';
		eq[strcspn(eq, "\r\n")] = '\0';
		unquote(eq);
		if (!strcmp(line, "ID"))
			snprintf(id, idlen, "%s", eq);
		else if (!strcmp(line, "VERSION_ID"))
			snprintf(ver, verlen, "%s", eq);
	}
	fclose(f);
	return 0;
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* What btf__parse's error means for a file that exists: libbpf's own codes (4000 and up) have
 * no strerror text, and ENOENT there means an ELF file without a .BTF section. */
static const char *parse_error(int err, char *buf, size_t len)
{
	char msg[96];

	if (err == -ENOENT)
		return "an ELF file without a .BTF section";
	if (err == -EIO || err == -ENODATA)
		return "empty or truncated";
	if (-err < LIBBPF_ERRNO__LIBELF || -err >= __LIBBPF_ERRNO__END) {
		snprintf(buf, len, "corrupt or truncated (%s)", strerror(-err));
		return buf;
	}
	libbpf_strerror(err, msg, sizeof(msg));
	snprintf(buf, len, "neither raw BTF nor an ELF file with BTF (libbpf: %s)", msg);
	return buf;
}

/* Parse the candidate so a corrupt file is reported here, naming it, rather than as an
 * obscure relocation failure later. */
static int parse_found(enum am_btf_source src, const char *path, struct am_btf_found *out)
{
	char why[192];
	struct btf *btf;
	int err;

	btf = btf__parse(path, NULL);
	if (!btf) {
		err = errno ? -errno : -EINVAL;
		am_err("BTF file %s (%s) is not valid BTF: %s", path, am_btf_source_name(src),
		       parse_error(err, why, sizeof(why)));
		return -EINVAL;
	}
	out->nr_types = btf__type_cnt(btf);
	btf__free(btf);
	out->source = src;
	snprintf(out->path, sizeof(out->path), "%s", path);
	return 0;
}

/* A path the user named must exist: a typo must not silently fall back to another BTF. */
static int user_path(enum am_btf_source src, const char *path, struct am_btf_found *out)
{
	struct stat st;

	if (stat(path, &st)) {
		int err = -errno;

		am_err("BTF file %s (%s): %s", path, am_btf_source_name(src), strerror(-err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		am_err("BTF file %s (%s): not a regular file", path, am_btf_source_name(src));
		return -EINVAL;
	}
	return parse_found(src, path, out);
}

struct candidate {
	enum am_btf_source src;
	char path[PATH_MAX];
};

static int archive_candidate(const struct am_btf_search *s, const char *release, const char *arch,
			     struct candidate *c)
{
	char dir[PATH_MAX], id[128], ver[128];
	const char *d = s->archive_dir;
	int err;

	if (s->os_id && s->os_version) {
		snprintf(id, sizeof(id), "%s", s->os_id);
		snprintf(ver, sizeof(ver), "%s", s->os_version);
	} else {
		err = am_os_release_read(s->root, id, sizeof(id), ver, sizeof(ver));
		if (err || !*id || !*ver) {
			am_debug("btfhub archive skipped: no ID and VERSION_ID in os-release");
			return -ENOENT;
		}
	}
	if (!d) {
		const char *env = getenv("ANTIMETAL_BTF_ARCHIVE");

		if (env && *env)
			d = env;
		else if (am_root_path(dir, sizeof(dir), s->root, AM_BTF_ARCHIVE_DEFAULT) == 0)
			d = dir;
		else
			return -ENAMETOOLONG;
	}
	c->src = AM_BTF_ARCHIVE;
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s/%s/%s/%s/%s.btf", d, id, ver,
			     am_btf_hub_arch(arch), release) >= sizeof(c->path))
		return -ENAMETOOLONG;
	return 0;
}

int am_btf_find(const struct am_btf_search *s, struct am_btf_found *out)
{
	struct candidate c[5];
	struct utsname u;
	const char *release = s->release, *arch = s->arch;
	char buf[PATH_MAX];
	int n = 0, i;

	memset(out, 0, sizeof(*out));
	if (s->explicit_path && *s->explicit_path)
		return user_path(AM_BTF_EXPLICIT, s->explicit_path, out);
	if (s->env_path && *s->env_path)
		return user_path(AM_BTF_ENV, s->env_path, out);

	if ((!release || !arch) && uname(&u) == 0) {
		if (!release)
			release = u.release;
		if (!arch)
			arch = u.machine;
	}
	if (!release || !arch)
		return -errno;

	if (am_root_path(c[n].path, sizeof(c[n].path), s->root, "/sys/kernel/btf/vmlinux") == 0)
		c[n++].src = AM_BTF_NATIVE;
	if (archive_candidate(s, release, arch, &c[n]) == 0)
		n++;
	snprintf(buf, sizeof(buf), "/boot/vmlinux-%s", release);
	if (am_root_path(c[n].path, sizeof(c[n].path), s->root, buf) == 0)
		c[n++].src = AM_BTF_BOOT;
	snprintf(buf, sizeof(buf), "/lib/modules/%s/vmlinux-%s", release, release);
	if (am_root_path(c[n].path, sizeof(c[n].path), s->root, buf) == 0)
		c[n++].src = AM_BTF_MODULES;
	snprintf(buf, sizeof(buf), "/usr/lib/debug/boot/vmlinux-%s", release);
	if (am_root_path(c[n].path, sizeof(c[n].path), s->root, buf) == 0)
		c[n++].src = AM_BTF_DEBUG;

	for (i = 0; i < n; i++) {
		if (is_file(c[i].path))
			return parse_found(c[i].src, c[i].path, out);
	}
	am_err("no BTF for kernel %s: none of these exist:", release);
	for (i = 0; i < n; i++)
		am_err("  %s (%s)", c[i].path, am_btf_source_name(c[i].src));
	return -ENOENT;
}

int am_btf_resolve(const char *explicit_path, char *out, size_t outlen)
{
	struct am_btf_search s = {
	    .explicit_path = explicit_path,
	    .env_path = getenv("ANTIMETAL_BTF_PATH"),
	};
	struct am_btf_found f;
	int err = am_btf_find(&s, &f);

	if (err)
		return err;
	if (f.source == AM_BTF_NATIVE) {
		if (outlen)
			out[0] = '\0';
		return 0;
	}
	if ((size_t)snprintf(out, outlen, "%s", f.path) >= outlen) {
		am_err("BTF path %s is too long", f.path);
		return -ENAMETOOLONG;
	}
	am_info("using external BTF %s (%s)", f.path, am_btf_source_name(f.source));
	return 0;
}
