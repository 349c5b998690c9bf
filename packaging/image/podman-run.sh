# shellcheck shell=bash disable=SC2034 # PODMAN_HOW is for the caller
# Sourced by run-in-image.sh and test-image.sh: find a way for `podman run` to start IMAGE here.
#   podman_pick IMAGE   sets PODMAN_RUN (an array: podman run --runtime R --ulimit ...) and
#                       PODMAN_HOW (a line saying which runtime and limits), or returns 1 with
#                       PODMAN_WHY holding each runtime's refusal.
#
# Two things stop podman's defaults on some hosts, both seen on this project's build machine:
# - rlimits: podman asks the runtime for nofile=1048576 and nproc=4194304 (rootful defaults),
#   and raising a hard limit needs CAP_SYS_RESOURCE, which a sandboxed root may lack. The
#   limits given here are the current hard ones, which setrlimit never refuses. podman 4.3
#   also lowers its own (so its runtime's) RLIMIT_NPROC hard limit to 32768 at start (seen
#   with strace), hence the cap; root's processes are not counted against nproc anyway.
# - cgroups: crun refuses a hybrid layout whose v2 side has controllers ("cgroups in hybrid
#   mode not supported"); runc accepts it. crun is tried first (podman's default on Debian).
# PODMAN_RUNTIMES overrides the list tried ("runc" alone; "none" tries none, which is how the
# callers' chroot fallback is exercised on a host where podman works).

podman_pick() {
	local image=$1 rt nofile nproc err
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	[ "$nofile" = unlimited ] && nofile=1048576
	if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
	PODMAN_WHY=
	for rt in ${PODMAN_RUNTIMES:-crun runc}; do
		if [ "$rt" = none ]; then
			PODMAN_WHY+="${PODMAN_WHY:+; }none tried (PODMAN_RUNTIMES=none)"
			continue
		fi
		if ! command -v "$rt" >/dev/null; then
			PODMAN_WHY+="${PODMAN_WHY:+; }$rt: not installed"
			continue
		fi
		PODMAN_RUN=(podman run --runtime "$rt" --ulimit "nofile=$nofile:$nofile"
			--ulimit "nproc=$nproc:$nproc")
		if err=$("${PODMAN_RUN[@]}" --rm --network=none --entrypoint /bin/true "$image" 2>&1); then
			PODMAN_HOW="podman run --runtime $rt --ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
			return 0
		fi
		PODMAN_WHY+="${PODMAN_WHY:+; }$rt: $(tail -1 <<<"$err")"
	done
	PODMAN_RUN=()
	return 1
}
