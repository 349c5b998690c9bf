/* pprof output: the profile.proto message (protobuf-c), gzip-compressed (zlib), as
 * go tool pprof, Pyroscope and Parca read it. */
#ifndef ANTIMETAL_EXPORT_PPROF_H
#define ANTIMETAL_EXPORT_PPROF_H

#include "collectors/ebpf/profiler.h"
#include "util/strbuf.h"

/* Append PROF as a gzipped pprof profile to OUT. Samples carry "pid" and "comm" labels;
 * function names are the labels the folded output uses. Returns 0 or -errno. */
int am_pprof_render(const struct am_profile *prof, struct am_strbuf *out);

/* Gzip LEN bytes of DATA onto OUT (one gzip member). Returns 0 or -errno. */
int am_gzip(const void *data, size_t len, struct am_strbuf *out);

#endif
