/* OTLP log records from exec/exit and kernel log records. Each record is packed by protobuf-c
 * the moment it is added; the request around the records (ResourceLogs > ScopeLogs) is only
 * length-delimited framing, written at encode time, so a batch never holds an unpacked copy of
 * anything. */
#include "export/otlp_logs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/exec_render.h"
#include "export/otlp_body.h"
#include "otlp_logs.pb-c.h"
#include "otlp_logs_service.pb-c.h"
#include "util/json.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__ArrayValue ArrayValue;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;

/* Wire tags of the length-delimited fields the framing writes: (field << 3) | 2. */
#define TAG_REQUEST_RESOURCE_LOGS  0x0a /* ExportLogsServiceRequest.resource_logs = 1 */
#define TAG_RESOURCE_LOGS_RESOURCE 0x0a /* ResourceLogs.resource = 1 */
#define TAG_RESOURCE_LOGS_SCOPE	   0x12 /* ResourceLogs.scope_logs = 2 */
#define TAG_SCOPE_LOGS_SCOPE	   0x0a /* ScopeLogs.scope = 1 */
#define TAG_SCOPE_LOGS_RECORD	   0x12 /* ScopeLogs.log_records = 2 */

#define MAX_ATTRS 24

static const char *const syslog_names[8] = {"emerg",   "alert",	 "crit", "err",
					    "warning", "notice", "info", "debug"};

int am_otlp_syslog_severity(int level)
{
	static const int map[8] = {
	    OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_FATAL,
	    OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR3,
	    OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR2,
	    OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR,
	    OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN,
	    OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO2,
	    OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO,
	    OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_DEBUG,
	};

	return level >= 0 && level < 8 ? map[level] : 0;
}

/* One record's attributes and the NUL-terminated strings protobuf-c needs (it packs string
 * fields with strlen). The arena is sized before the first string goes in, so its pointers
 * stay valid until the record is packed. */
struct build {
	KeyValue kv[MAX_ATTRS];
	AnyValue val[MAX_ATTRS];
	KeyValue *kvp[MAX_ATTRS];
	size_t n;
	char *arena;
	size_t used;
};

static char *arena_str(struct build *x, const void *data, size_t len)
{
	char *s = x->arena + x->used;

	memcpy(s, data, len);
	s[len] = '\0';
	x->used += len + 1;
	return s;
}

static AnyValue *attr(struct build *x, const char *key)
{
	KeyValue *kv = &x->kv[x->n];
	AnyValue *v = &x->val[x->n];

	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	kv->key = (char *)key;
	kv->value = v;
	x->kvp[x->n++] = kv;
	return v;
}

static void attr_int(struct build *x, const char *key, int64_t val)
{
	AnyValue *v = attr(x, key);

	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	v->int_value = val;
}

static void attr_bool(struct build *x, const char *key, bool val)
{
	AnyValue *v = attr(x, key);

	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
	v->bool_value = val;
}

/* Text from the kernel or a process: a string when it is UTF-8, else its exact bytes. */
static void set_bytes(struct build *x, AnyValue *v, const void *data, size_t len)
{
	if (am_utf8_valid(data, len)) {
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		v->string_value = arena_str(x, data, len);
	} else {
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
		v->bytes_value.data = (uint8_t *)data;
		v->bytes_value.len = len;
	}
}

/* S (LEN bytes) already NUL-terminated in the arena. */
static void set_arena_bytes(AnyValue *v, char *s, size_t len)
{
	if (am_utf8_valid(s, len)) {
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		v->string_value = s;
	} else {
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
		v->bytes_value.data = (uint8_t *)s;
		v->bytes_value.len = len;
	}
}

static void attr_bytes(struct build *x, const char *key, const void *data, size_t len)
{
	set_bytes(x, attr(x, key), data, len);
}

/* protobuf-c output appended to a strbuf. */
struct sb_out {
	ProtobufCBuffer base;
	struct am_strbuf *sb;
};

static void sb_append(ProtobufCBuffer *buf, size_t len, const uint8_t *data)
{
	am_strbuf_append(((struct sb_out *)buf)->sb, data, len);
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Pack REC as one ScopeLogs.log_records entry; the batch is unchanged on failure. */
static int append_record(struct am_otlp_logs *b, LogRecord *rec)
{
	size_t len = opentelemetry__proto__logs__v1__log_record__get_packed_size(rec), before;
	uint8_t head[11], *p = head;
	struct sb_out out = {{sb_append}, &b->records};

	before = b->records.len;
	*p++ = TAG_SCOPE_LOGS_RECORD;
	p = put_varint(p, len);
	am_strbuf_append(&b->records, head, (size_t)(p - head));
	opentelemetry__proto__logs__v1__log_record__pack_to_buffer(rec, &out.base);
	if (b->records.oom) {
		b->records.oom = false;
		b->records.len = before;
		return -ENOMEM;
	}
	b->nrecords++;
	return 0;
}

static int arena_reserve(struct am_otlp_logs *b, struct build *x, size_t need)
{
	if (b->arena_cap < need) {
		char *p = realloc(b->arena, need);

		if (!p)
			return -ENOMEM;
		b->arena = p;
		b->arena_cap = need;
	}
	x->arena = b->arena;
	x->used = 0;
	return 0;
}

static const char *base_name(const char *p, size_t len, size_t *out_len)
{
	const char *slash = memrchr(p, '/', len);

	if (!slash) {
		*out_len = len;
		return p;
	}
	*out_len = len - (size_t)(slash + 1 - p);
	return slash + 1;
}

/* What exec and exit records share: who, where. */
static void process_attrs(struct build *x, const struct am_exec_record *r)
{
	attr_int(x, "process.pid", r->pid);
	attr_int(x, "process.parent_pid", r->ppid);
	attr_int(x, "process.user.id", r->uid);
	attr_int(x, "antimetal.process.group.id", r->gid);
	attr_bytes(x, "antimetal.process.comm", r->comm, strnlen(r->comm, sizeof(r->comm)));
	if (r->cgroup_path) {
		/* process.linux.cgroup is a /proc/PID/cgroup line: on cgroup v2, "0::PATH". */
		size_t plen = strlen(r->cgroup_path);
		char *s = x->arena + x->used;

		memcpy(s, "0::", 3);
		memcpy(s + 3, r->cgroup_path, plen);
		s[plen + 3] = '\0';
		x->used += plen + 4;
		set_arena_bytes(attr(x, "process.linux.cgroup"), s, plen + 3);
	}
	if (r->cgroup_id)
		attr_int(x, "antimetal.cgroup.id", (int64_t)r->cgroup_id);
	if (r->container_id)
		attr_bytes(x, "container.id", r->container_id, strlen(r->container_id));
	if (r->container_runtime)
		attr_bytes(x, "container.runtime", r->container_runtime,
			   strlen(r->container_runtime));
}

static size_t process_need(const struct am_exec_record *r)
{
	size_t n = sizeof(r->comm) + 1;

	if (r->cgroup_path)
		n += strlen(r->cgroup_path) + 4;
	if (r->container_id)
		n += strlen(r->container_id) + 1;
	if (r->container_runtime)
		n += strlen(r->container_runtime) + 1;
	return n;
}

/* The readable summary: the command line, every argument one unambiguous shell word. */
static void exec_body(struct am_strbuf *b, const struct am_exec_record *r)
{
	size_t i;

	if (!r->argc)
		am_shell_quote(b, r->filename.data, r->filename.len);
	for (i = 0; i < r->argc; i++) {
		if (i)
			am_strbuf_putc(b, ' ');
		am_shell_quote(b, r->argv[i].data, r->argv[i].len);
	}
	if (r->ret < 0) {
		const char *name = am_errno_name(-r->ret);

		if (name)
			am_strbuf_printf(b, " [failed: %s]", name);
		else
			am_strbuf_printf(b, " [failed: errno %d]", -r->ret);
	}
}

static void exit_body(struct am_strbuf *b, const struct am_exec_record *r)
{
	am_shell_quote(b, r->comm, strnlen(r->comm, sizeof(r->comm)));
	am_strbuf_printf(b, " (pid %d) ", r->pid);
	if (r->exit_signal && sigabbrev_np(r->exit_signal))
		am_strbuf_printf(b, "killed by SIG%s", sigabbrev_np(r->exit_signal));
	else if (r->exit_signal)
		am_strbuf_printf(b, "killed by signal %d", r->exit_signal);
	else
		am_strbuf_printf(b, "exited with code %d", r->exit_code);
	am_strbuf_printf(b, "%s after %.3f ms", r->core_dumped ? " (core dumped)" : "",
			 (double)r->lifetime_ns / 1e6);
}

static void exec_attrs(struct build *x, const struct am_exec_record *r, ArrayValue *args,
		       AnyValue *argvals, AnyValue **argptrs)
{
	size_t i, nlen;
	const char *name = base_name(r->filename.data, r->filename.len, &nlen);
	AnyValue *v;

	attr_bytes(x, "process.executable.path", r->filename.data, r->filename.len);
	attr_bytes(x, "process.executable.name", name, nlen);
	if (r->argc)
		attr_bytes(x, "process.command", r->argv[0].data, r->argv[0].len);
	for (i = 0; i < r->argc; i++) {
		opentelemetry__proto__common__v1__any_value__init(&argvals[i]);
		set_bytes(x, &argvals[i], r->argv[i].data, r->argv[i].len);
		argptrs[i] = &argvals[i];
	}
	args->n_values = r->argc;
	args->values = argptrs;
	v = attr(x, "process.command_args");
	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
	v->array_value = args;
	if (r->ret < 0) {
		const char *e = am_errno_name(-r->ret);

		if (e)
			attr_bytes(x, "error.type", e, strlen(e));
		attr_int(x, "antimetal.exec.errno", -r->ret);
	}
	if (r->args_truncated)
		attr_bool(x, "antimetal.process.command_args.truncated", true);
	if (r->filename_truncated)
		attr_bool(x, "antimetal.process.executable.path.truncated", true);
	if (r->read_failed)
		attr_bool(x, "antimetal.exec.read_failed", true);
	attr_int(x, "thread.id", r->tid);
}

static void exit_attrs(struct build *x, const struct am_exec_record *r)
{
	if (!r->exit_signal)
		attr_int(x, "process.exit.code", r->exit_code);
	else
		attr_int(x, "antimetal.process.exit.signal", r->exit_signal);
	if (r->core_dumped)
		attr_bool(x, "antimetal.process.core_dumped", true);
	attr_int(x, "antimetal.process.lifetime_ns", (int64_t)r->lifetime_ns);
}

int am_otlp_logs_add_exec(struct am_otlp_logs *b, const struct am_exec_record *r,
			  uint64_t observed_ns)
{
	LogRecord rec = OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	ArrayValue args = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
	AnyValue body = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	AnyValue *argvals = NULL, **argptrs = NULL;
	struct am_strbuf text = {0};
	struct build x = {.n = 0};
	bool exec = r->kind == AM_EXEC_EVENT;
	size_t i, need;
	int err = -ENOMEM;

	if (exec)
		exec_body(&text, r);
	else
		exit_body(&text, r);
	need = process_need(r) + text.len + 1;
	if (exec) {
		need += 2 * (r->filename.len + 1) + (r->argc ? r->argv[0].len + 1 : 0) + 32;
		for (i = 0; i < r->argc; i++)
			need += r->argv[i].len + 1;
		argvals = calloc(r->argc ? r->argc : 1, sizeof(*argvals));
		argptrs = calloc(r->argc ? r->argc : 1, sizeof(*argptrs));
	}
	if (text.oom || (exec && (!argvals || !argptrs)) || arena_reserve(b, &x, need))
		goto out;
	rec.time_unix_nano = r->ts_real_ns;
	rec.observed_time_unix_nano = observed_ns;
	/* A failed exec is worth a look; a successful one is routine. */
	rec.severity_number =
	    exec && r->ret < 0
		? OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN
		: OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO;
	rec.severity_text = exec && r->ret < 0 ? "WARN" : "INFO";
	rec.event_name = exec ? "process.exec" : "process.exit";
	set_bytes(&x, &body, text.data ? text.data : "", text.len);
	rec.body = &body;
	process_attrs(&x, r);
	if (exec)
		exec_attrs(&x, r, &args, argvals, argptrs);
	else
		exit_attrs(&x, r);
	rec.n_attributes = x.n;
	rec.attributes = x.kvp;
	err = append_record(b, &rec);
out:
	am_strbuf_free(&text);
	free(argvals);
	free(argptrs);
	return err;
}

/* /dev/kmsg text is already unescaped by the follower: a string when UTF-8, else bytes. */
int am_otlp_logs_add_kmsg(struct am_otlp_logs *b, const struct am_kmsg_event *k,
			  uint64_t observed_ns)
{
	LogRecord rec = OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	AnyValue body = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	struct build x = {.n = 0};

	if (arena_reserve(b, &x, k->len + 1))
		return -ENOMEM;
	rec.time_unix_nano = k->ts_real_ns;
	rec.observed_time_unix_nano = observed_ns;
	rec.severity_number = am_otlp_syslog_severity(k->severity);
	rec.severity_text =
	    k->severity >= 0 && k->severity < 8 ? (char *)syslog_names[k->severity] : "";
	set_bytes(&x, &body, k->text, k->len);
	rec.body = &body;
	attr_int(&x, "syslog.facility.code", k->facility);
	attr_int(&x, "antimetal.kmsg.sequence", (int64_t)k->seq);
	attr_int(&x, "antimetal.kmsg.boot_time_us", (int64_t)k->ts_boot_us);
	rec.n_attributes = x.n;
	rec.attributes = x.kvp;
	return append_record(b, &rec);
}

size_t am_otlp_logs_bytes(const struct am_otlp_logs *b)
{
	return b->records.len;
}

static uint8_t *put_field(uint8_t *p, uint8_t tag, size_t len)
{
	*p++ = tag;
	return put_varint(p, len);
}

int am_otlp_logs_encode(const struct am_otlp_logs *b,
			const Opentelemetry__Proto__Resource__V1__Resource *res, bool gzip,
			void **out, size_t *len)
{
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
	    OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	size_t scope_len, res_len = 0, sl_len, rl_len, total;
	uint8_t *buf, *p;

	scope.name = AM_OTLP_LOGS_SCOPE;
	scope_len =
	    opentelemetry__proto__common__v1__instrumentation_scope__get_packed_size(&scope);
	if (res)
		res_len = opentelemetry__proto__resource__v1__resource__get_packed_size(res);
	sl_len = 1 + varint_len(scope_len) + scope_len + b->records.len;
	rl_len = 1 + varint_len(sl_len) + sl_len + (res ? 1 + varint_len(res_len) + res_len : 0);
	total = 1 + varint_len(rl_len) + rl_len;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	p = put_field(buf, TAG_REQUEST_RESOURCE_LOGS, rl_len);
	if (res) {
		p = put_field(p, TAG_RESOURCE_LOGS_RESOURCE, res_len);
		p += opentelemetry__proto__resource__v1__resource__pack(res, p);
	}
	p = put_field(p, TAG_RESOURCE_LOGS_SCOPE, sl_len);
	p = put_field(p, TAG_SCOPE_LOGS_SCOPE, scope_len);
	p += opentelemetry__proto__common__v1__instrumentation_scope__pack(&scope, p);
	if (b->records.len)
		memcpy(p, b->records.data, b->records.len);
	return am_otlp_body_finish(buf, total, gzip, out, len);
}

void am_otlp_logs_parse_response(const void *body, size_t len, uint64_t *rejected, char *msg,
				 size_t msglen)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r;
	const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess *ps;

	*rejected = 0;
	if (msglen)
		msg[0] = '\0';
	r = opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
	    NULL, len, body);
	if (!r)
		return;
	ps = r->partial_success;
	if (ps) {
		*rejected = ps->rejected_log_records > 0 ? (uint64_t)ps->rejected_log_records : 0;
		if (msglen && ps->error_message)
			snprintf(msg, msglen, "%s", ps->error_message);
	}
	opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(
	    r, NULL);
}

void am_otlp_logs_reset(struct am_otlp_logs *b)
{
	am_strbuf_reset(&b->records);
	b->nrecords = 0;
}

void am_otlp_logs_free(struct am_otlp_logs *b)
{
	am_strbuf_free(&b->records);
	free(b->arena);
	b->arena = NULL;
	b->arena_cap = 0;
	b->nrecords = 0;
}
