#!/usr/bin/env bash
# Run a command in an image with the current directory at /src:
#   run-in-image.sh IMAGE COMMAND...
# With `podman run` and the first OCI runtime that starts a container here (podman-run.sh:
# crun, else runc, with rlimits this host grants). Only where none can (no runtime installed,
# or both refuse the host), the image's own file system is mounted (`podman image mount`) and
# the command runs chrooted into it in a private mount namespace: the same binaries and
# libraries, without the runtime's isolation. Either way it says on stderr which path ran.
set -euo pipefail

image=${1:?usage: $0 IMAGE COMMAND...}
shift
src=$(pwd)

. "$(dirname "$0")/podman-run.sh"
if podman_pick "$image"; then
	echo "$0: ${PODMAN_HOW}${PODMAN_WHY:+ (refused: $PODMAN_WHY)}" >&2
	exec "${PODMAN_RUN[@]}" --rm --network=none -v "$src":/src -w /src "$image" "$@"
fi
echo "$0: no OCI runtime starts a container here ($PODMAN_WHY); running chrooted in $image's file system" >&2
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
