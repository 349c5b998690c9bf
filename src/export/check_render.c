#include "export/check_render.h"

#include <string.h>

#include "util/json.h"

static void btf_line(const struct am_check_record *r, struct am_strbuf *b)
{
	if (!r->btf_source)
		am_strbuf_printf(b, "BTF      none found (%s)\n", r->btf_error);
	else
		am_strbuf_printf(b, "BTF      %s %s (%u types)\n", r->btf_source, r->btf_path,
				 r->btf_types);
}

void am_check_render_text(const struct am_check_record *r, bool verbose, struct am_strbuf *b)
{
	const char *group = "";
	int i;

	am_strbuf_printf(b, "kernel   %s (%s)%s, euid %u\n\n", r->release, r->machine,
			 r->have_version ? "" : " [release not parsed]", r->euid);
	am_strbuf_printf(b, "%-28s %-8s %s\n", "CAPABILITY", "STATUS", "DETAIL");
	for (i = 0; i < r->nprobes; i++) {
		const struct am_check_probe_row *p = &r->probes[i];

		if (strcmp(group, p->group)) {
			group = p->group;
			am_strbuf_printf(b, "%s\n", group);
		}
		/* Successes are self-explanatory; details of the rest say what is missing. */
		am_strbuf_printf(b, "  %-26s %-8s %s\n", p->name, p->status,
				 verbose || !p->yes ? p->detail : "");
	}
	am_strbuf_putc(b, '\n');
	btf_line(r, b);
	am_strbuf_printf(b, "CO-RE    %s (%s)\n\n", r->core_level, r->core_level_why);
	am_strbuf_printf(b, "%-28s %s\n", "COLLECTOR", "PLAN");
	for (i = 0; i < r->nplans; i++)
		am_strbuf_printf(b, "  %-26s %s\n", r->plans[i].collector, r->plans[i].plan);
	am_strbuf_printf(b, "\n%s\n", r->verdict);
}

void am_check_render_json(const struct am_check_record *r, struct am_strbuf *b)
{
	int i;

	am_strbuf_putc(b, '{');
	am_json_key(b, "kernel", true);
	am_strbuf_putc(b, '{');
	am_json_kv_str(b, "release", r->release, true);
	am_json_kv_str(b, "machine", r->machine, false);
	am_json_key(b, "version", false);
	if (r->have_version) {
		am_strbuf_putc(b, '{');
		am_json_kv_u64(b, "major", r->major, true);
		am_json_kv_u64(b, "minor", r->minor, false);
		am_json_kv_u64(b, "patch", r->patch, false);
		am_json_kv_u64(b, "rc", r->rc, false);
		am_strbuf_putc(b, '}');
	} else {
		am_strbuf_puts(b, "null");
	}
	am_strbuf_putc(b, '}');
	am_json_kv_u64(b, "euid", r->euid, false);

	am_json_key(b, "probes", false);
	am_strbuf_putc(b, '{');
	for (i = 0; i < r->nprobes; i++) {
		am_json_key(b, r->probes[i].name, i == 0);
		am_strbuf_putc(b, '{');
		am_json_kv_str(b, "group", r->probes[i].group, true);
		am_json_kv_str(b, "status", r->probes[i].status, false);
		am_json_kv_str(b, "detail", r->probes[i].detail, false);
		am_strbuf_putc(b, '}');
	}
	am_strbuf_putc(b, '}');

	am_json_key(b, "btf", false);
	am_strbuf_putc(b, '{');
	am_json_kv_str(b, "source", r->btf_source ? r->btf_source : "none", true);
	if (!r->btf_source) {
		am_json_kv_str(b, "error", r->btf_error, false);
	} else {
		am_json_key(b, "path", false);
		am_json_bytes(b, r->btf_path, strlen(r->btf_path));
		am_json_kv_u64(b, "types", r->btf_types, false);
	}
	am_strbuf_putc(b, '}');

	am_json_kv_str(b, "core_level", r->core_level, false);
	am_json_kv_str(b, "core_level_reason", r->core_level_why, false);
	am_json_key(b, "collectors", false);
	am_strbuf_putc(b, '[');
	for (i = 0; i < r->nplans; i++) {
		if (i)
			am_strbuf_putc(b, ',');
		am_strbuf_putc(b, '{');
		am_json_kv_str(b, "name", r->plans[i].collector, true);
		am_json_kv_bool(b, "available", r->plans[i].available, false);
		am_json_kv_str(b, "plan", r->plans[i].plan, false);
		am_strbuf_putc(b, '}');
	}
	am_strbuf_putc(b, ']');
	am_json_kv_bool(b, "can_run", r->can_run, false);
	am_json_kv_str(b, "verdict", r->verdict, false);
	am_strbuf_puts(b, "}\n");
}
