/* Kernel release strings ("5.15.0-1034-aws", "4.18.0-553.el8_10.x86_64", "5.4.0-rc1"): parsing
 * and comparison, so features can be gated on the version where probing is not possible. */
#ifndef ANTIMETAL_CORE_KVERSION_H
#define ANTIMETAL_CORE_KVERSION_H

#include <stdbool.h>
#include <stdint.h>

struct am_kver {
	unsigned int major, minor, patch;
	unsigned int rc; /* N of a "-rcN" release candidate, 0 for a release */
	char extra[128]; /* everything after the numbers ("-553.el8_10.x86_64"), maybe truncated */
};

/* Parse RELEASE (uname -r). Returns 0, or -EINVAL for anything that is not
 * MAJOR.MINOR[.PATCH] followed by nothing or a '-', '+', '_' or '~' suffix. */
int am_kver_parse(const char *release, struct am_kver *v);

/* Parse the running kernel's release. Returns 0 or -errno. */
int am_kver_host(struct am_kver *v);

/* <0, 0, >0 like strcmp: by major, minor, patch, then an rc sorts before its release.
 * Distribution suffixes do not count. */
int am_kver_cmp(const struct am_kver *a, const struct am_kver *b);

/* Whether V is MAJOR.MINOR.PATCH or later (an rc of it counts as that version, as the
 * features it gates were merged by rc1). */
bool am_kver_at_least(const struct am_kver *v, unsigned int major, unsigned int minor,
		      unsigned int patch);

/* LINUX_VERSION_CODE of V (patch saturated at 255, as the kernel does). */
uint32_t am_kver_code(const struct am_kver *v);

#endif
