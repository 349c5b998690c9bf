#include "agent/otel_resource.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent/otel_env.h"
#include "collectors/parse/parsers.h"
#include "util/file.h"

const char *am_otel_host_arch(const char *machine)
{
	static const struct {
		const char *uname, *semconv;
	} map[] = {
	    {"x86_64", "amd64"}, {"aarch64", "arm64"}, {"i386", "x86"},
	    {"i686", "x86"},	 {"ppc64", "ppc64"},   {"ppc64le", "ppc64"},
	    {"s390x", "s390x"},	 {"armv7l", "arm32"},  {"ppc", "ppc32"},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].uname, machine))
			return map[i].semconv;
	return machine;
}

/* ROOTFS/REL ("/" adds nothing). */
static void under(const struct am_config *c, const char *rel, char *out, size_t len)
{
	snprintf(out, len, "%s%s", strcmp(c->rootfs, "/") ? c->rootfs : "", rel);
}

/* The machine id, the first line of ROOTFS/etc/machine-id trimmed; "" where absent. */
static void machine_id(const struct am_config *c, char *out, size_t len)
{
	char path[AM_CONFIG_PATH_MAX + 32];
	size_t n;

	under(c, "/etc/machine-id", path, sizeof(path));
	if (am_file_first_line(path, out, len)) {
		out[0] = '\0';
		return;
	}
	n = strlen(out);
	while (n && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
}

/* PRETTY_NAME of ROOTFS's os-release (/etc, else /usr/lib), "" where neither parses. */
static void pretty_name(const struct am_config *c, char *out, size_t len)
{
	static const char *const rels[] = {"/etc/os-release", "/usr/lib/os-release"};
	char path[AM_CONFIG_PATH_MAX + 32];
	struct am_os_release rel;
	struct am_strbuf text = {0};
	const char *why;
	size_t i;

	out[0] = '\0';
	for (i = 0; i < 2 && !out[0]; i++) {
		under(c, rels[i], path, sizeof(path));
		if (!am_file_read(path, 64 << 10, &text) && text.data &&
		    !am_parse_os_release(text.data, &rel, &why))
			snprintf(out, len, "%s", rel.field[AM_OS_PRETTY_NAME]);
	}
	am_strbuf_free(&text);
}

static int set(struct am_resource *r, const char *k, const char *v, char *err, size_t errlen)
{
	int rc = am_resource_set(r, k, v);

	if (rc)
		snprintf(err, errlen, "resource attribute %s: %s", k,
			 rc == -ENOSPC ? "too many attributes" : strerror(-rc));
	return rc;
}

static int detected(const struct am_config *c, const char *version, struct am_resource *r,
		    char *err, size_t errlen)
{
	char id[256], pretty[256], desc[1024];
	struct utsname u;
	int rc;

	if (uname(&u)) {
		snprintf(err, errlen, "uname: %s", strerror(errno));
		return -errno;
	}
	machine_id(c, id, sizeof(id));
	pretty_name(c, pretty, sizeof(pretty));
	snprintf(desc, sizeof(desc), "%s%sLinux %s %s %s%s", pretty, pretty[0] ? " (" : "",
		 u.release, u.version, u.machine, pretty[0] ? ")" : "");
	rc = set(r, "host.name", c->hostname[0] ? c->hostname : u.nodename, err, errlen);
	if (!rc && id[0])
		rc = set(r, "host.id", id, err, errlen);
	if (!rc)
		rc = set(r, "host.arch", am_otel_host_arch(u.machine), err, errlen);
	if (!rc)
		rc = set(r, "os.type", "linux", err, errlen);
	if (!rc)
		rc = set(r, "os.description", desc, err, errlen);
	if (!rc)
		rc = set(r, "service.name", AM_OTEL_SERVICE_NAME, err, errlen);
	if (!rc)
		rc = set(r, "service.version", version, err, errlen);
	return rc;
}

int am_otel_resource_build(const struct am_config *c, const char *version, struct am_resource *r,
			   char *err, size_t errlen)
{
	struct am_otel_kvs kvs;
	char why[256];
	size_t i;
	int rc;

	rc = detected(c, version, r, err, errlen);
	if (rc)
		return rc;
	rc = am_otel_kv_parse(c->otlp.resource_attributes, &kvs, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "otlp.resource_attributes: %s", why);
		return rc;
	}
	for (i = 0; i < kvs.n && !rc; i++)
		rc = set(r, kvs.items[i].key, kvs.items[i].value, err, errlen);
	am_otel_kvs_free(&kvs);
	if (!rc && c->otlp.service_name[0])
		rc = set(r, "service.name", c->otlp.service_name, err, errlen);
	return rc;
}
