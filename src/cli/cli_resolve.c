#include "cli/cli_resolve.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_opts.h"
#include "cli/commands.h"
#include "core/btf_discovery.h"
#include "core/cgroup_path.h"

int am_cli_btf(const struct am_cmd *cmd, const char *arg, char *out, size_t outlen)
{
	const char *env = getenv("ANTIMETAL_BTF_PATH");

	if (arg && !*arg)
		return am_cli_usage_error(cmd, "--btf needs a file name");
	if (!am_btf_resolve(arg, out, outlen))
		return 0;
	/* A file the user named is bad input (the message above names it); no BTF anywhere is
	 * this host's limit. */
	if (arg || (env && *env))
		return AM_EXIT_USAGE;
	fprintf(stderr,
		"antimetal-agent %s: name a BTF file with --btf FILE or "
		"ANTIMETAL_BTF_PATH (see docs/core.md)\n",
		cmd->name);
	return AM_EXIT_FAIL;
}

int am_cli_cgroup(const char *arg, char *dir, size_t dirlen, uint64_t *id)
{
	char mnt[PATH_MAX];
	int err = am_cgroup_id_of(arg, id);

	if (!err)
		return (size_t)snprintf(dir, dirlen, "%s", arg) >= dirlen ? -ENAMETOOLONG : 0;
	if (!*arg || am_cgroup2_mount(NULL, mnt, sizeof(mnt)))
		return err;
	if ((size_t)snprintf(dir, dirlen, "%s/%s", mnt, arg + (arg[0] == '/')) >= dirlen)
		return -ENAMETOOLONG;
	return am_cgroup_id_of(dir, id) ? err : 0;
}
