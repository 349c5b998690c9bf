/* Options declared once, as data (perf's parse-options, bpftool's command tables): one table per
 * subcommand gives getopt_long's table, the help text with the defaults and limits it prints, and
 * the checks of numeric values, so the parser and the text cannot drift. Every subcommand reports
 * bad usage through am_cli_usage_error: one message form, exit status 2. */
#ifndef ANTIMETAL_CLI_CLI_OPTS_H
#define ANTIMETAL_CLI_CLI_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum am_opt_type {
	AM_OPT_FLAG,   /* no value */
	AM_OPT_STRING, /* any value; the command checks it */
	AM_OPT_UINT,   /* a whole number from min to max (am_cli_parse_u64) */
	AM_OPT_REAL,   /* a number of units (fractions allowed) from 0 (above 0 when positive)
			  to fmax (am_cli_parse_double) */
};

/* A numeric constant as a string, for help text ("up to " AM_STR(N)). */
#define AM_STR(x)  AM_STR_(x)
#define AM_STR_(x) #x

/* Keys of options without a short letter: AM_OPT_LONG + n. */
#define AM_OPT_LONG 256

/* What the help shows after an option's text. */
enum {
	AM_OPT_HIDDEN = 1 << 0,	      /* parsed but not listed (tests, benchmarks) */
	AM_OPT_SHOW_RANGE = 1 << 1,   /* "(MIN to MAX)" */
	AM_OPT_SHOW_DEFAULT = 1 << 2, /* "(default D)": dflt, fdflt or sdflt by type */
	AM_OPT_POSITIVE = 1 << 3,     /* AM_OPT_REAL: 0 is refused */
};

struct am_opt {
	const char *name; /* long name without "--"; NULL ends the table */
	int key;	  /* short letter, or AM_OPT_LONG + n */
	enum am_opt_type type;
	const char *arg;  /* the value's name in the help ("HZ"); NULL for a flag */
	const char *help; /* lines separated by '\n' */
	unsigned flags;
	uint64_t min, max; /* AM_OPT_UINT: accepted range */
	double fmax;	   /* AM_OPT_REAL: largest accepted */
	const char *unit;  /* AM_OPT_REAL: "seconds" when NULL */
	uint64_t dflt;	   /* AM_OPT_UINT default shown */
	double fdflt;	   /* AM_OPT_REAL default shown */
	const char *sdflt; /* AM_OPT_STRING default shown */
	const char *alias; /* an older long name still accepted, not listed */
};

struct am_cmd {
	const char *name;	   /* "profile"; NULL for the program itself */
	const char *synopsis;	   /* after "usage: antimetal-agent NAME " */
	const char *about;	   /* the paragraph under the usage line, or NULL */
	const struct am_opt *opts; /* NULL-terminated; -h/--help is added */
	const char *footer;	   /* text after the options (exit statuses), or NULL */
	void (*more)(FILE *out);   /* text known only at run time (names of events), or NULL */
	bool operands;		   /* arguments other than options allowed */
};

/* A parsed value: STR as given (NULL for a flag), U for AM_OPT_UINT, F for AM_OPT_REAL. */
struct am_opt_value {
	const char *str;
	uint64_t u;
	double f;
};

/* Called for each option in command-line order; returns 0, or an exit status to stop with
 * (from am_cli_usage_error when the value is bad for the command). */
typedef int (*am_opt_set_fn)(void *ctx, const struct am_opt *opt, const struct am_opt_value *v);

/* am_cli_parse's result when --help was printed: the command exits 0. */
#define AM_CLI_HELP (-1)

/* Parse ARGV against CMD's table, calling SET for each option. Returns 0 with *FIRST the index of
 * the first operand (ARGC when none), AM_CLI_HELP after printing the help on stdout, or the exit
 * status of a usage error (unknown option, missing or bad value, an operand where the command
 * takes none, or what SET returned), its message already printed. */
int am_cli_parse(const struct am_cmd *cmd, int argc, char **argv, am_opt_set_fn set, void *ctx,
		 int *first);

/* The full help: usage line, about, the options with defaults and limits, footer, more. */
void am_cli_help(const struct am_cmd *cmd, FILE *out);

/* Bad usage, the one way: "antimetal-agent CMD: MESSAGE", CMD's usage line and a pointer to
 * --help on stderr. Returns AM_EXIT_USAGE. */
int am_cli_usage_error(const struct am_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
