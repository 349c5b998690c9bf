#include "core/co_re_level.h"

#include <stdio.h>

const char *am_core_level_name(enum am_core_level level)
{
	switch (level) {
	case AM_CORE_FULL:
		return "Full";
	case AM_CORE_PARTIAL:
		return "Partial";
	case AM_CORE_NONE:
		break;
	}
	return "None";
}

enum am_core_level am_core_level_of(const struct am_kver *kv, enum am_btf_source src, char *why,
				    size_t whylen)
{
	if (kv && !am_kver_at_least(kv, 4, 18, 0)) {
		snprintf(why, whylen, "kernel %u.%u is older than 4.18: no CO-RE", kv->major,
			 kv->minor);
		return AM_CORE_NONE;
	}
	switch (src) {
	case AM_BTF_NONE:
		snprintf(why, whylen,
			 "no BTF: no native /sys/kernel/btf/vmlinux and no external file "
			 "(btfhub archive, /boot, or a file named by the user)");
		return AM_CORE_NONE;
	case AM_BTF_NATIVE:
		snprintf(why, whylen, "native BTF%s",
			 kv && !am_kver_at_least(kv, 5, 2, 0) ? " (backported to this kernel)"
							      : "");
		return AM_CORE_FULL;
	default:
		snprintf(why, whylen, "external BTF (%s)", am_btf_source_name(src));
		return AM_CORE_PARTIAL;
	}
}
