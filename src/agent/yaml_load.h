/* Loading a YAML document from a file a user controls (the configuration, the web
 * configuration): bounded while libyaml streams it, with every error as FILE:LINE:COLUMN. */
#ifndef ANTIMETAL_AGENT_YAML_LOAD_H
#define ANTIMETAL_AGENT_YAML_LOAD_H

#include <stdarg.h>
#include <stddef.h>
#include <yaml.h>

/* Nesting allowed; both files are three levels deep. */
#define AM_YAML_MAX_DEPTH 16

/* Parse TEXT (LEN bytes, named NAME in errors) into DOC. Refused as the events stream by,
 * before libyaml builds a document: nesting past AM_YAML_MAX_DEPTH (the loader's cost grows
 * with the square of the depth), aliases (a walk would expand them), tags (`!!str 80` would
 * turn a number into a string behind the reader's back) and a second document. Returns 0 (free
 * DOC with yaml_document_delete) or -EINVAL / -ENOMEM with "NAME:LINE:COLUMN: reason" in ERR. */
int am_yaml_load(const char *text, size_t len, const char *name, yaml_document_t *doc, char *err,
		 size_t errlen);

/* Print FMT into ERR (ERRLEN bytes; nothing when ERR is NULL or ERRLEN 0). */
void am_yaml_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "NAME:LINE:COLUMN: " and FMT for mark M into ERR, as every YAML error is reported. Returns
 * -EINVAL. */
int am_yaml_verr_at(char *err, size_t errlen, const char *name, yaml_mark_t m, const char *fmt,
		    va_list ap) __attribute__((format(printf, 5, 0)));

#endif
