/* The check report: conclusions (level, collector plans, verdict) drawn from hand-made probe
 * tables for the kernels we meet, and both renderings complete and the JSON valid. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/check_report.h"
#include "export/check_render.h"
#include "json_check.h"

static void set(struct am_check_report *r, enum am_probe_id id, enum am_probe_status s,
		const char *detail)
{
	r->probes[id].status = s;
	snprintf(r->probes[id].detail, sizeof(r->probes[id].detail), "%s", detail);
}

/* This machine: 6.18, native BTF, no kprobes, no fentry, no PMU, perf links. */
static void this_host(struct am_check_report *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	snprintf(r->release, sizeof(r->release), "6.18.44-fc-v782");
	snprintf(r->machine, sizeof(r->machine), "x86_64");
	r->kver_ok = am_kver_parse(r->release, &r->kver) == 0;
	for (i = 0; i < AM_P__COUNT; i++)
		set(r, i, AM_PROBE_YES, "works");
	set(r, AM_P_KPROBE_ATTACH, AM_PROBE_NO,
	    "no kprobe PMU and no kprobe_events in tracefs: "
	    "CONFIG_KPROBE_EVENTS off");
	set(r, AM_P_FENTRY_ATTACH, AM_PROBE_NO, "fentry program did not load: EPERM");
	set(r, AM_P_PROG_TRACING, AM_PROBE_NO, "rejected");
	set(r, AM_P_PMU_HW, AM_PROBE_NO, "perf_event_open(cycles) failed: ENOENT");
	set(r, AM_P_PERF_PARANOID, AM_PROBE_INFO, "2");
	r->btf.source = AM_BTF_NATIVE;
	snprintf(r->btf.path, sizeof(r->btf.path), "/sys/kernel/btf/vmlinux");
	r->btf.nr_types = 126573;
}

static const char *plan_of(const struct am_check_report *r, const char *collector)
{
	int i;

	for (i = 0; i < r->nplans; i++)
		if (!strcmp(r->plans[i].collector, collector))
			return r->plans[i].plan;
	cr_assert_fail("no plan for %s", collector);
	return NULL;
}

Test(check_conclude, this_host_profile)
{
	struct am_check_report r;

	this_host(&r);
	am_check_conclude(&r);
	cr_assert_eq(r.level, AM_CORE_FULL);
	cr_assert(r.can_run);
	cr_assert_str_eq(plan_of(&r, "execsnoop"), "ring buffer");
	cr_assert_str_eq(plan_of(&r, "profiler event"), "no PMU -> software cpu-clock");
	cr_assert_str_eq(plan_of(&r, "profiler attach"), "bpf_link (5.15+)");
	cr_assert_str_eq(plan_of(&r, "profiler stacks"),
			 "bpf_get_stack, stacks stored by content hash");
	cr_assert_str_eq(plan_of(&r, "kprobe-based collectors"),
			 "unavailable (CONFIG_KPROBE_EVENTS off)");
	cr_assert(strstr(plan_of(&r, "fentry/fexit"), "unavailable"));
	cr_assert_str_eq(r.verdict, "CO-RE programs can run (Full: native BTF)");
}

Test(check_conclude, older_kernel_with_external_btf)
{
	struct am_check_report r;

	this_host(&r);
	cr_assert_eq(am_kver_parse("5.4.0-1034-aws", &r.kver), 0);
	set(&r, AM_P_MAP_RINGBUF, AM_PROBE_NO, "unknown map type");
	set(&r, AM_P_HELPER_RINGBUF_RESERVE, AM_PROBE_NO, "not callable");
	set(&r, AM_P_PERF_LINK, AM_PROBE_NO, "kernel before 5.15");
	set(&r, AM_P_PMU_HW, AM_PROBE_YES, "works");
	set(&r, AM_P_KPROBE_ATTACH, AM_PROBE_YES, "attached");
	r.btf.source = AM_BTF_ARCHIVE;
	am_check_conclude(&r);
	cr_assert_eq(r.level, AM_CORE_PARTIAL);
	cr_assert(r.can_run);
	cr_assert_str_eq(plan_of(&r, "execsnoop"), "perf buffer (no ring buffer before 5.8)");
	cr_assert_str_eq(plan_of(&r, "profiler event"), "hardware cycles (PMU present)");
	cr_assert(strstr(plan_of(&r, "profiler attach"), "PERF_EVENT_IOC_SET_BPF"));
	cr_assert_str_eq(plan_of(&r, "kprobe-based collectors"), "available");
	cr_assert(strstr(r.level_why, "btfhub archive"));
}

Test(check_conclude, no_btf_or_old_kernel_cannot_run)
{
	struct am_check_report r;

	this_host(&r);
	r.btf_err = -2;
	am_check_conclude(&r);
	cr_assert_eq(r.level, AM_CORE_NONE);
	cr_assert_not(r.can_run);
	cr_assert(strstr(r.verdict, "cannot run: no BTF"), "%s", r.verdict);

	this_host(&r);
	cr_assert_eq(am_kver_parse("4.14.0", &r.kver), 0);
	am_check_conclude(&r);
	cr_assert_eq(r.level, AM_CORE_NONE);
	cr_assert_not(r.can_run);
	cr_assert(strstr(r.verdict, "older than 4.18"), "%s", r.verdict);

	/* RHEL 8 backports native BTF to 4.18: still Full */
	this_host(&r);
	cr_assert_eq(am_kver_parse("4.18.0-553.el8_10.x86_64", &r.kver), 0);
	am_check_conclude(&r);
	cr_assert_eq(r.level, AM_CORE_FULL);
	cr_assert(strstr(r.level_why, "backported"));
}

Test(check_conclude, unprivileged_reports_unknown_and_fails)
{
	struct am_check_report r;
	static const char why[] = "bpf() refused (Operation not permitted): needs root";

	this_host(&r);
	set(&r, AM_P_PROG_TRACEPOINT, AM_PROBE_UNKNOWN, why);
	set(&r, AM_P_MAP_RINGBUF, AM_PROBE_UNKNOWN, why);
	set(&r, AM_P_PERF_LINK, AM_PROBE_UNKNOWN, why);
	set(&r, AM_P_CORE_RELOC, AM_PROBE_UNKNOWN, "not tried");
	am_check_conclude(&r);
	cr_assert_not(r.can_run);
	cr_assert(strstr(r.verdict, "needs root"), "%s", r.verdict);
	cr_assert(strstr(plan_of(&r, "execsnoop"), "unknown: "));
	cr_assert(strstr(plan_of(&r, "profiler attach"), "unknown: "));
}

Test(check_conclude, failed_relocation_cannot_run)
{
	struct am_check_report r;

	this_host(&r);
	set(&r, AM_P_CORE_RELOC, AM_PROBE_NO, "test_core did not load");
	am_check_conclude(&r);
	cr_assert_not(r.can_run);
	cr_assert(strstr(r.verdict, "the CO-RE proof with BTF /sys/kernel/btf/vmlinux failed"));
}

/* The renderers see the report only as its record. */
static void render_json(const struct am_check_report *r, struct am_strbuf *b)
{
	struct am_check_record rec;

	am_check_record_fill(r, &rec);
	am_check_render_json(&rec, b);
}

static void render_text(const struct am_check_report *r, bool verbose, struct am_strbuf *b)
{
	struct am_check_record rec;

	am_check_record_fill(r, &rec);
	am_check_render_text(&rec, verbose, b);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

Test(check_render, json_is_valid_and_complete)
{
	struct am_check_report r;
	struct am_strbuf b = {0};
	char key[128];
	int i;

	this_host(&r);
	/* hostile bytes in details and a non-UTF-8 path must not break the JSON */
	set(&r, AM_P_FENTRY_ATTACH, AM_PROBE_NO, "quote \" backslash \\ newline \n tab \t \x01");
	r.btf.source = AM_BTF_EXPLICIT;
	snprintf(r.btf.path, sizeof(r.btf.path), "/tmp/bad\xff\"name.btf");
	am_check_conclude(&r);
	render_json(&r, &b);
	cr_assert(am_test_json_valid(b.data, b.len), "invalid JSON: %s", b.data);
	cr_assert_eq(b.data[b.len - 1], '\n');
	for (i = 0; i < AM_P__COUNT; i++) {
		snprintf(key, sizeof(key), "\"%s\":{\"group\":\"%s\",\"status\":\"%s\"",
			 am_probe_name(i), am_probe_group(i),
			 am_probe_status_name(r.probes[i].status));
		cr_assert_eq(count(b.data, key), 1, "probe %s missing or repeated: %s", key,
			     b.data);
	}
	cr_assert_eq(count(b.data, "\"status\":"), AM_P__COUNT);
	cr_assert_eq(count(b.data, "\"plan\":"), (size_t)r.nplans);
	cr_assert(strstr(b.data,
			 "\"kernel\":{\"release\":\"6.18.44-fc-v782\",\"machine\":\"x86_64\","
			 "\"version\":{\"major\":6,\"minor\":18,\"patch\":44,\"rc\":0}}"));
	cr_assert(strstr(b.data, "\"core_level\":\"Partial\""));
	cr_assert(strstr(b.data, "\"can_run\":true"));
	cr_assert(strstr(b.data, "\"source\":\"--btf\",\"path\":{\"base64\":"), "%s", b.data);
	cr_assert(strstr(b.data, "{\"name\":\"profiler event\",\"available\":true,"
				 "\"plan\":\"no PMU -> software cpu-clock\"}"));
	am_strbuf_free(&b);
}

Test(check_render, json_without_btf_or_version)
{
	struct am_check_report r;
	struct am_strbuf b = {0};

	this_host(&r);
	r.kver_ok = false;
	r.btf_err = -2;
	am_check_conclude(&r);
	render_json(&r, &b);
	cr_assert(am_test_json_valid(b.data, b.len), "invalid JSON: %s", b.data);
	cr_assert(strstr(b.data, "\"version\":null"));
	cr_assert(strstr(b.data,
			 "\"btf\":{\"source\":\"none\",\"error\":\"No such file or directory\"}"));
	cr_assert(strstr(b.data, "\"can_run\":false"));
	am_strbuf_free(&b);
}

Test(check_render, text_has_every_probe_level_plan_and_verdict)
{
	struct am_check_report r;
	struct am_strbuf b = {0};
	char line[256];
	int i;

	this_host(&r);
	am_check_conclude(&r);
	render_text(&r, false, &b);
	for (i = 0; i < AM_P__COUNT; i++) {
		snprintf(line, sizeof(line), "\n  %-26s %-8s ", am_probe_name(i),
			 am_probe_status_name(r.probes[i].status));
		cr_assert(strstr(b.data, line), "row for %s missing:\n%s", am_probe_name(i),
			  b.data);
	}
	/* failures carry their reason without -v; successes only with it */
	cr_assert(strstr(b.data, "CONFIG_KPROBE_EVENTS off"));
	cr_assert_not(strstr(b.data, "works"));
	cr_assert(strstr(b.data, "\nCO-RE    Full (native BTF)\n"));
	cr_assert(strstr(b.data, "\nBTF      native /sys/kernel/btf/vmlinux (126573 types)\n"));
	cr_assert(strstr(b.data, "  profiler event             no PMU -> software cpu-clock\n"));
	cr_assert(strstr(b.data, "\nCO-RE programs can run (Full: native BTF)\n"));
	am_strbuf_reset(&b);
	render_text(&r, true, &b);
	cr_assert(strstr(b.data, "works"));
	am_strbuf_free(&b);
}

Test(json_check, validator_rejects_broken_json)
{
	static const char *const bad[] = {
	    "",	  "{",	 "{\"a\":}", "{\"a\":1,}", "[1,]",    "\"\x01\"", "01",
	    "1.", "tru", "{a:1}",    "\"\\x\"",	   "[1] [2]", "\"\xff\"",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(am_test_json_valid(bad[i], strlen(bad[i])), "accepted %s", bad[i]);
	cr_assert(am_test_json_valid(" {\"a\":[1,-2.5e3,true,null,\"\\u00e9\"]} ", 36));
}
