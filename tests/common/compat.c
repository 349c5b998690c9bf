#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "spawn.h"

int am_test_node_exporter_compare(char *const argv[], struct am_strbuf *out)
{
	struct am_strbuf err = {0};
	int st;

	if (access("/usr/bin/prometheus-node-exporter", X_OK))
		cr_skip_test(
		    "skipped: needs prometheus-node-exporter (Debian package of that name)");
	if (access("/usr/bin/python3", X_OK))
		cr_skip_test("skipped: needs python3");
	st = am_test_run(argv, out, &err);
	fprintf(stderr, "%s%s", out->data ? out->data : "", err.data ? err.data : "");
	am_strbuf_free(&err);
	return st;
}
