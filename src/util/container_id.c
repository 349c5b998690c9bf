#include "util/container_id.h"

#include <stdbool.h>
#include <string.h>

/* systemd scope prefixes the runtimes use: "<prefix><id>.scope". */
static const struct {
	const char *prefix;
	const char *runtime;
} scope_prefixes[] = {
    {"docker-", "docker"}, {"cri-containerd-", "containerd"}, {"crio-", "cri-o"},
    {"libpod-", "podman"}, {"containerd-", "containerd"},
};

static bool is_id(const char *s, size_t len)
{
	size_t i;

	if (len != AM_CONTAINER_ID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

/* The runtime of a bare-id component (cgroupfs layout), named by the component above it. */
static const char *runtime_from_parent(const char *parent, size_t len)
{
	if (has_prefix(parent, len, "docker"))
		return "docker";
	if (has_prefix(parent, len, "libpod"))
		return "podman";
	if (has_prefix(parent, len, "crio"))
		return "cri-o";
	if (has_prefix(parent, len, "kubepods") || has_prefix(parent, len, "pod"))
		return "kubernetes";
	return NULL;
}

/* One path component: "docker-<id>.scope", "<id>", ... */
static const char *match_component(const char *c, size_t len, const char *parent, size_t plen)
{
	size_t i;

	if (len > 6 && !memcmp(c + len - 6, ".scope", 6)) {
		len -= 6;
		for (i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
			size_t n = strlen(scope_prefixes[i].prefix);

			/* "crio-conmon-<id>" and "libpod-conmon-<id>" are monitors, not the
			 * container: the id check rejects them since "conmon-<id>" is not 64 hex
			 * digits. */
			if (has_prefix(c, len, scope_prefixes[i].prefix) && is_id(c + n, len - n))
				return scope_prefixes[i].runtime;
		}
		return NULL;
	}
	if (is_id(c, len))
		return parent ? runtime_from_parent(parent, plen) : NULL;
	for (i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
		size_t n = strlen(scope_prefixes[i].prefix);

		/* podman's cgroupfs layout: /libpod_parent/libpod-<id> */
		if (has_prefix(c, len, scope_prefixes[i].prefix) && is_id(c + n, len - n))
			return scope_prefixes[i].runtime;
	}
	return NULL;
}

int am_container_id_from_cgroup(const char *path, struct am_container_ref *out)
{
	const char *end, *start, *pend, *pstart;
	const char *runtime;

	if (!path)
		return 0;
	end = path + strlen(path);
	/* Innermost first: systemd inside a container nests "init.scope" below the container. */
	while (end > path) {
		while (end > path && end[-1] == '/')
			end--;
		start = end;
		while (start > path && start[-1] != '/')
			start--;
		if (start == end)
			break;
		pend = start;
		while (pend > path && pend[-1] == '/')
			pend--;
		pstart = pend;
		while (pstart > path && pstart[-1] != '/')
			pstart--;
		runtime = match_component(start, (size_t)(end - start),
					  pend > pstart ? pstart : NULL, (size_t)(pend - pstart));
		if (runtime) {
			const char *id =
			    end - (end - start > 6 && !memcmp(end - 6, ".scope", 6) ? 6 : 0) -
			    AM_CONTAINER_ID_LEN;

			memcpy(out->id, id, AM_CONTAINER_ID_LEN);
			out->id[AM_CONTAINER_ID_LEN] = '\0';
			out->runtime = runtime;
			return 1;
		}
		end = start;
	}
	return 0;
}
