/* C++ and Rust symbol demangling for user frames, through libiberty (binutils' and perf's
 * demangler): GNU v3 (Itanium) C++, Rust legacy (hash dropped) and Rust v0. */
#ifndef ANTIMETAL_SYMBOLIZE_DEMANGLE_H
#define ANTIMETAL_SYMBOLIZE_DEMANGLE_H

/* Longer names are not demangled: a bound on the work spent on untrusted input. libiberty
 * refuses C++ names over 1024 bytes by itself (its arrays, proportional to the name, live on
 * the stack); its Rust demangler has no such limit. */
#define AM_DEMANGLE_MAX_IN 4096
/* A demangled name that would be longer is abandoned: substitutions let a few hundred bytes of
 * hostile mangling expand exponentially, and libiberty bounds only the recursion depth. */
#define AM_DEMANGLE_MAX_OUT 65536

/* NAME demangled as perf shows it by default (no parameter lists, templates kept:
 * `ns::Class<int>::method`), in a malloc'd string; NULL when NAME is not mangled, cannot be
 * demangled, or is beyond the limits above (the caller keeps the raw name). NAME is untrusted
 * (from an ELF file or a JIT map); NULL is fine. */
char *am_demangle(const char *name);

#endif
