/* The spec's compatibility matrix: Full (native BTF, 5.2+), Partial (external BTF, 4.18-5.1),
 * None (no BTF, or a kernel before 4.18). */
#ifndef ANTIMETAL_CORE_CO_RE_LEVEL_H
#define ANTIMETAL_CORE_CO_RE_LEVEL_H

#include <stddef.h>

#include "core/btf_search.h"
#include "core/kversion.h"

enum am_core_level { AM_CORE_NONE, AM_CORE_PARTIAL, AM_CORE_FULL };

/* "Full", "Partial" or "None". */
const char *am_core_level_name(enum am_core_level level);

/* The level for kernel KV (NULL when its release did not parse) using BTF from SRC
 * (AM_BTF_NONE when none was found); WHY gets the one-line reason. Native BTF is Full on any
 * kernel that has it (distributions backport it to 4.18); an external file is Partial. */
enum am_core_level am_core_level_of(const struct am_kver *kv, enum am_btf_source src, char *why,
				    size_t whylen);

#endif
