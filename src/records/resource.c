#include "records/resource.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct am_resource_attr *find(const struct am_resource *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->attrs[i].key, key))
			return (struct am_resource_attr *)&r->attrs[i];
	return NULL;
}

int am_resource_set(struct am_resource *r, const char *key, const char *value)
{
	struct am_resource_attr *a = find(r, key);
	char *v = strdup(value);

	if (!v)
		return -ENOMEM;
	if (a) {
		free(a->value);
		a->value = v;
		return 0;
	}
	if (r->n == AM_RESOURCE_MAX_ATTRS) {
		free(v);
		return -ENOSPC;
	}
	a = &r->attrs[r->n];
	a->key = strdup(key);
	if (!a->key) {
		free(v);
		return -ENOMEM;
	}
	a->value = v;
	r->n++;
	return 0;
}

const char *am_resource_get(const struct am_resource *r, const char *key)
{
	const struct am_resource_attr *a = find(r, key);

	return a ? a->value : NULL;
}

void am_resource_free(struct am_resource *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->attrs[i].key);
		free(r->attrs[i].value);
	}
	r->n = 0;
}
