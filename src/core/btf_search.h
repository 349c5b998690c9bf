/* The BTF search under a root prefix, so tests (and `check --root`) can run it against fake
 * trees. am_btf_resolve() (btf_discovery.h) is this search applied to the live host. */
#ifndef ANTIMETAL_CORE_BTF_SEARCH_H
#define ANTIMETAL_CORE_BTF_SEARCH_H

#include <limits.h>
#include <stddef.h>

/* Compiled default of the btfhub-layout archive; ANTIMETAL_BTF_ARCHIVE overrides it. */
#define AM_BTF_ARCHIVE_DEFAULT "/var/lib/antimetal-agent/btf"

/* Where a BTF file came from, in search order. */
enum am_btf_source {
	AM_BTF_NONE,	 /* nothing found */
	AM_BTF_EXPLICIT, /* --btf FILE */
	AM_BTF_ENV,	 /* ANTIMETAL_BTF_PATH */
	AM_BTF_NATIVE,	 /* /sys/kernel/btf/vmlinux */
	AM_BTF_ARCHIVE,	 /* <archive>/<os id>/<os version>/<arch>/<release>.btf */
	AM_BTF_BOOT,	 /* /boot/vmlinux-<release> */
	AM_BTF_MODULES,	 /* /lib/modules/<release>/vmlinux-<release> */
	AM_BTF_DEBUG,	 /* /usr/lib/debug/boot/vmlinux-<release> */
};

/* Inputs of one search. NULL fields are filled from the host: ROOT "/" , RELEASE and ARCH from
 * uname(2), OS_ID and OS_VERSION from <root>/etc/os-release, ARCHIVE_DIR from
 * ANTIMETAL_BTF_ARCHIVE or AM_BTF_ARCHIVE_DEFAULT under ROOT. EXPLICIT, ENV_PATH and an
 * ARCHIVE_DIR given here are taken literally (not under ROOT): they are paths the user typed. */
struct am_btf_search {
	const char *root;
	const char *explicit_path;
	const char *env_path;
	const char *release;
	const char *os_id;
	const char *os_version;
	const char *arch;
	const char *archive_dir;
};

/* What the search found. */
struct am_btf_found {
	enum am_btf_source source;
	char path[PATH_MAX];   /* the file, root prefix included */
	unsigned int nr_types; /* types in the parsed BTF */
};

/* Run the search: the first existing candidate is parsed with btf__parse. Returns 0 with *OUT
 * filled; -ENOENT when nothing exists (the candidates tried are logged); -EINVAL (or the parse
 * errno) when the found file is not valid BTF, with a message naming the file. */
int am_btf_find(const struct am_btf_search *s, struct am_btf_found *out);

/* Short name of SRC for reports ("native", "btfhub archive", ...). */
const char *am_btf_source_name(enum am_btf_source src);

/* Read ID and VERSION_ID from <ROOT>/etc/os-release (quotes removed). Returns 0 or -errno;
 * a missing key leaves its buffer "". */
int am_os_release_read(const char *root, char *id, size_t idlen, char *ver, size_t verlen);

/* btfhub's name for a uname machine (aarch64 -> arm64; others unchanged). */
const char *am_btf_hub_arch(const char *machine);

#endif
