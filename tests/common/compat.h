/* Running the python3 scripts that compare the agent's series with Debian's node_exporter's. */
#ifndef ANTIMETAL_TESTS_COMPAT_H
#define ANTIMETAL_TESTS_COMPAT_H

#include "util/strbuf.h"

/* Run ARGV (argv[0] "/usr/bin/python3", then the script and its arguments), skipping the test
 * when python3 or prometheus-node-exporter is not installed. The script's output (its table and
 * mismatches) goes to the test's stderr for whoever reads the log. Returns the wait status; OUT
 * gets the script's stdout (free it). */
int am_test_node_exporter_compare(char *const argv[], struct am_strbuf *out);

#endif
