/* One logger for the whole agent: level-filtered lines on stderr, and libbpf's output routed
 * through it so verifier logs appear only when asked for. */
#ifndef ANTIMETAL_UTIL_LOG_H
#define ANTIMETAL_UTIL_LOG_H

enum am_log_level { AM_LOG_ERROR, AM_LOG_WARN, AM_LOG_INFO, AM_LOG_DEBUG };

/* Set the most verbose level printed (default AM_LOG_INFO); also wires libbpf's printer. */
void am_log_init(enum am_log_level max_level);
/* Print one line at LEVEL; a newline is added when FMT lacks one. */
void am_log(enum am_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define am_err(...)   am_log(AM_LOG_ERROR, __VA_ARGS__)
#define am_warn(...)  am_log(AM_LOG_WARN, __VA_ARGS__)
#define am_info(...)  am_log(AM_LOG_INFO, __VA_ARGS__)
#define am_debug(...) am_log(AM_LOG_DEBUG, __VA_ARGS__)

#endif
