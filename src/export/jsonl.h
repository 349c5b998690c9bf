/* JSON lines export: one self-describing object per line ({"type":..,"host":..,"timestamp":..}),
 * to stdout or to a file rotated by size (path, path.1, .. path.N, oldest dropped). */
#ifndef ANTIMETAL_EXPORT_JSONL_H
#define ANTIMETAL_EXPORT_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

struct am_jsonl {
	int fd;	      /* -1 when closed */
	bool rotates; /* false for stdout */
	char *path;
	uint64_t max_bytes; /* rotate before a line would take the file past this */
	unsigned keep;	    /* rotated files kept */
	uint64_t size;	    /* bytes in the current file */
	uint64_t lines;	    /* lines written since open */
	uint64_t errors;    /* lines lost to write errors (a cut partial line included) */
	uint64_t reopened;  /* times the file was found deleted and created again */
	bool failing;	    /* the last write failed: the next failure is not logged again */
};

/* Open PATH for appending ("-" = stdout, never rotated). Returns 0 or -errno (logged). */
int am_jsonl_open(struct am_jsonl *w, const char *path, uint64_t max_bytes, unsigned keep);
/* Write one complete line (LINE ends with '\n'), rotating first when it would not fit.
 * Returns 0 or -errno (logged once per failure streak). */
int am_jsonl_write(struct am_jsonl *w, const char *line, size_t len);
/* Close the file; W can be opened again. */
void am_jsonl_close(struct am_jsonl *w);

/* Start a line: {"type":TYPE,"host":HOST,"timestamp":"RFC 3339 UTC","timestamp_ns":N
 * (the object is left open for the caller's fields). */
void am_jsonl_begin(struct am_strbuf *b, const char *type, const char *host, uint64_t ts_ns);
/* Close the object started by am_jsonl_begin and end the line. */
void am_jsonl_end(struct am_strbuf *b);

#endif
