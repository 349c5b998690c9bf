/* Names given on the command line that must be resolved before a collector starts: the BTF file
 * (with the exit status a bad one means) and cgroup directories. */
#ifndef ANTIMETAL_CLI_CLI_RESOLVE_H
#define ANTIMETAL_CLI_CLI_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

struct am_cmd;

/* Resolve the BTF as am_btf_resolve does (ARG from --btf, may be NULL). Returns 0, or the exit
 * status: AM_EXIT_USAGE when a named file (--btf or ANTIMETAL_BTF_PATH) is bad, AM_EXIT_FAIL
 * when none was named and none was found (with the hint how to name one). */
int am_cli_btf(const struct am_cmd *cmd, const char *arg, char *out, size_t outlen);

/* The cgroup v2 directory ARG names, absolute or relative to the cgroup2 mount (perf's -G and
 * systemd's unit paths), into DIR and its id into ID. Returns 0, or -errno: -EINVAL when ARG
 * is not a cgroup v2 directory either way. */
int am_cli_cgroup(const char *arg, char *dir, size_t dirlen, uint64_t *id);

#endif
