#include "export/otlp_resource.h"

void am_otlp_resource_init(struct am_otlp_resource *out, const struct am_resource *r)
{
	size_t i;

	opentelemetry__proto__resource__v1__resource__init(&out->msg);
	for (i = 0; i < r->n; i++) {
		opentelemetry__proto__common__v1__key_value__init(&out->kv[i]);
		opentelemetry__proto__common__v1__any_value__init(&out->val[i]);
		out->val[i].value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		out->val[i].string_value = r->attrs[i].value;
		out->kv[i].key = r->attrs[i].key;
		out->kv[i].value = &out->val[i];
		out->kvp[i] = &out->kv[i];
	}
	out->msg.n_attributes = r->n;
	out->msg.attributes = out->kvp;
}
