#include "export/check_render.h"

#include <string.h>

#include "util/json.h"

static void btf_line(const struct am_check_report *r, struct am_strbuf *b)
{
	if (r->btf_err)
		am_strbuf_printf(b, "BTF      none found (%s)\n", strerror(-r->btf_err));
	else
		am_strbuf_printf(b, "BTF      %s %s (%u types)\n", am_btf_source_name(r->btf.source),
				 r->btf.path, r->btf.nr_types);
}

void am_check_render_text(const struct am_check_report *r, bool verbose, struct am_strbuf *b)
{
	const char *group = "";
	int i;

	am_strbuf_printf(b, "kernel   %s (%s)%s, euid %u\n\n", r->release, r->machine,
			 r->kver_ok ? "" : " [release not parsed]", r->euid);
	am_strbuf_printf(b, "%-28s %-8s %s\n", "CAPABILITY", "STATUS", "DETAIL");
	for (i = 0; i < AM_P__COUNT; i++) {
		const struct am_probe_result *p = &r->probes[i];

		if (strcmp(group, am_probe_group(i))) {
			group = am_probe_group(i);
			am_strbuf_printf(b, "%s\n", group);
		}
		/* Successes are self-explanatory; details of the rest say what is missing. */
		am_strbuf_printf(b, "  %-26s %-8s %s\n", am_probe_name(i),
				 am_probe_status_name(p->status),
				 verbose || p->status != AM_PROBE_YES ? p->detail : "");
	}
	am_strbuf_putc(b, '\n');
	btf_line(r, b);
	am_strbuf_printf(b, "CO-RE    %s (%s)\n\n", am_core_level_name(r->level), r->level_why);
	am_strbuf_printf(b, "%-28s %s\n", "COLLECTOR", "PLAN");
	for (i = 0; i < r->nplans; i++)
		am_strbuf_printf(b, "  %-26s %s\n", r->plans[i].collector, r->plans[i].plan);
	am_strbuf_printf(b, "\n%s\n", r->verdict);
}

void am_check_render_json(const struct am_check_report *r, struct am_strbuf *b)
{
	int i;

	am_strbuf_putc(b, '{');
	am_json_key(b, "kernel", true);
	am_strbuf_putc(b, '{');
	am_json_kv_str(b, "release", r->release, true);
	am_json_kv_str(b, "machine", r->machine, false);
	am_json_key(b, "version", false);
	if (r->kver_ok) {
		am_strbuf_putc(b, '{');
		am_json_kv_u64(b, "major", r->kver.major, true);
		am_json_kv_u64(b, "minor", r->kver.minor, false);
		am_json_kv_u64(b, "patch", r->kver.patch, false);
		am_json_kv_u64(b, "rc", r->kver.rc, false);
		am_strbuf_putc(b, '}');
	} else {
		am_strbuf_puts(b, "null");
	}
	am_strbuf_putc(b, '}');
	am_json_kv_u64(b, "euid", r->euid, false);

	am_json_key(b, "probes", false);
	am_strbuf_putc(b, '{');
	for (i = 0; i < AM_P__COUNT; i++) {
		am_json_key(b, am_probe_name(i), i == 0);
		am_strbuf_putc(b, '{');
		am_json_kv_str(b, "group", am_probe_group(i), true);
		am_json_kv_str(b, "status", am_probe_status_name(r->probes[i].status), false);
		am_json_kv_str(b, "detail", r->probes[i].detail, false);
		am_strbuf_putc(b, '}');
	}
	am_strbuf_putc(b, '}');

	am_json_key(b, "btf", false);
	am_strbuf_putc(b, '{');
	am_json_kv_str(b, "source", r->btf_err ? "none" : am_btf_source_name(r->btf.source), true);
	if (r->btf_err) {
		am_json_kv_str(b, "error", strerror(-r->btf_err), false);
	} else {
		am_json_key(b, "path", false);
		am_json_bytes(b, r->btf.path, strlen(r->btf.path));
		am_json_kv_u64(b, "types", r->btf.nr_types, false);
	}
	am_strbuf_putc(b, '}');

	am_json_kv_str(b, "core_level", am_core_level_name(r->level), false);
	am_json_kv_str(b, "core_level_reason", r->level_why, false);
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
