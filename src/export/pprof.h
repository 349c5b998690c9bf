/* pprof output: the profile.proto message (protobuf-c), gzip-compressed (zlib), as
 * go tool pprof, Pyroscope and Parca read it. */
#ifndef ANTIMETAL_EXPORT_PPROF_H
#define ANTIMETAL_EXPORT_PPROF_H

#include "records/profile.h"
#include "util/strbuf.h"

/* Append PROF as a gzipped pprof profile to OUT. Samples carry the labels "pid" and "comm"
 * (num and string), "ns_pid" (num: the pid in the process's PID namespace, where it differs),
 * "cgroup" (the cgroup v2 path; "cgroup_id", num, where the path is unknown), "container_id"
 * and "pod_uid" (where the cgroup path names them);
 * function names are the labels the folded output uses. What the profile lost is in it too:
 * a comment naming every nonzero lost part, and one sample per part of samples that never
 * reached the profile, its single frame named "[lost: <reason>]". Returns 0 or -errno. */
int am_pprof_render(const struct am_profile *prof, struct am_strbuf *out);

#endif
