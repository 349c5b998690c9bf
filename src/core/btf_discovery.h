/* BTF discovery: which BTF the CO-RE loader should use on this host. */
#ifndef ANTIMETAL_CORE_BTF_DISCOVERY_H
#define ANTIMETAL_CORE_BTF_DISCOVERY_H

#include <stddef.h>

/* Resolve the BTF for loading BPF objects. EXPLICIT (--btf FILE, may be NULL) wins, then the
 * ANTIMETAL_BTF_PATH environment variable, then native /sys/kernel/btf/vmlinux, then the
 * archive and /boot search. On success OUT is "" when native BTF is to be used (pass NULL as
 * btf_custom_path) or the path of a parsed, valid external BTF file. Returns 0, or -errno with
 * a message naming the file and the problem already logged. */
int am_btf_resolve(const char *explicit_path, char *out, size_t outlen);

#endif
