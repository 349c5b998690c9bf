#include "agent/yaml_load.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#define XSTR(x) #x
#define STR(x)	XSTR(x)

void am_yaml_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int am_yaml_verr_at(char *err, size_t errlen, const char *name, yaml_mark_t m, const char *fmt,
		    va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	am_yaml_errf(err, errlen, "%s:%zu:%zu: %s", name, m.line + 1, m.column + 1, msg);
	return -EINVAL;
}
/* Line and column (1-based) of byte OFFSET in TEXT: libyaml gives reader errors (bad UTF-8)
 * as an offset only. */
static void offset_position(const char *text, size_t len, size_t offset, size_t *line, size_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < offset && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int yaml_error(yaml_parser_t *parser, const char *text, size_t len, const char *name,
		      char *err, size_t errlen)
{
	const char *what = parser->problem ? parser->problem : "cannot be parsed";
	size_t line = parser->problem_mark.line + 1, col = parser->problem_mark.column + 1;

	if (parser->error == YAML_READER_ERROR)
		offset_position(text, len, parser->problem_offset, &line, &col);
	am_yaml_errf(err, errlen, "%s:%zu:%zu: YAML error: %s%s%s", name, line, col, what,
		     parser->context ? " " : "", parser->context ? parser->context : "");
	return parser->error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
}

/* What neither file needs (see am_yaml_load); a second document would be ignored silently. */
static int check_event(const yaml_event_t *e, int *depth, int *docs, const char *name, char *err,
		       size_t errlen)
{
	const yaml_mark_t *m = &e->start_mark;
	const char *why = NULL;

	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			why = "a second YAML document: the file is one document";
		break;
	case YAML_ALIAS_EVENT:
		why = "aliases (*name) are not supported here";
		break;
	case YAML_SCALAR_EVENT:
		if (e->data.scalar.tag)
			why = "tags (like !!str) are not supported: write the value plainly";
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (e->data.sequence_start.tag && e->type == YAML_SEQUENCE_START_EVENT)
			why = "tags (like !!seq) are not supported";
		else if (e->type == YAML_MAPPING_START_EVENT && e->data.mapping_start.tag)
			why = "tags (like !!map) are not supported";
		else if (++*depth > AM_YAML_MAX_DEPTH)
			why = "nested deeper than " STR(AM_YAML_MAX_DEPTH) " levels";
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		break;
	default:
		break;
	}
	if (!why)
		return 0;
	am_yaml_errf(err, errlen, "%s:%zu:%zu: %s", name, m->line + 1, m->column + 1, why);
	return -EINVAL;
}

/* Stream the events once, stopping at the first thing check_event refuses, so a hostile file
 * costs no more than its size. */
static int prescan(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
	yaml_parser_t parser;
	int depth = 0, docs = 0, rc = 0;
	yaml_event_t e;
	bool done = false;

	if (!yaml_parser_initialize(&parser)) {
		am_yaml_errf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && !rc) {
		if (!yaml_parser_parse(&parser, &e)) {
			rc = yaml_error(&parser, text, len, name, err, errlen);
			break;
		}
		rc = check_event(&e, &depth, &docs, name, err, errlen);
		done = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&parser);
	return rc;
}

int am_yaml_load(const char *text, size_t len, const char *name, yaml_document_t *doc, char *err,
		 size_t errlen)
{
	yaml_parser_t parser;
	int rc = prescan(text, len, name, err, errlen);

	if (rc)
		return rc;
	if (!yaml_parser_initialize(&parser)) {
		am_yaml_errf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, doc))
		rc = yaml_error(&parser, text, len, name, err, errlen);
	yaml_parser_delete(&parser);
	return rc;
}
