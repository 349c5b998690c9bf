/* The option table (src/cli/cli_opts): one declaration gives the parser, the checks of numbers
 * against the declared limits, and the help text that prints those same limits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_opts.h"
#include "cli/commands.h"

enum { O_NUM = AM_OPT_LONG, O_SECS, O_NAME };

static const struct am_opt opts[] = {
    {.name = "flag", .key = 'f', .help = "a flag"},
    {.name = "num",
     .key = O_NUM,
     .type = AM_OPT_UINT,
     .arg = "N",
     .help = "a number",
     .flags = AM_OPT_SHOW_RANGE | AM_OPT_SHOW_DEFAULT,
     .min = 1,
     .max = 256,
     .dflt = 64},
    {.name = "secs",
     .key = 's',
     .type = AM_OPT_REAL,
     .arg = "S",
     .help = "seconds",
     .flags = AM_OPT_POSITIVE,
     .fmax = 10},
    {.name = "name",
     .key = O_NAME,
     .type = AM_OPT_STRING,
     .arg = "NAME",
     .alias = "comm",
     .help = "a name\nover two lines",
     .flags = AM_OPT_SHOW_DEFAULT,
     .sdflt = "x"},
    {.name = "secret", .key = 'z', .flags = AM_OPT_HIDDEN, .help = ""},
    {0},
};

static const struct am_cmd cmd = {
    .name = "test", .synopsis = "[OPTIONS]", .about = "About.", .opts = opts};

struct seen {
	int n;
	int keys[8];
	uint64_t u;
	double f;
	const char *s;
};

static int record(void *ctx, const struct am_opt *opt, const struct am_opt_value *v)
{
	struct seen *s = ctx;

	if (s->n < 8)
		s->keys[s->n++] = opt->key;
	if (opt->type == AM_OPT_UINT)
		s->u = v->u;
	if (opt->type == AM_OPT_REAL)
		s->f = v->f;
	if (opt->type == AM_OPT_STRING)
		s->s = v->str;
	return 0;
}

static int parse(struct seen *s, char **argv)
{
	int argc = 0, first;

	while (argv[argc])
		argc++;
	memset(s, 0, sizeof(*s));
	return am_cli_parse(&cmd, argc, argv, record, s, &first);
}

Test(cli_opts, values_arrive_converted_in_order)
{
	struct seen s;

	cr_assert_eq(
	    parse(&s, (char *[]){"t", "-f", "--num", "256", "-s0.5", "--comm", "bash", NULL}), 0);
	cr_assert_eq(s.n, 4);
	cr_assert_eq(s.keys[0], 'f');
	cr_assert_eq(s.keys[1], O_NUM);
	cr_assert_eq(s.keys[2], 's');
	cr_assert_eq(s.keys[3], O_NAME, "the alias --comm is --name");
	cr_assert_eq(s.u, 256);
	cr_assert_float_eq(s.f, 0.5, 1e-9);
	cr_assert_str_eq(s.s, "bash");
}

Test(cli_opts, numbers_outside_the_declared_limits_are_usage_errors)
{
	static const char *const bad[][2] = {
	    {"--num", "0"},  {"--num", "257"}, {"--num", "-1"}, {"--num", "+5"},
	    {"--num", " 5"}, {"--num", "5x"},  {"--num", ""},	{"--num", "18446744073709551616"},
	    {"-s", "0"},     {"-s", "-0.5"},   {"-s", "10.5"},	{"-s", "nan"},
	    {"-s", "inf"},   {"-s", "1s"},
	};
	struct seen s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(&s, (char *[]){"t", (char *)bad[i][0], (char *)bad[i][1], NULL}),
			     AM_EXIT_USAGE, "%s '%s' was accepted", bad[i][0], bad[i][1]);
		cr_assert_eq(s.n, 0, "%s '%s' reached the command", bad[i][0], bad[i][1]);
	}
	cr_assert_eq(parse(&s, (char *[]){"t", "--num", "1", "-s", "10", NULL}), 0);
}

Test(cli_opts, unknown_options_missing_values_and_operands_are_usage_errors)
{
	struct seen s;

	cr_assert_eq(parse(&s, (char *[]){"t", "--bogus", NULL}), AM_EXIT_USAGE);
	cr_assert_eq(parse(&s, (char *[]){"t", "-fq", NULL}), AM_EXIT_USAGE);
	cr_assert_eq(parse(&s, (char *[]){"t", "--num", NULL}), AM_EXIT_USAGE);
	cr_assert_eq(parse(&s, (char *[]){"t", "-s", NULL}), AM_EXIT_USAGE);
	cr_assert_eq(parse(&s, (char *[]){"t", "stray", NULL}), AM_EXIT_USAGE);
	/* a parse after one that stopped inside a cluster starts afresh */
	cr_assert_eq(parse(&s, (char *[]){"t", "-qf", NULL}), AM_EXIT_USAGE);
	cr_assert_eq(parse(&s, (char *[]){"t", "-z", NULL}), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.keys[0], 'z');
	cr_assert_eq(parse(&s, (char *[]){"t", "--help", NULL}), AM_CLI_HELP);
	cr_assert_eq(s.n, 0);
}

Test(cli_opts, help_prints_the_limits_the_parser_checks)
{
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	cr_assert_not_null(f);
	am_cli_help(&cmd, f);
	fclose(f);
	cr_assert(strstr(buf, "usage: antimetal-agent test [OPTIONS]\n\nAbout.\n"), "%s", buf);
	cr_assert(strstr(buf, "  -f, --flag"), "%s", buf);
	cr_assert(strstr(buf, "      --num N      a number (1 to 256, default 64)\n"), "%s", buf);
	cr_assert(strstr(buf, "a name\n                   over two lines (default x)\n"), "%s",
		  buf);
	cr_assert(strstr(buf, "  -h, --help       this text\n"), "%s", buf);
	cr_assert_null(strstr(buf, "secret"), "a hidden option is listed: %s", buf);
	cr_assert_null(strstr(buf, "comm"), "an alias is listed: %s", buf);
}
