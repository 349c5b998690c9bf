#include "cli/cli_resolve.h"

#include <errno.h>
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
	return am_cgroup2_resolve(arg, dir, dirlen, id);
}
