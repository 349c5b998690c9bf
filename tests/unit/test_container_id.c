/* Container ids from the cgroup paths each runtime creates, in systemd and cgroupfs layouts;
 * the cgroup2 mount those paths are relative to. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cgroup_path.h"
#include "testutil.h"
#include "util/container_id.h"

#define ID  "3f4c1e9a0b2d4e6f8a1c3e5f7b9d0a2c4e6f8b1d3a5c7e9f0b2d4f6a8c0e1b3d"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect(const char *path, const char *id, const char *runtime)
{
	struct am_container_ref ref;
	int found = am_container_id_from_cgroup(path, &ref);

	if (!id) {
		cr_expect_eq(found, 0, "%s: found %s", path, found ? ref.id : "");
		return;
	}
	cr_assert_eq(found, 1, "%s: no container found", path);
	cr_expect_str_eq(ref.id, id, "%s", path);
	cr_expect_str_eq(ref.runtime, runtime, "%s", path);
}

Test(container_id, docker)
{
	expect("/system.slice/docker-" ID ".scope", ID, "docker");
	expect("/docker/" ID, ID, "docker");
	/* systemd inside the container: the container is above init.scope */
	expect("/system.slice/docker-" ID ".scope/init.scope", ID, "docker");
}

Test(container_id, containerd_and_kubernetes)
{
	expect("/kubepods.slice/kubepods-besteffort.slice/"
	       "kubepods-besteffort-pod0d2f6c1e_5b4a_4c3d_9e8f_7a6b5c4d3e2f.slice/"
	       "cri-containerd-" ID ".scope",
	       ID, "containerd");
	expect("/kubepods/burstable/pod0d2f6c1e-5b4a-4c3d-9e8f-7a6b5c4d3e2f/" ID, ID, "kubernetes");
	expect("/kubepods/" ID, ID, "kubernetes");
}

Test(container_id, crio)
{
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podx.slice/crio-" ID
	       ".scope",
	       ID, "cri-o");
	/* conmon is the runtime's monitor process, not the container */
	expect("/machine.slice/crio-conmon-" ID ".scope", NULL, NULL);
}

Test(container_id, podman)
{
	expect("/machine.slice/libpod-" ID ".scope", ID, "podman");
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
	       ".scope/container",
	       ID, "podman");
	expect("/libpod_parent/libpod-" ID, ID, "podman");
	expect("/machine.slice/libpod-conmon-" ID ".scope", NULL, NULL);
}

Test(container_id, innermost_wins)
{
	expect("/docker/" ID "/docker/" ID2, ID2, "docker");
}

Test(container_id, host_paths_have_none)
{
	expect("/", NULL, NULL);
	expect("", NULL, NULL);
	expect(NULL, NULL, NULL);
	expect("/system.slice/ssh.service", NULL, NULL);
	expect("/user.slice/user-0.slice/session-1.scope", NULL, NULL);
	expect("/kubepods.slice/kubepods-besteffort.slice", NULL, NULL);
	/* a 64-hex name under an unknown parent is not claimed */
	expect("/mystuff/" ID, NULL, NULL);
}

Test(container_id, malformed_ids_rejected)
{
	/* 63 digits, 65 digits, uppercase, non-hex */
	expect("/system.slice/"
	       "docker-3f4c1e9a0b2d4e6f8a1c3e5f7b9d0a2c4e6f8b1d3a5c7e9f0b2d4f6a8c0e1b3.scope",
	       NULL, NULL);
	expect("/system.slice/docker-" ID "0.scope", NULL, NULL);
	expect("/system.slice/"
	       "docker-3F4C1E9A0B2D4E6F8A1C3E5F7B9D0A2C4E6F8B1D3A5C7E9F0B2D4F6A8C0E1B3D.scope",
	       NULL, NULL);
	expect("/docker/3f4c1e9a0b2d4e6f8a1c3e5f7b9d0a2c4e6f8b1d3a5c7e9f0b2d4f6a8c0e1b3z", NULL,
	       NULL);
	expect("/system.slice/docker-.scope", NULL, NULL);
}

/* The cgroup2 mount is found in mountinfo whatever the layout: hybrid, unified, escaped. */
static int mount_from(const char *content, char *out, size_t outlen)
{
	char *dir = am_test_mkdtemp("mountinfo"), file[4096];
	int err;

	snprintf(file, sizeof(file), "%s/mountinfo", dir);
	cr_assert_eq(am_test_write_file(file, content, strlen(content)), 0);
	err = am_cgroup2_mount(file, out, outlen);
	am_test_rmtree(dir);
	free(dir);
	return err;
}

Test(cgroup_mount, hybrid_unified_escaped_and_absent)
{
	char out[256];

	cr_assert_eq(
	    mount_from("31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		       "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		       "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
		       out, sizeof(out)),
	    0);
	cr_expect_str_eq(out, "/sys/fs/cgroup/unified");
	cr_assert_eq(mount_from("27 22 0:24 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 "
				"rw,nsdelegate\n",
				out, sizeof(out)),
		     0);
	cr_expect_str_eq(out, "/sys/fs/cgroup");
	cr_assert_eq(
	    mount_from("50 1 0:40 / /mnt/my\\040cgroups rw - cgroup2 none rw\n", out, sizeof(out)),
	    0);
	cr_expect_str_eq(out, "/mnt/my cgroups");
	cr_expect_lt(mount_from("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n", out,
				sizeof(out)),
		     0, "a v1-only host has no cgroup2 mount");
	cr_expect_lt(
	    mount_from("41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n", out, 8), 0,
	    "a mount point longer than the buffer is an error, not a cut");
}
