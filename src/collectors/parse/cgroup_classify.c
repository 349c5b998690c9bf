/* What a cgroup path is: a container (docker, containerd, cri-o, podman: util/container_id),
 * a kubelet pod or QoS level (cgroupfs "kubepods/burstable/pod<uid>" and systemd
 * "kubepods-burstable-pod<uid_with_underscores>.slice" layouts), or a systemd unit. */
#include <stdio.h>
#include <string.h>

#include "collectors/parse/parsers.h"
#include "util/container_id.h"

static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

static int starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

/* A pod UID as the kubelet writes it into a path: 36 characters, dashes or (systemd)
 * underscores at 8, 13, 18 and 23. Copied with dashes into OUT (37 bytes). */
static int take_pod_uid(const char *s, size_t len, char *out)
{
	size_t i;

	if (len != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-' && c != '_')
				return 0;
			c = '-';
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return 0;
		}
		out[i] = c;
	}
	out[36] = '\0';
	return 1;
}

static const char *qos_of(const char *c, size_t len)
{
	if (strstr(c, "burstable") && (size_t)(strstr(c, "burstable") - c) < len)
		return "burstable";
	if (strstr(c, "besteffort") && (size_t)(strstr(c, "besteffort") - c) < len)
		return "besteffort";
	return NULL;
}

/* One component under kubepods: a QoS level or a pod. Returns the kind it names, or OTHER. */
static enum am_cgroup_kind kube_component(const char *c, size_t len, struct am_cgroup_class *out)
{
	const char *pod;
	size_t plen;

	if (ends_with(c, len, ".slice"))
		len -= 6;
	pod = NULL;
	if (starts_with(c, len, "pod")) {
		pod = c + 3;
	} else if (starts_with(c, len, "kubepods-")) {
		const char *p = c;

		while ((p = memchr(p, '-', (size_t)(c + len - p))) &&
		       !starts_with(p, (size_t)(c + len - p), "-pod"))
			p++;
		if (p)
			pod = p + 4;
	}
	if (!out->qos)
		out->qos = qos_of(c, len);
	if (pod) {
		plen = (size_t)(c + len - pod);
		if (take_pod_uid(pod, plen, out->pod_uid)) {
			if (!out->qos)
				out->qos = "guaranteed";
			return AM_CGROUP_POD;
		}
	}
	if (starts_with(c, len, "kubepods") || (len == 9 && !memcmp(c, "burstable", 9)) ||
	    (len == 10 && !memcmp(c, "besteffort", 10)))
		return AM_CGROUP_QOS;
	return AM_CGROUP_OTHER;
}

static int is_unit(const char *c, size_t len)
{
	return ends_with(c, len, ".service") || ends_with(c, len, ".scope") ||
	       ends_with(c, len, ".slice") || ends_with(c, len, ".socket") ||
	       ends_with(c, len, ".mount");
}

void am_cgroup_classify(const char *path, struct am_cgroup_class *out)
{
	struct am_container_ref ref;
	const char *c = path, *next;
	enum am_cgroup_kind last = AM_CGROUP_OTHER;
	int in_kube = 0;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	for (; *c; c = next) {
		while (*c == '/')
			c++;
		if (!*c)
			break;
		next = strchr(c, '/');
		len = next ? (size_t)(next - c) : strlen(c);
		if (!next)
			next = c + len;
		if (starts_with(c, len, "kubepods"))
			in_kube = 1;
		last = in_kube ? kube_component(c, len, out) : AM_CGROUP_OTHER;
		if (last == AM_CGROUP_OTHER && is_unit(c, len))
			last = AM_CGROUP_UNIT;
		if (last == AM_CGROUP_UNIT)
			snprintf(out->unit, sizeof(out->unit), "%.*s", (int)len, c);
	}
	if (am_container_id_from_cgroup(path, &ref)) {
		out->kind = AM_CGROUP_CONTAINER;
		out->runtime = ref.runtime;
		memcpy(out->container_id, ref.id, sizeof(out->container_id));
		return;
	}
	out->kind = last;
	if (last != AM_CGROUP_UNIT)
		out->unit[0] = '\0';
	if (last != AM_CGROUP_POD && last != AM_CGROUP_QOS) {
		out->pod_uid[0] = '\0';
		out->qos = NULL;
	}
}
