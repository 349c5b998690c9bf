#include "export/exec_render.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/json.h"
#include "util/timefmt.h"

static bool safe_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("_@%+=:,./-", c) != NULL;
}

/* Code points that are invisible or reorder text: C1 controls, bidi controls, zero widths. */
static bool deceptive(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

void am_shell_quote(struct am_strbuf *b, const void *data, size_t len)
{
	const unsigned char *p = data;
	bool plain = len > 0, quotable = true;
	size_t i, n;
	unsigned cp;

	for (i = 0; i < len; i += n) {
		n = am_utf8_decode(p + i, len - i, &cp);
		if (!n || cp < 0x20 || cp == 0x7f || cp == '\'' || deceptive(cp)) {
			quotable = plain = false;
			break;
		}
		if (n > 1 || !safe_byte(p[i]))
			plain = false;
	}
	if (plain) {
		am_strbuf_append(b, data, len);
		return;
	}
	if (quotable) {
		am_strbuf_putc(b, '\'');
		am_strbuf_append(b, data, len);
		am_strbuf_putc(b, '\'');
		return;
	}
	am_strbuf_puts(b, "$'");
	for (i = 0; i < len; i += n) {
		n = am_utf8_decode(p + i, len - i, &cp);
		if (!n) {
			am_strbuf_printf(b, "\\x%02x", p[i]);
			n = 1;
		} else if (cp == '\n') {
			am_strbuf_puts(b, "\\n");
		} else if (cp == '\t') {
			am_strbuf_puts(b, "\\t");
		} else if (cp == '\r') {
			am_strbuf_puts(b, "\\r");
		} else if (cp == '\\' || cp == '\'') {
			am_strbuf_putc(b, '\\');
			am_strbuf_putc(b, (char)cp);
		} else if (cp < 0x20 || cp == 0x7f) {
			am_strbuf_printf(b, "\\x%02x", cp);
		} else if (deceptive(cp)) {
			am_strbuf_printf(b, "\\u%04x", cp);
		} else {
			am_strbuf_append(b, p + i, n);
		}
	}
	am_strbuf_putc(b, '\'');
}

static void local_hms(struct am_strbuf *b, uint64_t real_ns)
{
	time_t t = (time_t)(real_ns / 1000000000ull);
	struct tm tm;

	localtime_r(&t, &tm);
	am_strbuf_printf(b, "%02d:%02d:%02d ", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void am_exec_render_text_header(struct am_strbuf *b, bool with_time)
{
	if (with_time)
		am_strbuf_printf(b, "%-8s ", "TIME");
	am_strbuf_printf(b, "%-16s %-7s %-7s %-7s %s\n", "PCOMM", "PID", "PPID", "RET", "ARGS");
}

static void comm_field(struct am_strbuf *b, const char *comm)
{
	size_t before = b->len, width;

	am_shell_quote(b, comm, strlen(comm));
	width = b->len - before;
	for (; width < 16; width++)
		am_strbuf_putc(b, ' ');
	am_strbuf_putc(b, ' ');
}

/* The process lives in a PID namespace of its own (a container): its pids there differ. */
static bool in_other_pidns(const struct am_exec_record *r)
{
	return r->ns_pid && r->ns_pid != r->pid;
}

/* After the line's own fields, so the columns stay those of execsnoop. */
static void ns_pids_text(struct am_strbuf *b, const struct am_exec_record *r)
{
	if (in_other_pidns(r))
		am_strbuf_printf(b, " [pidns: pid %d ppid %d]", r->ns_pid, r->ns_ppid);
}

static void ret_text(char *out, size_t n, int32_t ret)
{
	const char *name = ret < 0 ? am_errno_name(-ret) : NULL;

	if (name)
		snprintf(out, n, "%s", name);
	else
		snprintf(out, n, "%d", ret);
}

void am_exec_render_text(struct am_strbuf *b, const struct am_exec_record *r, bool with_time)
{
	char ret[32];
	size_t i;

	if (with_time)
		local_hms(b, r->ts_real_ns);
	comm_field(b, r->comm);
	if (r->kind == AM_EXIT_EVENT) {
		am_strbuf_printf(b, "%-7d %-7d %-7s ", r->pid, r->ppid, "EXIT");
		if (r->exit_signal && sigabbrev_np(r->exit_signal))
			am_strbuf_printf(b, "[killed by SIG%s", sigabbrev_np(r->exit_signal));
		else if (r->exit_signal)
			am_strbuf_printf(b, "[killed by signal %d", r->exit_signal);
		else
			am_strbuf_printf(b, "[exit %d", r->exit_code);
		am_strbuf_printf(b, "%s after %.3f ms]", r->core_dumped ? ", core dumped," : "",
				 (double)r->lifetime_ns / 1e6);
		ns_pids_text(b, r);
		am_strbuf_putc(b, '\n');
		return;
	}
	ret_text(ret, sizeof(ret), r->ret);
	am_strbuf_printf(b, "%-7d %-7d %-7s ", r->pid, r->ppid, ret);
	if (!r->argc) {
		/* argv was empty (or unreadable): the filename is all there is to show. */
		am_strbuf_puts(b, "[");
		am_shell_quote(b, r->filename.data, r->filename.len);
		am_strbuf_puts(b, "]");
	}
	for (i = 0; i < r->argc; i++) {
		if (i)
			am_strbuf_putc(b, ' ');
		am_shell_quote(b, r->argv[i].data, r->argv[i].len);
	}
	if (r->args_truncated)
		am_strbuf_puts(b, " [truncated]");
	if (r->read_failed)
		am_strbuf_puts(b, " [unreadable]");
	ns_pids_text(b, r);
	am_strbuf_putc(b, '\n');
}

/* The JSON line is rendered for every exec on the host: numbers without printf, keys as
 * literals with their comma. */
static void put_u64(struct am_strbuf *b, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	am_strbuf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void put_i64(struct am_strbuf *b, int64_t v)
{
	if (v < 0) {
		am_strbuf_putc(b, '-');
		put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(b, (uint64_t)v);
	}
}

#define KEY(b, lit)	  am_strbuf_append(b, "," lit ":", sizeof(lit) + 1)
#define KV_U64(b, lit, v) (KEY(b, lit), put_u64(b, v))
#define KV_I64(b, lit, v) (KEY(b, lit), put_i64(b, v))

#define KV_BOOL(b, lit, v)                                                                         \
	((v) ? am_strbuf_append(b, "," lit ":true", sizeof(lit) + 5)                               \
	     : am_strbuf_append(b, "," lit ":false", sizeof(lit) + 6))
#define LIT(b, lit) am_strbuf_append(b, lit, sizeof(lit) - 1)

static void put_time(struct am_strbuf *b, uint64_t real_ns)
{
	am_strbuf_putc(b, '"');
	am_rfc3339_ns(b, real_ns);
	am_strbuf_putc(b, '"');
}

static void json_common(struct am_strbuf *b, const struct am_exec_record *r, bool exit)
{
	if (exit)
		LIT(b, "{\"type\":\"exit\",\"time\":");
	else
		LIT(b, "{\"type\":\"exec\",\"time\":");
	put_time(b, r->ts_real_ns);
	KV_U64(b, "\"ts_ns\"", r->ts_mono_ns);
	KV_I64(b, "\"pid\"", r->pid);
	KV_I64(b, "\"tid\"", r->tid);
	KV_I64(b, "\"ppid\"", r->ppid);
	if (in_other_pidns(r)) {
		KV_I64(b, "\"ns_pid\"", r->ns_pid);
		KV_I64(b, "\"ns_ppid\"", r->ns_ppid);
	}
	KV_U64(b, "\"uid\"", r->uid);
	KV_U64(b, "\"gid\"", r->gid);
	KEY(b, "\"comm\"");
	am_json_bytes(b, r->comm, strlen(r->comm));
	KV_U64(b, "\"cgroup_id\"", r->cgroup_id);
	if (r->cgroup_path) {
		KEY(b, "\"cgroup\"");
		am_json_str(b, r->cgroup_path);
	}
	if (r->container_id) {
		KEY(b, "\"container_id\"");
		am_json_str(b, r->container_id);
		KEY(b, "\"container_runtime\"");
		am_json_str(b, r->container_runtime);
	}
}

void am_exec_render_json(struct am_strbuf *b, const struct am_exec_record *r)
{
	size_t i;

	if (r->kind == AM_EXIT_EVENT) {
		json_common(b, r, true);
		KV_I64(b, "\"exit_code\"", r->exit_code);
		KV_I64(b, "\"signal\"", r->exit_signal);
		KV_BOOL(b, "\"core_dumped\"", r->core_dumped);
		KV_U64(b, "\"lifetime_ns\"", r->lifetime_ns);
		LIT(b, "}\n");
		return;
	}
	json_common(b, r, false);
	KV_U64(b, "\"ret_ts_ns\"", r->ret_mono_ns);
	if (r->execveat) {
		LIT(b, ",\"syscall\":\"execveat\"");
		KV_I64(b, "\"dirfd\"", r->dirfd);
		KV_U64(b, "\"at_flags\"", r->at_flags);
	} else {
		LIT(b, ",\"syscall\":\"execve\"");
	}
	KEY(b, "\"filename\"");
	am_json_bytes(b, r->filename.data, r->filename.len);
	LIT(b, ",\"args\":[");
	for (i = 0; i < r->argc; i++) {
		if (i)
			am_strbuf_putc(b, ',');
		am_json_bytes(b, r->argv[i].data, r->argv[i].len);
	}
	am_strbuf_putc(b, ']');
	KV_BOOL(b, "\"args_truncated\"", r->args_truncated);
	KV_BOOL(b, "\"filename_truncated\"", r->filename_truncated);
	KV_BOOL(b, "\"read_failed\"", r->read_failed);
	if (r->args_from_image)
		LIT(b, ",\"args_from_image\":true");
	if (r->filename_from_image)
		LIT(b, ",\"filename_from_image\":true");
	KV_I64(b, "\"ret\"", r->ret);
	if (r->ret < 0) {
		const char *name = am_errno_name(-r->ret);

		KEY(b, "\"errno\"");
		if (name)
			am_json_str(b, name);
		else
			LIT(b, "null");
	}
	LIT(b, "}\n");
}

void am_exec_render_stats_json(struct am_strbuf *b, const struct am_execsnoop_stats *st,
			       uint64_t real_ns, bool final)
{
	am_strbuf_putc(b, '{');
	am_json_kv_str(b, "type", "stats", true);
	am_json_key(b, "time", false);
	am_strbuf_putc(b, '"');
	am_rfc3339_ns(b, real_ns);
	am_strbuf_putc(b, '"');
	am_json_kv_bool(b, "final", final, false);
	am_json_kv_u64(b, "events", st->execs + st->exits, false);
	am_json_kv_u64(b, "execs", st->execs, false);
	am_json_kv_u64(b, "exits", st->exits, false);
	am_json_kv_u64(b, "drops", st->drops, false);
	am_json_kv_u64(b, "output_failures", st->output_failures, false);
	am_json_kv_u64(b, "stash_failures", st->stash_failures, false);
	am_json_kv_u64(b, "lost_samples", st->lost_samples, false);
	am_json_kv_u64(b, "malformed", st->malformed, false);
	am_json_kv_u64(b, "read_failures", st->read_failures, false);
	am_json_kv_u64(b, "unmatched", st->unmatched, false);
	am_strbuf_puts(b, "}\n");
}
