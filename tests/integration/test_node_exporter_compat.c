/* node_exporter compatibility: Debian's prometheus-node-exporter and the agent run side by
 * side on loopback ports; node_exporter_compat.py scrapes both within the same moment and
 * compares series by series (names, label sets, values, types), printing a coverage table per
 * collector and every mismatch. The target: 95% of node_exporter's default-collector series
 * matched. Then promtool lints the agent's exposition. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "promtool_lint.h"
#include "compat.h"
#include "testutil.h"

#define AGENT  AM_TEST_BUILD_DIR "/antimetal-agent"
#define SCRIPT AM_TEST_SRC_DIR "/tests/integration/node_exporter_compat.py"

Test(node_exporter_compat, series_match_node_exporter_and_pass_promtool, .timeout = 120)
{
	char *dir = am_test_mkdtemp("nodecompat"), cmd[1024], path[600];
	char *argv[] = {"/usr/bin/python3", SCRIPT, AGENT, "--keep", dir, NULL};
	char *lint[] = {"/bin/sh", "-c", cmd, NULL};
	struct am_strbuf out = {0}, err = {0};
	int st;

	st = am_test_node_exporter_compare(argv, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "fewer than 95%% of node_exporter's series matched (table above)");
	cr_assert_not_null(strstr(out.data, "% matched"));

	if (!access("/usr/bin/promtool", X_OK)) {
		am_strbuf_reset(&out);
		am_strbuf_reset(&err);
		snprintf(path, sizeof(path), "%s/agent.prom", dir);
		snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < '%s'", path);
		st = am_test_run(lint, &out, &err);
		cr_assert(WIFEXITED(st), "promtool did not run");
		cr_assert(lint_only_node_exporter_names(out.data ? out.data : "") &&
			      lint_only_node_exporter_names(err.data ? err.data : ""),
			  "promtool: %s%s", out.data ? out.data : "", err.data ? err.data : "");
	}
	am_strbuf_free(&out);
	am_strbuf_free(&err);
	am_test_rmtree(dir);
	free(dir);
}
