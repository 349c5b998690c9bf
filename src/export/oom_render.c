#include "export/oom_render.h"

#include "util/json.h"
#include "util/timefmt.h"

static void kv_str_or_null(struct am_strbuf *b, const char *key, const char *val)
{
	if (val) {
		am_json_kv_str(b, key, val, false);
		return;
	}
	am_json_key(b, key, false);
	am_strbuf_puts(b, "null");
}

static void figures(struct am_strbuf *b, const struct am_oom_event *ev)
{
	am_json_key(b, "memory", false);
	if (!ev->have_figures) {
		am_strbuf_puts(b, "null");
		return;
	}
	/* The kernel counts in kB; bytes here, as every other size the agent reports. */
	am_strbuf_putc(b, '{');
	am_json_kv_u64(b, "total_vm_bytes", ev->total_vm_kb * 1024, true);
	am_json_kv_u64(b, "anon_rss_bytes", ev->anon_rss_kb * 1024, false);
	am_json_kv_u64(b, "file_rss_bytes", ev->file_rss_kb * 1024, false);
	am_json_kv_u64(b, "shmem_rss_bytes", ev->shmem_rss_kb * 1024, false);
	am_json_kv_u64(b, "pgtables_bytes", ev->pgtables_kb * 1024, false);
	am_json_key(b, "oom_score_adj", false);
	am_strbuf_printf(b, "%d", ev->oom_score_adj);
	am_strbuf_putc(b, '}');
}

void am_oom_render_json(struct am_strbuf *b, const struct am_oom_event *ev)
{
	am_strbuf_putc(b, '{');
	am_json_key(b, "time", true);
	am_strbuf_putc(b, '"');
	am_rfc3339_ns(b, ev->ts_real_ns);
	am_strbuf_putc(b, '"');
	am_json_kv_str(b, "origin", ev->origin == AM_OOM_FROM_BPF ? "tracepoint" : "kmsg", false);
	am_json_key(b, "pid", false);
	am_strbuf_printf(b, "%d", ev->pid);
	kv_str_or_null(b, "comm", ev->comm[0] ? ev->comm : NULL);
	am_json_key(b, "uid", false);
	if (ev->have_uid)
		am_strbuf_printf(b, "%u", ev->uid);
	else
		am_strbuf_puts(b, "null");
	kv_str_or_null(b, "cgroup", ev->cgroup);
	kv_str_or_null(b, "container_id", ev->container_id);
	kv_str_or_null(b, "container_runtime", ev->container_runtime);
	kv_str_or_null(b, "constraint", ev->constraint);
	am_json_key(b, "memory_limit_bytes", false);
	if (ev->have_limit && !ev->limit_unlimited)
		am_strbuf_printf(b, "%llu", (unsigned long long)ev->limit_bytes);
	else
		am_strbuf_puts(b, "null");
	am_json_kv_bool(b, "memory_limit_known", ev->have_limit, false);
	figures(b, ev);
	am_strbuf_putc(b, '}');
}
