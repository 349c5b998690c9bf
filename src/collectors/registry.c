/* Every system collector, in the order `collect --all` and the daemon run them. Add a collector:
 * declare it here and append it to am_collectors. */
#include <string.h>

#include "collectors/collector.h"

const struct am_collector *const am_collectors[] = {
	NULL,
};

const struct am_collector *am_collector_find(const char *name)
{
	size_t i;

	for (i = 0; am_collectors[i]; i++)
		if (!strcmp(am_collectors[i]->name, name))
			return am_collectors[i];
	return NULL;
}
