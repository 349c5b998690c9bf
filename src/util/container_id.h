/* Container id from a cgroup path, for the naming of docker, containerd (cri-containerd),
 * cri-o, podman and the kubelet, in both the systemd (.scope/.slice) and cgroupfs layouts. */
#ifndef ANTIMETAL_UTIL_CONTAINER_ID_H
#define ANTIMETAL_UTIL_CONTAINER_ID_H

#define AM_CONTAINER_ID_LEN 64

struct am_container_ref {
	char id[AM_CONTAINER_ID_LEN + 1]; /* 64 lowercase hex digits */
	const char *runtime;		  /* static: "docker", "containerd", "cri-o", "podman",
					     "kubernetes" (pod path, runtime not named) */
};

/* Find the innermost container in cgroup PATH. Returns 1 and fills OUT when one is found,
 * 0 when the path names no container (host processes, conmon monitors, pod slices). */
int am_container_id_from_cgroup(const char *path, struct am_container_ref *out);

#endif
