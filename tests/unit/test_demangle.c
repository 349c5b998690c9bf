/* am_demangle: C++ and Rust names as perf shows them (perf 6.1 on this project's machine shows
 * the same strings for the hot_cpp workload), plain names and garbage left alone, hostile
 * names refused quickly and without leaks; and what the exporters make of demangled names
 * (folded separators, SVG escaping, pprof's name/system_name pair). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/ebpf/profiler.h"
#include "export/flamegraph_svg.h"
#include "export/folded.h"
#include "export/pprof.h"
#include "profile.pb-c.h"
#include "symbolize/demangle.h"
#include "gunzip.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
/* A leak in a Criterion worker is reported on stderr but fails nothing: ask LeakSanitizer. */
#define LEAK_CHECK() cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "leaks (see above)")
#else
#define LEAK_CHECK() ((void)0)
#endif

static void expect(const char *mangled, const char *want)
{
	char *got = am_demangle(mangled);

	cr_assert_not_null(got, "%s: not demangled, want %s", mangled, want);
	cr_expect_str_eq(got, want, "%s", mangled);
	free(got);
}

static void expect_null(const char *name)
{
	char *got = am_demangle(name);

	cr_expect_null(got, "'%s' demangled to '%s'", name, got ? got : "");
	free(got);
}

Test(demangle, cpp_namespaces_templates_operators)
{
	expect("_ZN5outer5inner3bazEv", "outer::inner::baz");
	expect("_ZN5outer5inner3bazINS_1XEEEvT_", "outer::inner::baz<outer::X>");
	expect("_Z3maxIiET_S0_S0_", "max<int>");
	expect("_Z4burnImET_S0_", "burn<unsigned long>");
	expect("_ZNSt6vectorIiSaIiEE9push_backERKi",
	       "std::vector<int, std::allocator<int> >::push_back");
	expect("_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE7reserveEm",
	       "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> "
	       ">::reserve");
	expect("_ZplRK1AS1_", "operator+");
	expect("_ZN7hot_cpp5MixerclEl", "hot_cpp::Mixer::operator()");
	expect("_ZZ4mainENKUlvE_clEv", "main::{lambda()#1}::operator()");
	expect("_ZN3fooC2Ev", "foo::foo");
	expect("_ZN3fooD1Ev", "foo::~foo");
	expect("_ZSt4cout", "std::cout");
}

/* perf's default display: no parameter lists, no cv-qualifiers, clone suffixes dropped. */
Test(demangle, cpp_without_parameters_like_perf)
{
	expect("_ZN3foo3barEi", "foo::bar");
	expect("_ZN3foo3barEd", "foo::bar"); /* an overload: same frame, as in perf */
	expect("_ZNK3foo3getEv", "foo::get");
	expect("_ZN3foo3barEi.constprop.0", "foo::bar");
	expect("_ZN3foo3barEv@plt", "foo::bar");
	/* Without parameters nothing after the name is parsed, as in perf. */
	expect("_ZN3foo3barEi\x80", "foo::bar");
}

Test(demangle, cpp_anonymous_namespace_and_internal_linkage)
{
	expect("_ZN12_GLOBAL__N_14workEv", "(anonymous namespace)::work");
	expect("_ZN12_GLOBAL__N_15churnEm", "(anonymous namespace)::churn");
	expect("_ZL13round_of_workv", "round_of_work");
}

Test(demangle, rust_legacy_without_hash)
{
	expect("_ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write");
	expect("_ZN4core3ptr85drop_in_place$LT$std..rt..lang_start$LT$$LP$$RP$$GT$..$u7b$$u7b$"
	       "closure$u7d$$u7d$$GT$17h0123456789abcdefE",
	       "core::ptr::drop_in_place<std::rt::lang_start<()>::{{closure}}>");
	expect("_ZN3std2rt10lang_start17h5d1b0a5b8c2e7f91E", "std::rt::lang_start");
}

Test(demangle, rust_v0)
{
	expect("_RNvCs1234_7mycrate3foo", "mycrate::foo");
	expect("_RNvMNtCs4fqI2P2rA04_11utf8_locale6stringNtB2_10Utf8String3len",
	       "<utf8_locale::string::Utf8String>::len");
	expect("_RNCNvCsgStHSCytQ6I_7mycrate4main0B3_", "mycrate::main::{closure#0}");
	expect("_RNvXs_Cs1_3fooAhj4_NtB4_5Trait6method", "<[u8; 4] as foo::Trait>::method");
	expect("_RINvC1a1fINtC1a1BuuEINtC1a1BB7_B7_EE",
	       "a::f::<a::B<(), ()>, a::B<a::B<(), ()>, a::B<(), ()>>>");
	/* A non-ASCII identifier (punycode): "grüße". */
	expect("_RNvCs1_7mycrateu9gre_6ka8l", "mycrate::gr\xc3\xbc\xc3\x9f"
					      "e");
}

Test(demangle, plain_names_are_left_alone)
{
	static const char *const plain[] = {
	    "main",
	    "hot_a",
	    "__libc_start_call_main",
	    "clock_gettime@@GLIBC_2.17",
	    "[unknown]",
	    "",
	    "_start",
	    "_init",
	    "_GLOBAL__sub_I_main",
	    "Z3foov",
	    "_",
	    "__Z3foov",
	};
	size_t i;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		expect_null(plain[i]);
	expect_null(NULL);
}

Test(demangle, garbage_is_refused)
{
	static const char *const bad[] = {
	    "_Z",
	    "_ZN",
	    "_ZN3foo",
	    "_R",
	    "_RNv",
	    "_RNvC",
	    "_ZNSt",
	    "_Z999999999999foo",
	    "_Z1fIS9999_E",
	    "_RNvCs1_7mycrate3f\xff",
	    "_RB_",
	    "_RINvC1a1fB_E",
	    "_ZSt",
	    "_Z\x01\x02\x03",
	    "_RNvCs1_7mycrateu9gre_6ka8!",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_null(bad[i]);
}

/* Every prefix of real symbols, and each byte replaced by a few others: whatever comes back
 * must be freeable and nothing may crash (the ASan build runs this too). */
Test(demangle, truncated_and_mutated_symbols_do_not_crash)
{
	static const char *const seeds[] = {
	    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE7reserveEm",
	    "_ZZ4mainENKUlvE_clEv",
	    "_ZN5outer5inner3bazINS_1XEEEvT_",
	    "_ZN4core3ptr85drop_in_place$LT$std..rt..lang_start$LT$$LP$$RP$$GT$..$u7b$$u7b$"
	    "closure$u7d$$u7d$$GT$17h0123456789abcdefE",
	    "_RNvMNtCs4fqI2P2rA04_11utf8_locale6stringNtB2_10Utf8String3len",
	    "_RINvC1a1fINtC1a1BuuEINtC1a1BB7_B7_EE",
	    "_RNvCs1_7mycrateu9gre_6ka8l",
	};
	static const char repl[] = {'\0', '_', 'S', 'B', 'I', 'E', '9', '$', '\x80'};
	char buf[256];
	size_t i, j, k, n = 0;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		size_t len = strlen(seeds[i]);

		cr_assert_lt(len, sizeof(buf));
		for (j = 0; j <= len; j++) {
			memcpy(buf, seeds[i], j);
			buf[j] = '\0';
			free(am_demangle(buf));
			for (k = 0; k < sizeof(repl) && j < len; k++, n++) {
				memcpy(buf, seeds[i], len + 1);
				buf[j] = repl[k];
				free(am_demangle(buf));
			}
		}
	}
	cr_assert_gt(n, 1000);
	LEAK_CHECK();
}

/* A legacy Rust name of LEN bytes: "_ZN" + 38 x ("100" + 100 x 'a') + "<L>" + L x 'b' + the
 * hash + "E". */
static char *long_name(size_t len)
{
	static const char hash[] = "17h0123456789abcdefE";
	size_t last = len - 3 - 38 * 103 - 3 - strlen(hash), i;
	char *s = malloc(len + 1), *p = s;

	cr_assert(last >= 100 && last <= 999);
	p += sprintf(p, "_ZN");
	for (i = 0; i < 38; i++) {
		p += sprintf(p, "100");
		memset(p, 'a', 100);
		p += 100;
	}
	p += sprintf(p, "%zu", last);
	memset(p, 'b', last);
	strcpy(p + last, hash);
	cr_assert_eq(strlen(s), len);
	return s;
}

Test(demangle, length_limit)
{
	char *ok = long_name(AM_DEMANGLE_MAX_IN), *over = long_name(AM_DEMANGLE_MAX_IN + 1), *got;
	char cxx[1100];

	got = am_demangle(ok);
	cr_assert_not_null(got, "a name of exactly the limit is demangled");
	cr_assert_eq(strlen(got), 38 * 102 + 156, "38 x (100 x 'a' + '::') + 156 x 'b'");
	cr_assert_null(am_demangle(over), "a name over the limit is kept raw");
	free(got);
	free(ok);
	free(over);
	/* libiberty's own limit for C++ (its arrays live on the stack): 1024 bytes. */
	memset(cxx, 'a', sizeof(cxx));
	memcpy(cxx, "_ZN1000", 7);
	strcpy(cxx + 7 + 1000, "3barE");
	cr_assert_eq(strlen(cxx), 1012);
	got = am_demangle(cxx);
	cr_assert_not_null(got, "1012 bytes of C++");
	free(got);
	strcpy(cxx + 7 + 1000, "20aaaaaaaaaaaaaaaaaaaaE");
	cr_assert_eq(strlen(cxx), 1030);
	expect_null(cxx);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Base-36 substitution S<n>_ (C++) and base-62 back reference <n>_ (Rust v0). */
static void cpp_sub(char *out, unsigned i)
{
	static const char d[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char tmp[16];
	int n = 0;

	if (!i) {
		strcpy(out, "S_");
		return;
	}
	for (i--; n == 0 || i; i /= 36)
		tmp[n++] = d[i % 36];
	*out++ = 'S';
	while (n)
		*out++ = tmp[--n];
	strcpy(out, "_");
}

static void rust_ref(char *out, unsigned x)
{
	static const char d[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char tmp[16];
	int n = 0;

	if (!x) {
		strcpy(out, "_");
		return;
	}
	for (x--; n == 0 || x; x /= 62)
		tmp[n++] = d[x % 62];
	while (n)
		*out++ = tmp[--n];
	strcpy(out, "_");
}

/* f<T_0, ..., T_N> with T_0 = B<A, A> and T_k = B<T_k-1, T_k-1> through substitutions: a few
 * bytes per level, twice the output per level. */
static char *cpp_doubling(unsigned levels)
{
	char *s = malloc(32 + 24 * levels), a[16], b[16];
	unsigned k;

	/* Substitution candidates: f S_, B S0_, A S1_, B<A, A> S2_, then each T_k. */
	strcpy(s, "_Z1fI1BI1AS1_E");
	for (k = 0; k < levels; k++) {
		cpp_sub(a, 1);
		cpp_sub(b, 3 + k);
		sprintf(s + strlen(s), "%sI%s%sE", a, b, b);
	}
	strcat(s, "EvT_");
	return s;
}

/* The same in Rust v0 through back references; IDENT names the generic type. */
static char *rust_doubling(unsigned levels, const char *ident)
{
	char *s = malloc(64 + (32 + strlen(ident)) * (levels + 1)), *body, r[16];
	size_t prev;
	unsigned k;

	strcpy(s, "_RINvC1a1f");
	body = s + 2; /* back references count from after "_R" */
	prev = strlen(body);
	sprintf(s + strlen(s), "INtC1a%suuE", ident);
	for (k = 0; k < levels; k++) {
		size_t here = strlen(body);

		rust_ref(r, (unsigned)prev);
		sprintf(s + strlen(s), "INtC1a%sB%sB%sE", ident, r, r);
		prev = here;
	}
	strcat(s, "E");
	return s;
}

static void expect_refused_fast(char *name)
{
	double t = now_s();
	char *got = am_demangle(name);

	cr_expect_null(got, "%zu-byte name expanded to %zu bytes", strlen(name),
		       got ? strlen(got) : 0);
	cr_expect_lt(now_s() - t, 1.0, "%zu-byte name took %.2f s", strlen(name), now_s() - t);
	free(got);
	free(name);
}

/* A few hundred bytes expand to gigabytes: libiberty's cplus_demangle() itself was still
 * printing cpp_doubling(70) (860 bytes) after 20 s and 1.5 GB, rust_doubling(30) (347 bytes)
 * after 20 s and 1 GB. The output is capped instead. */
Test(demangle, exponential_expansion_is_cut_off, .timeout = 30)
{
	char *small = cpp_doubling(3), *got = am_demangle(small);

	cr_assert_not_null(got, "a small one still demangles: %s", small);
	cr_assert(strstr(got, "f<B<A, A>, B<B<A, A>, B<A, A> >, "), "%s", got);
	free(got);
	free(small);
	expect_refused_fast(cpp_doubling(30));
	expect_refused_fast(cpp_doubling(70));
	expect_refused_fast(rust_doubling(30, "1B"));
	expect_refused_fast(rust_doubling(250, "1B"));
	LEAK_CHECK();
}

/* The Rust demangler prints a non-ASCII identifier from a buffer it frees after the callback:
 * cut off while that is printed, it must not leak (LeakSanitizer checks in the ASan build). */
Test(demangle, cut_off_in_a_non_ascii_identifier_does_not_leak, .timeout = 30)
{
	/* "ü" x 300 in punycode ("tda" and 299 'a'): most of the output comes from that
	 * buffer. */
	char ident[320] = "u302tda";
	unsigned levels;
	char *one, *got;

	memset(ident + 7, 'a', 299);
	ident[306] = '\0';
	one = rust_doubling(0, ident);
	got = am_demangle(one);

	cr_assert_not_null(got, "%s", one);
	cr_assert_gt(strlen(got), 600, "the identifier decodes to 300 two-byte characters");
	free(got);
	free(one);
	for (levels = 6; levels < 12; levels++)
		expect_refused_fast(rust_doubling(levels, ident));
	LEAK_CHECK();
}

/* Frames as the profiler builds them: FUNC demangled, SYSTEM_NAME mangled. */
static struct am_profile_frame frame(const char *mangled, uint64_t addr)
{
	char *d = am_demangle(mangled);
	struct am_profile_frame f = {.addr = addr,
				     .func = d ? d : strdup(mangled),
				     .system_name = d ? strdup(mangled) : NULL,
				     .module = strdup("/bin/prog"),
				     .mapping = 0};

	return f;
}

static void build(struct am_profile *p)
{
	static const char *const names[2][5] = {
	    {"_RNvXs_Cs1_3fooAhj4_NtB4_5Trait6method", "_ZN12_GLOBAL__N_15churnEm",
	     "_Z4burnImET_S0_", "main", NULL},
	    {"_ZN3foo3barEi", "_ZN3foo3barEd", "main", NULL, NULL}};
	int i, j;

	memset(p, 0, sizeof(*p));
	strcpy(p->event, "cpu-clock");
	p->freq = 99;
	p->nmappings = 1;
	p->mappings = calloc(1, sizeof(*p->mappings));
	p->mappings[0] =
	    (struct am_profile_mapping){0x1000, 0x9000, 0, strdup("/bin/prog"), strdup(""), true};
	p->nstacks = 2;
	p->stacks = calloc(2, sizeof(*p->stacks));
	for (i = 0; i < 2; i++) {
		struct am_profile_stack *s = &p->stacks[i];

		strcpy(s->comm, "prog");
		s->count = i ? 3 : 5;
		for (j = 0; names[i][j]; j++)
			;
		s->nframes = (size_t)j;
		s->frames = calloc(s->nframes, sizeof(*s->frames));
		for (j = 0; names[i][j]; j++)
			s->frames[j] = frame(names[i][j], 0x1100 + 0x10 * (uint64_t)j);
		p->total += s->count;
	}
}

/* Spaces, "(anonymous namespace)" and Rust's "[u8; 4]" in names: every line still reads as
 * FRAME;FRAME;... COUNT, a ';' in a name becoming ':'. */
Test(demangle, folded_lines_stay_parseable)
{
	struct am_strbuf out = {0};
	struct am_profile p;
	char *line, *save, *sp;
	int lines = 0;

	build(&p);
	cr_assert_eq(am_folded_render(&p, &out), 0);
	cr_assert_str_eq(out.data,
			 "prog;main;burn<unsigned long>;(anonymous namespace)::churn;<[u8: 4] as "
			 "foo::Trait>::method 5\n"
			 "prog;main;foo::bar;foo::bar 3\n");
	for (line = strtok_r(out.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t seps = 0;
		char *c;

		sp = strrchr(line, ' ');
		cr_assert_not_null(sp);
		cr_assert_gt(strtoull(sp + 1, &c, 10), 0);
		cr_assert_eq(*c, '\0', "the count ends the line: %s", line);
		for (c = line; c < sp; c++)
			seps += *c == ';';
		cr_assert_eq(seps, lines ? 3 : 4, "frames of '%s'", line);
		lines++;
	}
	cr_assert_eq(lines, 2);
	am_strbuf_free(&out);
	am_profile_free(&p);
}

Test(demangle, svg_escapes_demangled_names)
{
	struct am_strbuf out = {0};
	struct am_profile p;

	build(&p);
	cr_assert_eq(am_flamegraph_svg_render(&p, NULL, &out), 0);
	cr_assert(strstr(out.data, "burn&lt;unsigned long&gt;"), "%s", out.data);
	cr_assert(strstr(out.data, "(anonymous namespace)::churn"));
	cr_assert_null(strstr(out.data, "<unsigned"), "an unescaped '<' breaks the XML");
	am_strbuf_free(&out);
	am_profile_free(&p);
}

/* pprof: name demangled, system_name mangled (plain names: both the same); two overloads
 * that demangle alike stay two functions. */
Test(demangle, pprof_has_the_mangled_name_as_system_name)
{
	struct am_strbuf gz = {0}, raw = {0};
	Perftools__Profiles__Profile *pb;
	struct am_profile p;
	int bar = 0, seen = 0;
	size_t i;

	build(&p);
	cr_assert_eq(am_pprof_render(&p, &gz), 0);
	am_test_gunzip(gz.data, gz.len, &raw);
	pb = perftools__profiles__profile__unpack(NULL, raw.len, (uint8_t *)raw.data);
	cr_assert_not_null(pb);
	cr_assert_eq(pb->n_function, 6, "4 distinct functions + 2 overloads of foo::bar");
	for (i = 0; i < pb->n_function; i++) {
		const char *name = pb->string_table[pb->function[i]->name];
		const char *sys = pb->string_table[pb->function[i]->system_name];

		if (!strcmp(name, "burn<unsigned long>")) {
			cr_expect_str_eq(sys, "_Z4burnImET_S0_");
			seen |= 1;
		} else if (!strcmp(name, "(anonymous namespace)::churn")) {
			cr_expect_str_eq(sys, "_ZN12_GLOBAL__N_15churnEm");
			seen |= 2;
		} else if (!strcmp(name, "main")) {
			cr_expect_str_eq(sys, "main");
			seen |= 4;
		} else if (!strcmp(name, "foo::bar")) {
			cr_expect(!strcmp(sys, "_ZN3foo3barEi") || !strcmp(sys, "_ZN3foo3barEd"),
				  "%s", sys);
			bar++;
		}
	}
	cr_expect_eq(seen, 7);
	cr_expect_eq(bar, 2);
	perftools__profiles__profile__free_unpacked(pb, NULL);
	am_strbuf_free(&gz);
	am_strbuf_free(&raw);
	am_profile_free(&p);
}
