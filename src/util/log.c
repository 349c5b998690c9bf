#include "util/log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The log level is process-wide by nature (set once by main); it is the one piece of mutable
 * global state outside main, kept here so every layer can log without threading a handle. */
static enum am_log_level max_level = AM_LOG_INFO;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

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

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings are mostly probe noise that we report ourselves in context; show
	 * them (and the verifier log) only at debug level. */
	if (max_level < AM_LOG_DEBUG)
		return 0;
	(void)level;
	fputs("antimetal-agent: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void am_log_init(enum am_log_level level)
{
	max_level = level;
	libbpf_set_print(libbpf_print);
}
