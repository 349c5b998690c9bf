#include "export/metrics_json.h"

#include <math.h>
#include <stdint.h>

#include "export/prom_text.h"
#include "util/json.h"

size_t am_metrics_json_array_from(const struct am_metric_set *set, size_t from, size_t max_bytes,
				  struct am_strbuf *out)
{
	size_t i, start = out->len;
	int j;

	am_strbuf_putc(out, '[');
	for (i = from; i < set->n && (i == from || out->len - start < max_bytes); i++) {
		const struct am_metric *m = &set->items[i];

		if (i > from)
			am_strbuf_putc(out, ',');
		am_strbuf_putc(out, '{');
		am_json_kv_str(out, "name", am_metric_name(m), true);
		am_json_kv_str(out, "type",
			       m->desc->type == AM_METRIC_COUNTER ? "counter" : "gauge", false);
		am_json_key(out, "labels", false);
		am_strbuf_putc(out, '{');
		for (j = 0; j < m->nlabels; j++)
			am_json_kv_str(out, m->labels[j].name, m->labels[j].value, j == 0);
		am_strbuf_putc(out, '}');
		am_json_key(out, "value", false);
		/* The shortest exact form, as in the Prometheus text: 0.61, not
		 * 0.60999999999999999. */
		if (isfinite(m->value))
			am_prom_text_value(out, m->value);
		else
			am_strbuf_puts(out, "null");
		am_strbuf_putc(out, '}');
	}
	am_strbuf_putc(out, ']');
	return i;
}

void am_metrics_json_array(const struct am_metric_set *set, struct am_strbuf *out)
{
	am_metrics_json_array_from(set, 0, SIZE_MAX, out);
}

void am_metrics_json_render(const struct am_metric_set *set, struct am_strbuf *out)
{
	am_strbuf_putc(out, '{');
	am_json_kv_str(out, "type", "metrics", true);
	am_json_kv_u64(out, "timestamp_ns", set->timestamp_ns, false);
	am_json_key(out, "metrics", false);
	am_metrics_json_array(set, out);
	am_strbuf_putc(out, '}');
}
