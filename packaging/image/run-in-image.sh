#!/usr/bin/env bash
# Run a command in an image's root file system with the current directory at /src:
#   run-in-image.sh IMAGE COMMAND...
# With `podman run` where it works. Where the OCI runtime cannot start containers (crun refuses
# a hybrid cgroup layout whose v2 side has controllers; a sandbox without CAP_SYS_RESOURCE
# cannot set the runtime's rlimits), the image's own file system is mounted
# (`podman image mount`) and the command runs chrooted into it in a private mount namespace:
# the same binaries and libraries, without the runtime's isolation.
set -euo pipefail

image=${1:?usage: $0 IMAGE COMMAND...}
shift
src=$(pwd)

if podman run --rm --network=none "$image" true >/dev/null 2>&1; then
	exec podman run --rm --network=none -v "$src":/src -w /src "$image" "$@"
fi
echo "$0: podman cannot start containers here; running chrooted in $image's file system" >&2
root=$(podman image mount "$image")
trap 'podman image unmount "$image" >/dev/null' EXIT
# The unshared namespace's mounts vanish with it; the image's file system is not changed
# beyond /src (its mount point) and what COMMAND writes there.
unshare --mount --fork bash -euc '
	root=$1 src=$2; shift 2
	mount --make-rprivate /
	mount -t tmpfs tmpfs "$root/tmp"
	mkdir -p "$root/tmp/src"
	mount --bind "$src" "$root/tmp/src"
	for d in proc sys dev; do mount --rbind "/$d" "$root/$d"; done
	cd "$root/tmp/src"
	exec chroot "$root" /bin/sh -c "cd /tmp/src && exec \"\$@\"" sh "$@"
' bash "$root" "$src" "$@"
