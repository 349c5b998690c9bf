#include "util/log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The log level is process-wide by nature (set once by main); it is the one piece of mutable
 * global state outside main, kept here so every layer can log without threading a handle. */
static enum am_log_level max_level = AM_LOG_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

static void vlog(enum am_log_level level, const char *fmt, va_list ap)
{
	size_t n = strlen(fmt);

	if (level > max_level)
		return;
	fprintf(stderr, "antimetal-agent: %s: ", level_names[level]);
	vfprintf(stderr, fmt, ap);
	if (n == 0 || fmt[n - 1] != '\n')
		fputc('\n', stderr);
}

void am_log(enum am_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* The one libbpf message a user needs without -v: a CO-RE relocation the BTF in use cannot
 * satisfy, naming the type and field (an external BTF of another kernel, or reduced for other
 * objects). It sits inside the verifier log libbpf prints on a failed load. */
static void report_core_failure(const char *fmt, va_list ap)
{
	char *msg = NULL, *p, *end;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	for (p = msg; (p = strstr(p, "failed to resolve CO-RE relocation")); p = end) {
		end = p + strcspn(p, "\n");
		am_log(AM_LOG_ERROR, "%.*s", (int)(end - p), p);
	}
	free(msg);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings are mostly probe noise that we report ourselves in context; show
	 * them (and the verifier log) only at debug level. */
	if (max_level < AM_LOG_DEBUG) {
		if (level == LIBBPF_WARN)
			report_core_failure(fmt, ap);
		return 0;
	}
	(void)level;
	fputs("antimetal-agent: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void am_log_init(enum am_log_level level)
{
	max_level = level;
	libbpf_set_print(libbpf_print);
}
