#include "pprof_labels.h"

#include <string.h>

int64_t am_test_pprof_label_num(const Perftools__Profiles__Profile *pb,
				const Perftools__Profiles__Sample *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n_label; i++)
		if (!strcmp(pb->string_table[s->label[i]->key], key))
			return s->label[i]->num;
	return -1;
}
